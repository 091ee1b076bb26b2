#!/bin/bash
# Alternates the package before (base) and after (new), three rounds.
B=/work/main/benchmarks/results/pool_session54/pool_bench.py
for r in 1 2 3; do
  for v in base new; do
    PYTHONPATH=/tmp/s54/$v python3 $B /tmp/s54/pool_${v}_$r.json > /dev/null 2>&1 || echo "fail $v $r"
  done
done
echo done
