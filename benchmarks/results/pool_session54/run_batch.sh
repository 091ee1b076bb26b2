#!/bin/bash
# ABBA blocks: before, after, after, before (eight of each). $1: the after package's folder under
# /tmp/s54 (new: 1b70e66's crew; new3: after the review).
B=/work/main/benchmarks/results/pool_session54/batch_only.py
AFTER=${1:-new}
for r in 1 2 3 4 5 6 7 8; do
  for v in base $AFTER $AFTER base; do
    echo "$v $(PYTHONPATH=/tmp/s54/$v python3 $B /tmp/s54/g100k.vidx)"
  done
done
