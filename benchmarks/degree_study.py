"""Which M (graph degree) pays on which data: the sets, builds and intrinsic-dimension estimates of
graph.md section 35. The speed itself is read by saved_sweep.py from the saved graphs.

    python benchmarks/degree_study.py make                 # the study's sets, into the dataset cache
    python benchmarks/degree_study.py lid glove6b-50-angular gauss-200k-24-euclidean
    python benchmarks/degree_study.py build glove6b-50-angular --M 16,24 --out /tmp/degree
    python benchmarks/saved_sweep.py glove6b-50-angular /tmp/degree/glove6b-50-angular-M16.vidx,\\
        /tmp/degree/glove6b-50-angular-M24.vidx --hnswlib /tmp/degree/glove6b-50-angular-hnswlib.bin \\
        --ef 10,16,24,32,48,64,96,128,192,256 --rounds 3 --targets 0.90,0.95,0.97,0.99

`make` writes, with exact top-100 ground truth for 1000 queries each (the synthetic sets' queries
are fresh draws; the derived sets' are the first 1000 of their source's test rows, except glove100k's,
spread over glove's test set):
  gauss-200k-{8,16,24,32}-euclidean   isotropic Gaussian: intrinsic dimension = dimension, hard
  uniform-200k-{4,8}-euclidean        the unit cube: low-dimensional and easy
  powerlaw-200k-128-euclidean         Gaussian whose i-th axis has variance 1/i
  glove100k-50-angular                100,000 of glove6b-50's rows, in their file order
  {fashion,wordnet}-pca{32,64,128,256}-{euclidean,angular}
                                      the real sets on their leading principal components: real
                                      neighbourhoods at fewer dimensions
The derived sets need fashion-mnist, wordnet-minilm and glove6b-50 in the cache first.

`lid` prints the maximum-likelihood local intrinsic dimension (Levina and Bickel) of each set's
rows: for 1000 rows drawn with a fixed seed, -1 / mean(log(r_j / r_k)) over their k = 20 nearest
other rows in the whole set (cosine sets normalised first), and the median over the rows. It is
scale-dependent: estimated on a sample of a set instead of all its rows it moves by up to 35%.

`build` saves vidx graphs at each --M (ef_construction 200, 2 threads, the file's row order) and
an hnswlib M=16 graph of the same rows, and prints the build times (s) and vidx's memory (MiB).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # see head_to_head.py

import numpy as np  # noqa: E402

from make_clustered_1m import cache_folder, exact_l2  # noqa: E402

QUERIES = 1000


def write_set(name, train, test, metric):
    """An ann-benchmarks file in the cache: exact neighbours by L2 on the stored rows, or on the
    normalised rows for "angular" (the same order as cosine's; distances then 1 - cos)."""
    import h5py
    train = np.ascontiguousarray(train, np.float32)
    test = np.ascontiguousarray(test, np.float32)
    unit = (lambda a: a / np.linalg.norm(a, axis=1, keepdims=True)) if metric == "angular" else (lambda a: a)
    ids, dist = exact_l2(unit(train), unit(test))
    if metric == "angular":
        dist = (dist.astype(np.float64) ** 2 / 2).astype(np.float32)
    path = cache_folder() / f"{name}.hdf5"
    tmp = path.with_suffix(".tmp.hdf5")
    with h5py.File(tmp, "w") as f:
        f.attrs["distance"] = metric
        f.attrs["dimension"] = train.shape[1]
        f.attrs["point_type"] = "float"
        f["train"], f["test"], f["neighbors"], f["distances"] = train, test, ids, dist
    os.replace(tmp, path)
    print(f"{name} {train.shape}", flush=True)


def read_set(name):
    import h5py
    with h5py.File(cache_folder() / f"{name}.hdf5") as f:
        return f["train"][:], f["test"][:], f.attrs["distance"]


def make_synthetic():
    # Two generators, in the order the measured files were drawn (section 35), so that `make`
    # writes those very rows.
    n = 200_000
    rng = np.random.default_rng(35)
    for d in (16, 24, 32):
        x = rng.standard_normal((n + QUERIES, d)).astype(np.float32)
        write_set(f"gauss-200k-{d}-euclidean", x[:n], x[n:], "euclidean")
    x = rng.standard_normal((n + QUERIES, 128)).astype(np.float32) * (1.0 / np.sqrt(np.arange(1, 129)))[None].astype(np.float32)
    write_set("powerlaw-200k-128-euclidean", x[:n], x[n:], "euclidean")
    glove_rows = rng  # the glove subset's draw continues this generator
    rng = np.random.default_rng(351)
    for d in (4, 8):
        x = rng.random((n + QUERIES, d), dtype=np.float32)
        write_set(f"uniform-200k-{d}-euclidean", x[:n], x[n:], "euclidean")
    x = rng.standard_normal((n + QUERIES, 8)).astype(np.float32)
    write_set("gauss-200k-8-euclidean", x[:n], x[n:], "euclidean")
    return glove_rows


def make_derived(rng):
    train, test, metric = read_set("glove6b-50-angular")
    rows = np.sort(rng.choice(len(train), 100_000, replace=False))  # the file's order kept
    write_set("glove100k-50-angular", train[rows], test[(np.arange(QUERIES) * len(test)) // QUERIES], metric)
    for source in ("fashion-mnist-784-euclidean", "wordnet-minilm-384-angular"):
        train, test, metric = read_set(source)
        train, test = train.astype(np.float64), test[:QUERIES].astype(np.float64)
        if metric == "angular":
            train /= np.linalg.norm(train, axis=1, keepdims=True)
            test /= np.linalg.norm(test, axis=1, keepdims=True)
        mean = train.mean(0)
        axes = np.linalg.svd(train - mean, full_matrices=False)[2]
        # L2 sets are centred; cosine sets are not, since centring changes their angles.
        shift = mean if metric == "euclidean" else 0.0
        for d in (32, 64, 128, 256):
            basis = axes[:d].T
            write_set(f"{source.split('-')[0]}-pca{d}-{metric}", (train - shift) @ basis, (test - shift) @ basis, metric)


def intrinsic_dimension(train, metric, rows=QUERIES, k=20, seed=0):
    x = train.astype(np.float32)
    if metric == "angular":
        x /= np.linalg.norm(x, axis=1, keepdims=True)
    picked = np.random.default_rng(seed).choice(len(x), rows, replace=False)
    norms = np.einsum("ij,ij->i", x, x)
    estimates = []
    for s in range(0, rows, 250):
        block = picked[s:s + 250]
        d2 = norms[block, None] - 2 * x[block] @ x.T + norms[None]
        d2[np.arange(len(block)), block] = np.inf
        d2[d2 <= 1e-12] = np.inf  # duplicates carry no scale
        near = np.sort(np.partition(d2, k, axis=1)[:, :k], axis=1)
        estimates.append(-1.0 / np.mean(0.5 * np.log(near[:, :-1] / near[:, -1:]), axis=1))
    return float(np.median(np.concatenate(estimates)))


def build(name, degrees, quant, out):
    import hnswlib
    import vidx
    train, _, distance = read_set(name)
    metric = "l2" if distance == "euclidean" else "cosine"
    os.makedirs(out, exist_ok=True)
    tag = f"-{quant}" if quant else ""
    report = {}
    for m in degrees:
        index = vidx.Index(train.shape[1], metric=metric, M=m, ef_construction=200, threads=2,
                           **({"quant": quant} if quant else {}))
        start = time.perf_counter()
        index.add(train)
        report[f"vidx M={m} build_s"] = round(time.perf_counter() - start, 2)
        report[f"vidx M={m} MiB"] = round(index.memory_usage() / 2**20, 2)
        index.save(os.path.join(out, f"{name}{tag}-M{m}.vidx"))
    peer_path = os.path.join(out, f"{name}-hnswlib.bin")
    if not os.path.exists(peer_path):
        peer = hnswlib.Index(metric, train.shape[1])
        peer.init_index(len(train), 16, 200)
        peer.set_num_threads(2)
        start = time.perf_counter()
        peer.add_items(train)
        report["hnswlib M=16 build_s"] = round(time.perf_counter() - start, 2)
        peer.save_index(peer_path)
    print(name, json.dumps(report), flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    make = sub.add_parser("make", help="write the study's sets into the dataset cache")
    make.add_argument("--synthetic-only", action="store_true", help="skip the sets derived from the real ones")
    lid = sub.add_parser("lid", help="local intrinsic dimension of cached sets")
    lid.add_argument("names", nargs="+")
    b = sub.add_parser("build", help="save vidx graphs at several M and an hnswlib M=16 graph")
    b.add_argument("name")
    b.add_argument("--M", default="16,24", help="comma list of degrees")
    b.add_argument("--quant", default=None, help="vidx's quant (default: the index's default)")
    b.add_argument("--out", default="/tmp/degree")
    args = p.parse_args(argv)
    if args.command == "make":
        glove_rows = make_synthetic()
        if not args.synthetic_only:
            make_derived(glove_rows)
    elif args.command == "lid":
        for name in args.names:
            train, _, distance = read_set(name)
            print(f"{name} {train.shape}: {intrinsic_dimension(train, distance):.1f}", flush=True)
    else:
        build(args.name, [int(m) for m in args.M.split(",")], args.quant, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
