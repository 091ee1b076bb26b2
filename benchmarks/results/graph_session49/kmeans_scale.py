# vidx.kmeans accepts finite float32 data whose squared distances overflow/underflow float32 and silently returns garbage.
import numpy as np, vidx
from collections import Counter
rng=np.random.default_rng(1); C=rng.standard_normal((5,16))*3; lab=rng.integers(0,5,2000)
X=(C[lab]+0.3*rng.standard_normal((2000,16))).astype(np.float32)
pur=lambda a: sum(Counter(lab[a==c]).most_common(1)[0][1] for c in np.unique(a))/len(a)
for s in [1,1e19,1e-22,1e-30]:
    r=vidx.kmeans(X*s,5); print(f"scale {s:g}: inertia {r.inertia:.3g}, clusters used {len(np.unique(r.assignment))}, purity {pur(r.assignment):.3f}")
