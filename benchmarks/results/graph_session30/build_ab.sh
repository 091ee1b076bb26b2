#!/bin/bash
# alternating processes: main (s30) vs decoded selection (d30); two builds per process
for cfg in "wordnet-minilm-384-angular lvq4 1" "wordnet-minilm-384-angular lvq8 0" "fashion-mnist-784-euclidean lvq4x4 0" "fashion-mnist-784-euclidean lvq4 1" "glove6b-50-angular lvq4 1" "glove6b-50-angular lvq8 0"; do
  for r in 1 2 3; do
    echo -n "main " ; python3 build_only.py /tmp/ab/s30 $cfg
    echo -n "new  " ; python3 build_only.py /tmp/ab/d30 $cfg
  done
done
