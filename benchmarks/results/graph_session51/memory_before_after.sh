#!/usr/bin/env bash
# Peak resident memory of adds in pieces, compact() and a mapped load, with the package before the
# session ($BEFORE) and after it ($AFTER); one case a process (session 50's memory_probe.py). Its data
# folder (/tmp/review50mem/data) is emptied for each package, so each maps files it wrote (format 3
# before, 4 after).
BEFORE=${BEFORE:-/tmp/s50/mend}; AFTER=${AFTER:-/tmp/s51/new3}
here=$(dirname "$0")
for pkg in "$BEFORE" "$AFTER"; do
  rm -rf /tmp/review50mem/data
  run() { PYTHONPATH=$pkg python3 "$here/../graph_session50/memory_probe.py" "$@"; }
  for c in "flat none add1 200000" "flat none add10 200000" "flat lvq8 add10 200000" \
           "hnsw f32_split add1 50000" "hnsw f32_split add10 50000" "hnsw lvq8 add10 50000"; do
    echo "$(basename "$pkg") $(run $c)"
  done
  for c in "flat none 200000" "flat lvq8 200000" "flat lvq4x8 200000" "flat binary 200000" "hnsw f32_split 50000"; do
    set -- $c; run "$1" "$2" build "$3" > /dev/null
  done
  for c in "flat none remove_compact 200000" "flat lvq8 remove_compact 200000" "hnsw f32_split remove_compact 50000" \
           "flat lvq8 load_mmap 200000" "flat lvq4x8 load_mmap 200000" "flat binary load_mmap 200000" \
           "flat none load_mmap 200000"; do
    echo "$(basename "$pkg") $(run $c)"
  done
done
