import json, sys, collections
rows = [json.loads(l) for f in sys.argv[1:] for l in open(f)]
agg = collections.defaultdict(list)
for r in rows:
    agg[(r['quant'], r['metric'], r['M'], r['size'], r['kind'], r['pkg'])].append(r)
keys = sorted({k[:5] for k in agg})
import numpy as np
for k in keys:
    out = []
    for p in ("base", "first", "landed"):
        rs = agg.get(k + (p,), [])
        if not rs: continue
        out.append("%s r10 %.4f r32 %.4f reach %.4f dups %d (n=%d)" % (p, np.mean([r['recall']['10'] for r in rs]), np.mean([r['recall']['32'] for r in rs]),
                   np.mean([r['reach'] for r in rs]), sum(r['dups'] for r in rs), len(rs)))
    print(k, " | ".join(out))
