#!/bin/bash
# Alternating processes, old and new package: buildtime.sh OLD_PKG NEW_PKG ROUNDS
cd "$(dirname "$0")"
for case in tight chunks mixture; do
  old=(); new=()
  for r in $(seq $3); do
    old+=($(PYTHONPATH=$1 python3 buildtime.py $case)); new+=($(PYTHONPATH=$2 python3 buildtime.py $case))
  done
  echo "$case old ${old[*]} | new ${new[*]}"
done
