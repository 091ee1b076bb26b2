#!/bin/bash
# Alternating processes, old and new package: buildtime.sh OLD_PKG NEW_PKG ROUNDS [CASES...]
# (default cases: tight chunks mixture; session 53 ran tight chunks perdoc mixture)
cd "$(dirname "$0")"
cases=("${@:4}")
[ ${#cases[@]} -eq 0 ] && cases=(tight chunks mixture)
for case in "${cases[@]}"; do
  old=(); new=()
  for r in $(seq $3); do
    old+=($(PYTHONPATH=$1 python3 buildtime.py $case)); new+=($(PYTHONPATH=$2 python3 buildtime.py $case))
  done
  echo "$case old ${old[*]} | new ${new[*]}"
done
