# HNSW fed in adds of CHUNK rows, cluster-sorted or shuffled: recall@10 at equal ef (helper-35's setup).
import sys; import os; sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import load, orders, build, evalr
name, n, chunk, quant = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
X, Q, gt, lab = load(name, n)
o = orders(X, lab)
efs = [16, 32, 64, 128]
for order in sys.argv[5].split(","):
    for seed in (0, 1):
        idx, secs = build(X, o[order], chunk, metric='cosine' if name != 'fashion' else 'l2', quant=quant, seed=seed)
        r = evalr(idx, Q, gt, 'ef', efs)
        print(f"{name} {quant} adds of {chunk} {order:6s} seed {seed} build {secs:5.1f}s " + " ".join(f"ef{e} {v:.4f}" for e, v in r.items()), flush=True)
