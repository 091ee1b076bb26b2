import sys, time, os, numpy as np
sys.path.insert(0, sys.argv[1])
import vidx
out = sys.argv[2]
def rec(I, gt): return np.mean([len(set(a) & set(b)) / 10 for a, b in zip(I, gt)])
for name in sys.argv[3].split(","):
    Q = np.load(f"{out}/{name}.q.npy"); GT = np.load(f"{out}/{name}.gt.npy")
    for quant in sys.argv[4].split(","):
        idx = vidx.load(f"{out}/{name}.{quant}.vidx")
        res = []
        for ef in ([None] + [int(e) for e in sys.argv[5].split(",")] if len(sys.argv) > 5 else [None]):
            best = 0
            for r in range(3):
                t = time.perf_counter()
                for i in range(len(Q)): D, I = idx.search(Q[i:i+1], 10, ef=ef)
                best = max(best, len(Q) / (time.perf_counter() - t))
            D, I = idx.search(Q, 10, ef=ef)
            res.append(f"ef={ef}: {rec(I, GT):.3f} {best:.0f}qps")
        print(os.environ.get("VIDX_WIDEN", "off"), name, quant, " | ".join(res), flush=True)
