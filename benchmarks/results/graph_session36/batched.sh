export PYTHONPATH=/tmp/ab/widen OPENBLAS_NUM_THREADS=1
cd /work/main/benchmarks/results/graph_session36
python3 batched_build.py glove6b-50-angular 20000 /tmp/cdeg/batched
python3 batched_build.py gauss-200k-32-euclidean 20000 /tmp/cdeg/batched
cd /work/main
for s in glove6b-50-angular gauss-200k-32-euclidean; do
  echo "== $s"
  python3 benchmarks/saved_sweep.py $s /tmp/cdeg/batched/$s-b20000-M16.vidx,/tmp/cdeg/batched/$s-b20000-M0.vidx,/tmp/cdeg/batched/$s-b20000-M24.vidx --hnswlib /tmp/cdeg/$s-hnswlib.bin --ef 16,24,32,48,64,96,128,192,256 --rounds 3 --targets 0.90,0.95,0.97,0.99
done
