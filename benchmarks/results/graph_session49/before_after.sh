#!/bin/bash
# Each repro of this folder with the session's starting package (BASE) and its final one (NEW):
#   BASE=/tmp/ab49/main NEW=/tmp/ab49/new2 bash before_after.sh > before_after.txt 2>&1
cd "$(dirname "$0")"
for v in BASE NEW; do
  pkg=${!v}
  echo "===== $v ($pkg)"
  run() { echo "--- $*"; PYTHONPATH=$pkg timeout 300 python3 "$@" 2>&1 | tail -${TAIL:-4}; }
  run search_beside_removes.py hnsw remove 10
  run search_beside_one_by_one_removes.py hnsw
  run search_beside_one_by_one_removes.py flat
  run flat_retry_filters.py identity_mask 10
  run flat_retry_filters.py sparse_list 10
  TAIL=12 run lvq_far_centre.py
  VIDX_SIMD=avx2 run lvq8_wide_dim.py 600000
  run lvq8_wide_dim.py 600000
  run ef_construction_memory.py 200000000 2
  run read_buffer_memory.py 1000000000000
  run read_buffer_memory.py 3000000000
  run verify_spann_posting.py
  run kmeans_scale.py
  run relearn_cost.py 1536 lvq4 flat
done
