#!/bin/bash
cd /work/main/benchmarks
export PYTHONPATH=/tmp/ab/e69 OPENBLAS_NUM_THREADS=1
for ds in wordnet-minilm-384-angular fashion-mnist-784-euclidean; do
  for order in natural sorted shuffled; do
    echo "== $ds $order"
    python3 recall_parity.py $ds --quant lvq4 --keep-vectors --order $order --seeds 0,1,2 --queries 2000 --ef 10,16,24,32,48,96 2>&1 | grep -v Warning
  done
done
