#!/bin/bash
# buildtime.sh OLD NEW ROUNDS FEED...: alternating processes (old first in odd rounds, new first in even)
old=$1; new=$2; rounds=$3; shift 3
for feed in "$@"; do for r in $(seq $rounds); do
  if [ $((r % 2)) = 1 ]; then a=$old; b=$new; else a=$new; b=$old; fi
  for p in $a $b; do echo "$(basename $p) $(PYTHONPATH=$p python3 /tmp/s55/buildtime.py $feed)"; done
done; done
