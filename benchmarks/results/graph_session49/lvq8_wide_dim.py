# LVQ-8 rounded-query walk distances (lvq8x8's scan/walk) at very large dims: the integer sum
# of c^2 is accumulated in 32-bit SIMD lanes (isa_x86_u8.hpp), which wrap for long codes.
import numpy as np, vidx, os, sys
dim = int(sys.argv[1]) if len(sys.argv) > 1 else 2**20
kind = sys.argv[2] if len(sys.argv) > 2 else "flat"
rng = np.random.default_rng(1)
base = np.ones(dim, np.float32); base[0] = -1.0
decoys = base + 0.01 * rng.standard_normal((20, dim)).astype(np.float32)
anti = -base + 0.01 * rng.standard_normal((20, dim)).astype(np.float32)
target = rng.uniform(-1, 1, dim).astype(np.float32)
X = np.vstack([decoys, anti, target[None]])
idx = vidx.Index(dim, metric="l2", kind=kind, quant="lvq8x8")
idx.add(X)
D, I = idx.search(target, k=1)
print(f"simd={vidx.cpu_features()['lvq_active']} dim={dim} kind={kind}: top1 id {I[0,0]} (expected 40) distance {D[0,0]:.4g}",
      "OK" if I[0, 0] == 40 else "WRONG")
D, I = idx.search(target, k=1, rerank=41)
print("  with rerank=41 (every row):", I[0, 0], D[0, 0])
