"""SPANN lists scored in probe order (not in the order their reads finish): what it costs a query.
Builds glove6b-50's first ROWS rows (natural order, cosine) once per QUANT with the package on
PYTHONPATH, saves it, then times single-query searches (one thread) and 2-thread batches at
nprobe 16 / 32 / 64 with package A and package B in alternating subprocesses, ROUNDS rounds.
    python spann_read_order_ab.py PACKAGE_A PACKAGE_B QUANT ROWS ROUNDS"""
import json, os, subprocess, sys, tempfile

import numpy as np

# The glove prelude the previous session's scripts share.
HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "graph_session45")
TIMER = r'''
import json, sys, time
import numpy as np
sys.path.insert(0, HERE)
import vidx
from glove_prefix import glove_prefix, recall_at_10
X, Q, truth = glove_prefix(ROWS, 500)
idx = vidx.load(PATH)
out = {}
for nprobe in (16, 32, 64):
    idx.threads = 1
    I = idx.search(Q, 10, nprobe=nprobe)[1]
    t = time.perf_counter()
    for q in Q:
        idx.search(q, 10, nprobe=nprobe)
    single = (time.perf_counter() - t) / len(Q) * 1e3
    idx.threads = 2
    t = time.perf_counter()
    idx.search(Q, 10, nprobe=nprobe)
    batch = len(Q) / (time.perf_counter() - t)
    out[nprobe] = dict(recall=recall_at_10(I, truth), single_ms=single, batch_qps=batch)
print(json.dumps(out))
'''


def run(package, code):
    env = dict(os.environ, PYTHONPATH=package)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout


def main():
    a, b, quant, rows, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    path = os.path.join(tempfile.mkdtemp(), "glove.vidx")
    build = (f"import sys; sys.path.insert(0, {HERE!r}); import vidx; from glove_prefix import glove_prefix\n"
             f"X, _, _ = glove_prefix({rows}, 1)\n"
             f"idx = vidx.Index(50, 'cosine', kind='spann', path={path!r} + '.post', quant={quant!r})\n"
             f"idx.add(X, progress=False); idx.save({path!r})")
    run(b, build)
    code = TIMER.replace("HERE", repr(HERE)).replace("ROWS", str(rows)).replace("PATH", repr(path))
    runs = {"A": [], "B": []}
    for r in range(rounds):
        for name, package in (("A", a), ("B", b)) if r % 2 == 0 else (("B", b), ("A", a)):
            runs[name].append(json.loads(run(package, code)))
    print(f"{quant}, glove6b-50 first {rows} rows, {rounds} alternating rounds; A = {a}, B = {b}")
    for nprobe in ("16", "32", "64"):
        ra = [x[nprobe]["recall"] for x in runs["A"]]
        rb = [x[nprobe]["recall"] for x in runs["B"]]
        ratio_single = [y[nprobe]["single_ms"] / x[nprobe]["single_ms"] for x, y in zip(runs["A"], runs["B"])]
        ratio_batch = [y[nprobe]["batch_qps"] / x[nprobe]["batch_qps"] for x, y in zip(runs["A"], runs["B"])]
        print(f"nprobe {nprobe}: recall A {np.median(ra):.4f} B {np.median(rb):.4f}; single-query latency "
              f"A {np.median([x[nprobe]['single_ms'] for x in runs['A']]):.3f} ms B "
              f"{np.median([x[nprobe]['single_ms'] for x in runs['B']]):.3f} ms (B/A per round, median "
              f"{np.median(ratio_single):.3f}); 2-thread batch QPS B/A median {np.median(ratio_batch):.3f}")


if __name__ == "__main__":
    main()
