export PYTHONPATH=/tmp/ab/main OPENBLAS_NUM_THREADS=1
cd /work/main
for s in glove6b-50-angular gauss-200k-32-euclidean gauss-200k-24-euclidean powerlaw-200k-128-euclidean; do
  for q in lvq8 lvq4x4; do
    python3 benchmarks/degree_study.py build $s --M 32 --quant $q --out /tmp/cdeg
  done
done
