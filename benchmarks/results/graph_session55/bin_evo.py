"""Reachability of the boilerplate copies over the adds, seed 0 (graph.md section 55). Package on PYTHONPATH."""
import numpy as np
import vidx
from h import binary_copies_index, graph, reachable, slot_ids

out = []


def report(i, idx):
    if i in (5, 10, 20, 40, 80, 120, 160, 200, 300, 400, 499):
        sid = slot_ids(idx)
        R = reachable(graph(idx))
        copies = np.flatnonzero(sid >= 100000)
        out.append(f"{i}:{len(sid)}:{np.mean([s in R for s in copies]):.2f}")


binary_copies_index(vidx, 0, after_add=report)
print(" ".join(out))
