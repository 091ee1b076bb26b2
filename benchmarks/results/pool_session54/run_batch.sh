#!/bin/bash
# ABBA pairs: before, after, after, before, ... (ten of each)
B=/work/main/benchmarks/results/pool_session54/batch_only.py
for r in 1 2 3 4 5 6 7 8; do
  for v in base new new base; do
    echo "$v $(PYTHONPATH=/tmp/s54/$v python3 $B /tmp/s54/g100k.vidx)"
  done
done
