"""Links into and within the boilerplate copy groups, seed 0 (graph.md section 55). Package on PYTHONPATH."""
import numpy as np
import vidx
from h import binary_copies_index, graph, reachable, slot_ids

idx, _ = binary_copies_index(vidx, 0)
sid = slot_ids(idx)
G = graph(idx)
R = reachable(G)
copy = sid >= 100000
group = np.flatnonzero(copy)
indegree = np.zeros(len(sid), int)
for s, l in enumerate(G["l0"]):
    indegree[l] += 1
print("copies", len(group), "reachable", np.mean([s in R for s in group]).round(3), "other rows reachable",
      np.mean([s in R for s in np.flatnonzero(~copy)]).round(3))
print("links other->copy", sum(int(copy[l].sum()) for s, l in enumerate(G["l0"]) if not copy[s]),
      "copy->other", sum(int((~copy[l]).sum()) for s, l in enumerate(G["l0"]) if copy[s]),
      "copy->copy", sum(int(copy[l].sum()) for s, l in enumerate(G["l0"]) if copy[s]))
print("copies with in-degree 0:", int((indegree[group] == 0).sum()), "median in-degree", np.median(indegree[group]))
