"""Runs small_adds.py configurations in one process. sweep.py out.jsonl"""
import os, sys, subprocess, itertools, json, runpy
cfgs = []
for quant, metrics in [("f32", ["l2", "ip", "cosine"]), ("lvq4x8", ["l2", "ip", "cosine"]), ("binary", ["l2", "cosine"]),
                       ("f32_split", ["l2", "ip"]), ("rabitq", ["l2"])]:
    for metric in metrics:
        for M in (2, 8):
            cfgs.append((quant, metric, M, 0, "docs"))
            for size in (2, 7, 64, 65):
                cfgs.append((quant, metric, M, size, "sorted"))
            for size in (3, 64):
                cfgs.append((quant, metric, M, size, "rand"))
for c in cfgs:
    sys.argv = ["small_adds.py"] + [str(v) for v in c]
    runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), "small_adds.py"), run_name="__main__")
