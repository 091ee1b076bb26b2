#!/bin/bash
# ABBA pairs: before, after, after, before (five of each).
B=/work/main/benchmarks/results/pool_session54/spann_only.py
for r in 1 2 3 4 5; do
  for v in base new new base; do
    echo "$v $(PYTHONPATH=/tmp/s54/$v python3 $B /tmp/s54/spann100k)"
  done
done
