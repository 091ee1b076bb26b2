#!/bin/bash
# Every recall figure of graph.md section 53 for one package: run_all.sh PKG TAG (writes *_TAG.txt).
cd "$(dirname "$0")"
SHUF=1 PYTHONPATH=$1 python3 exp.py docs docs2 tight mix > feeds_$2.txt
PYTHONPATH=$1 python3 ckpt.py > ckpt_$2.txt
PYTHONPATH=$1 python3 perdoc.py 20 > perdoc_$2.txt
PYTHONPATH=$1 python3 perdoc.py 200 >> perdoc_$2.txt
