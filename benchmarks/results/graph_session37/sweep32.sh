export PYTHONPATH=/tmp/ab/main OPENBLAS_NUM_THREADS=1
cd /work/main
for s in glove6b-50-angular gauss-200k-32-euclidean gauss-200k-24-euclidean powerlaw-200k-128-euclidean; do
  ef=16,24,32,48,64,96,128,192,256,384
  ix=""
  for q in lvq8 lvq4x4; do for m in 16 24 32; do ix="$ix,/tmp/cdeg/$s-$q-M$m.vidx"; done; done
  echo "== $s"
  python3 benchmarks/saved_sweep.py $s ${ix#,} --hnswlib /tmp/cdeg/$s-hnswlib.bin --ef $ef --rounds 3 --targets 0.90,0.95,0.97,0.99
done
