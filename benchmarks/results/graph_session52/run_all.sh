#!/bin/bash
# Each measurement with the package before the change and after it: run_all.sh OLD_PKG NEW_PKG
set -e
cd "$(dirname "$0")"
OLD=$1; NEW=$2
for tag in old new; do
  pkg=$OLD; [ $tag = new ] && pkg=$NEW
  export PYTHONPATH=$pkg
  { python3 tight.py 400 12 64 10,16,32,64; python3 tight.py 400 16 200 10,16,32; python3 tight.py 160 12 64 10,16,32; } > tight_$tag.txt
  python3 tight_codecs.py > tight_codecs_$tag.txt
  { python3 mix.py 1000; python3 mix.py 4000; } > mixture_$tag.txt
  { python3 chunks.py 0.1; python3 chunks.py 0.2; } > chunks_$tag.txt
  { python3 same.py; python3 same2.py; } > same_$tag.txt
  python3 oneadd.py > oneadd_$tag.txt
done
