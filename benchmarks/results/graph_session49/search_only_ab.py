"""Search-only A/B of saved indexes (ab_hot_paths.py child search), variants alternating in order
then reversed: python search_only_ab.py ROUNDS main,new [quant]; packages under /tmp/ab49/<variant>/vidx,
each folder holding the ab-<quant>.vidx index that ab_hot_paths.py built."""
import json, subprocess, sys, numpy as np
import os
S = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ab_hot_paths.py")
vs = sys.argv[2].split(","); quant = sys.argv[3] if len(sys.argv) > 3 else "lvq8x8"
res = {v: [] for v in vs}
for r in range(int(sys.argv[1])):
    order = vs if r % 2 == 0 else vs[::-1]
    for v in order:
        out = subprocess.run([sys.executable, S, "child", f"/tmp/ab49/{v}", "search", "100000", quant], capture_output=True, text=True).stdout
        res[v].append(json.loads(out.strip().splitlines()[-1])["single_qps"])
for v in res: print(v, [round(x) for x in res[v]], "median", round(float(np.median(res[v]))))
