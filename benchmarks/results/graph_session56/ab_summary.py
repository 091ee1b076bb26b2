"""Recall differences of ab_codecs.py's lines between two packages. python ab_summary.py FILE OLD NEW"""
import json
import sys

path, old, new = sys.argv[1], sys.argv[2], sys.argv[3]
runs = {}
for line in open(path):
    r = json.loads(line)
    runs[(r["pkg"], r["quant"], r["set"], r["order"])] = r
per_quant = {}
for (pkg, quant, name, order), r in sorted(runs.items()):
    other = runs.get((new, quant, name, order))
    if pkg != old or not other:
        continue
    before = list(r["recall"].values())
    diff = [b - a for a, b in zip(before, other["recall"].values())]
    per_quant.setdefault(quant, []).extend(diff)
    print(f"{quant:9s} {name[:10]:10s} {order:9s} {old} " + " ".join(f"{v:.4f}" for v in before) + f"  {new}-{old} "
          + " ".join(f"{v:+.4f}" for v in diff) + f"  build {r['build']:.1f} -> {other['build']:.1f} s")
for quant, diffs in per_quant.items():
    print(f"{quant}: {len(diffs)} (set, order, ef) points, {new}-{old} from {min(diffs):+.4f} to {max(diffs):+.4f}")
