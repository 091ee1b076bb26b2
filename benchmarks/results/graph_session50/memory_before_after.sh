#!/bin/bash
# Peak resident memory of a load, from_bytes, to_bytes, copy and pickle round trip, with the
# session's starting package (BEFORE) and its final one (AFTER), one fresh process per case.
# The indexes come from `memory_probe.py KIND QUANT build` (200,000 x 128 Gaussian rows, into
# /tmp/review50mem/data). memory_probe.py and memory_copy_pickle.py were written by the session's
# memory review (a helper); peak = VmHWM after /proc/self/clear_refs minus VmRSS before the call.
BEFORE=${BEFORE:-/tmp/s50/pkg}; AFTER=${AFTER:-/tmp/s50/exp}
here=$(cd "$(dirname "$0")" && pwd)
for case in "flat default load" "flat lvq8 load" "flat lvq4x8 load" "flat binary load" "hnsw default load" \
            "hnsw lvq8 load" "hnsw lvq4x8 load" "spann default load" "flat default from_bytes" "hnsw default from_bytes" \
            "flat default to_bytes" "hnsw default to_bytes"; do
  for pkg in BEFORE AFTER; do
    PYTHONPATH=${!pkg} python3 "$here/memory_probe.py" $case | python3 -c "
import json, sys; d = json.loads(sys.stdin.read())
print(f\"$pkg  {d['kind']:6s} {d['quant']:8s} {d['op']:10s} peak {d['peak_delta_MB']:7.1f} MB   index {d['mem_usage_MB']:6.1f} MB\")"
  done
done
for op in copy pickle_dumps pickle_loads; do
  for pkg in BEFORE AFTER; do
    echo -n "$pkg  "; PYTHONPATH=${!pkg} python3 "$here/memory_copy_pickle.py" flat default $op
  done
done
