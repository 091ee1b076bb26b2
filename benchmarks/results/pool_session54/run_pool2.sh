#!/bin/bash
# Rounds 4-6, the order reversed (after, then before).
B=/work/main/benchmarks/results/pool_session54/pool_bench.py
for r in 4 5 6; do
  for v in new base; do
    PYTHONPATH=/tmp/s54/$v python3 $B /tmp/s54/pool_${v}_$r.json > /dev/null 2>&1 || echo "fail $v $r"
  done
done
echo done
