"""SPANN recall@10 on short rows under "ip" (and float16 codes under "l2"), for the package on
PYTHONPATH (run it once with the session's start, once with its end).

    PYTHONPATH=<package> python spann_short_rows.py [--rows 20000]

Rows: 32-d Gaussians, and glove6b-50's first 100,000 rows (unit length, from the vidx cache),
each at length factors 1, 2^-10, 2^-20 and 2^-26; queries: 200 rows near stored ones (Gaussian)
or glove's own test queries; exact neighbours by float64 inner products (or squared L2)."""
import argparse
import os
import tempfile
import time

import h5py
import numpy as np

import vidx


def exact(x, q, metric, k=10):
    x64, q64 = x.astype(np.float64), q.astype(np.float64)
    d = -(q64 @ x64.T) if metric == "ip" else (q64 ** 2).sum(1)[:, None] - 2 * q64 @ x64.T + (x64 ** 2).sum(1)[None]
    return np.argsort(d, axis=1, kind="stable")[:, :k]


def recall(found, truth):
    return float(np.mean([len(set(a) & set(b)) / len(b) for a, b in zip(found.tolist(), truth.tolist())]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=20000)
    ap.add_argument("--nprobe", type=int, default=32)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    gauss = rng.standard_normal((args.rows, 32)).astype(np.float32)
    gauss_q = (gauss[:200] + 0.05 * rng.standard_normal((200, 32))).astype(np.float32)
    with h5py.File(os.path.expanduser("~/.cache/vidx/glove6b-50-angular.hdf5"), "r") as f:
        glove = np.asarray(f["train"][:100_000], np.float32)
        glove_q = np.asarray(f["test"][:200], np.float32)
    glove /= np.linalg.norm(glove, axis=1, keepdims=True)
    glove_q /= np.linalg.norm(glove_q, axis=1, keepdims=True)
    sets = {"gauss32": (gauss, gauss_q), "glove100k": (glove, glove_q)}
    cases = [("ip", q) for q in ("none", "lvq8", "lvq4x8", "binary")] + [("l2", "f16")]
    print(f"vidx from {os.path.dirname(vidx.__file__)}; nprobe {args.nprobe}")
    print("| set | metric | quant | " + " | ".join(f"x{s:g}" for s in (1, 2**-10, 2**-20, 2**-26)) + " | build s (x1 / x2^-20) |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, (x, q) in sets.items():
            for metric, quant in cases:
                truth = exact(x, q, metric)
                cells, times = [], []
                for scale in (1.0, 2.0 ** -10, 2.0 ** -20, 2.0 ** -26):
                    s = np.float32(scale)
                    index = vidx.Index(x.shape[1], metric, kind="spann", quant=quant,
                                       path=os.path.join(tmp, f"{name}{metric}{quant}{scale}.post"))
                    t0 = time.perf_counter()
                    index.add(x * s, progress=False)
                    times.append(time.perf_counter() - t0)
                    cells.append(recall(index.search(q * s, 10, nprobe=args.nprobe)[1], truth))
                    del index
                print(f"| {name} | {metric} | {quant} | " + " | ".join(f"{c:.3f}" for c in cells) +
                      f" | {times[0]:.2f} / {times[2]:.2f} |", flush=True)


if __name__ == "__main__":
    main()
