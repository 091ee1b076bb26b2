#!/bin/bash
# Alternates the package before (base) and after (new) over three rounds; as run:
#   run_pool.sh "1 2 3" "base new"   (rounds 1-3, before first)
#   run_pool.sh "4 5 6" "new base"   (rounds 4-6, after first)
B=/work/main/benchmarks/results/pool_session54/pool_bench.py
for r in $1; do
  for v in $2; do
    PYTHONPATH=/tmp/s54/$v python3 $B /tmp/s54/pool_${v}_$r.json > /dev/null 2>&1 || echo "fail $v $r"
  done
done
echo done
