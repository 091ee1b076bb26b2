export PYTHONPATH=/tmp/ab/main OPENBLAS_NUM_THREADS=1
cd /work/main
for s in glove6b-50-angular gauss-200k-24-euclidean powerlaw-200k-128-euclidean wordnet-minilm-384-angular fashion-mnist-784-euclidean gauss-200k-32-euclidean; do
  for q in lvq4x4 lvq8; do
    python3 benchmarks/degree_study.py build $s --M 16,24 --quant $q --out /tmp/cdeg
  done
done
export PYTHONPATH=/tmp/ab/main OPENBLAS_NUM_THREADS=1
cd /work/main
for s in glove6b-50-angular gauss-200k-24-euclidean powerlaw-200k-128-euclidean gauss-200k-32-euclidean wordnet-minilm-384-angular fashion-mnist-784-euclidean; do
  case $s in glove*|gauss*|power*) ef=16,24,32,48,64,96,128,192,256,384;; *) ef=10,16,24,32,48,64,96,128;; esac
  ix=""
  for q in lvq4x4 lvq8; do for m in 16 24; do ix="$ix,/tmp/cdeg/$s-$q-M$m.vidx"; done; done
  echo "== $s"
  python3 benchmarks/saved_sweep.py $s ${ix#,} --hnswlib /tmp/cdeg/$s-hnswlib.bin --ef $ef --rounds 3 --targets 0.90,0.95,0.97,0.99
done
export PYTHONPATH=/tmp/ab/main OPENBLAS_NUM_THREADS=1
cd /work/main
s=glove100k-50-angular
for q in lvq4 binary rabitq lvq4x8 f16; do
  python3 benchmarks/degree_study.py build $s --M 16,24 --quant $q --out /tmp/cdeg
done
ix=""
for q in lvq4 binary rabitq lvq4x8 f16; do for m in 16 24; do ix="$ix,/tmp/cdeg/$s-$q-M$m.vidx"; done; done
python3 benchmarks/saved_sweep.py $s ${ix#,} --hnswlib /tmp/cdeg/$s-hnswlib.bin --ef 16,24,32,48,64,96,128,192,256 --rounds 3 --targets 0.80,0.90,0.95,0.97
export PYTHONPATH=/tmp/ab/main OPENBLAS_NUM_THREADS=1
cd /work/main
python3 benchmarks/head_to_head.py glove6b-50-angular --algorithms vidx:lvq8@16,vidx:lvq8@24,vidx:lvq4x4@16,vidx:lvq4x4@24,hnswlib --ef 32,48,64,96,128,192,256 --batch --build-rounds 1 --rounds 3 --json /tmp/cdeg/h2h_glove_lvq.json
