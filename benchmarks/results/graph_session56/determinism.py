"""Session 55's review sweep, kept: the same seed gives the same index bytes (options aside) and the same answers at
1, 2 and 3 threads, and no list holds its node or a node twice, over 147 configurations (7 quants, three metrics,
M = 2 and 8, four feeds of 32-d documents of chunks). python determinism.py   (PYTHONPATH = the package)"""
import hashlib
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tests"))
import vidx  # noqa: E402
from conftest import hnsw_graph  # noqa: E402
from test_corruption import section_table  # noqa: E402
from test_row_order import documents_of_chunks  # noqa: E402


def graph_hash(data):
    sections = section_table(data)[0]
    return hashlib.md5(b"".join(data[o:o + n] for _, tag, _, o, n in sections
                                if tag.to_bytes(4, "little") != b"OPTS")).hexdigest()[:10]


def lists_with_repeats(idx):
    g = hnsw_graph(idx)
    lists = list(enumerate(g["l0"])) + [(slot, linked) for (_, slot), linked in g["upper"].items()]
    return [(slot, linked.tolist()) for slot, linked in lists
            if slot in linked.tolist() or len(set(linked.tolist())) != len(linked)]


x, document, q = documents_of_chunks(3, documents=250)
documents = np.split(np.arange(len(document)), np.flatnonzero(np.diff(document)) + 1)


def feed(idx, kind):
    if kind == "docs":  # a document a call
        for rows in documents:
            idx.add(x[rows], ids=rows, progress=False)
    elif kind == "twice":  # every document added twice (copies), the second time under new ids
        for rows in documents:
            idx.add(x[rows], ids=rows, progress=False)
            idx.add(x[rows], ids=rows + 100000, progress=False)
    elif kind == "self2":  # each add holds a document and its copy
        for rows in documents:
            idx.add(np.concatenate([x[rows], x[rows]]), ids=np.concatenate([rows, rows + 100000]), progress=False)
    elif kind == "sizes":  # adds of 2, 64 and 65 rows among others
        start = 0
        for size in [2, 64, 65, 3, 2, 64, 65, 17] * 100:
            if start >= len(x):
                break
            rows = np.arange(start, min(len(x), start + size))
            idx.add(x[rows], ids=rows, progress=False)
            start += size


for quant in [None, "f32", "lvq8", "lvq4x8", "rabitq", "binary", "f16"]:
    for metric in ["l2", "ip", "cosine"]:
        for M in [2, 8]:
            for kind in ["docs", "twice", "self2", "sizes"]:
                if M == 2 and kind == "sizes":
                    continue
                hashes, answers, repeats = [], [], None
                for threads in (1, 2, 3):
                    options = dict(M=M, ef_construction=40, seed=1, threads=threads)
                    if quant:
                        options["quant"] = quant
                    idx = vidx.Index(x.shape[1], metric, **options)
                    feed(idx, kind)
                    hashes.append(graph_hash(idx.to_bytes()))
                    answers.append(idx.search(q[:100], k=10, ef=20)[1].tobytes())
                    if threads == 1:
                        repeats = lists_with_repeats(idx)
                print(f"{quant} {metric} M={M} {kind}".ljust(35) + f" bytes={len(set(hashes)) == 1} "
                      f"answers={len(set(answers)) == 1} lists_with_repeats={len(repeats)}", flush=True)
