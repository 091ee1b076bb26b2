"""Why near-duplicate siblings all survive f32_split's IP pruning: the owner scores a sibling against
its float query (one side truncated), the heuristic compares two siblings head to head (both sides
truncated towards zero), which reads them farther apart. Fraction of sibling pairs the plain rule
(margin 1 under ip/cosine) would prune: d(s1, s2) < d(a, s2)."""
import numpy as np
def trunc(v):
    u = v.astype(np.float32).view(np.uint32) & np.uint32(0xFFFF0000)
    return u.view(np.float32)
rng = np.random.default_rng(0); dim = 32
pruned_t, pruned_x = [], []
for _ in range(2000):
    b = rng.standard_normal(dim)
    g = b + 1e-3 * rng.standard_normal((3, dim)); g /= np.linalg.norm(g, axis=1, keepdims=True)
    a, s1, s2 = g.astype(np.float32)
    pruned_t.append((1 - trunc(s1) @ trunc(s2)) < (1 - a @ trunc(s2)))
    pruned_x.append((1 - s1 @ s2) < (1 - a @ s2))
print("pairs pruned: heads (f32_split) %.3f, exact f32 %.3f" % (np.mean(pruned_t), np.mean(pruned_x)))
