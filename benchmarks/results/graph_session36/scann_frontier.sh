export PYTHONPATH=/tmp/ab/new OPENBLAS_NUM_THREADS=1
cd /work/main
python3 benchmarks/scann_frontier.py glove6b-50-angular --hnswlib /tmp/cdeg/glove6b-50-angular-hnswlib.bin --vidx /tmp/cdeg/glove6b-50-angular-lvq8-M24.vidx,/tmp/cdeg/glove6b-50-angular-lvq8-M16.vidx,/tmp/cdeg/glove6b-50-angular-lvq4x4-M24.vidx --vidx-ef 48,64,96,128,192,256 --leaves 1000,1500 --search 24,32,48,64,96,128,160 --reorder 60,80,120,160,250 --threshold 0.3 --batch
