"""How many stored copies of a vector an HNSW search finds (graph.md section 20).

Rows: 20,000 - G distinct gaussian vectors plus G vectors stored SIZE times each, in file
order (the copies of a vector in a run at the end) or shuffled. Each of the G vectors is searched
with k = SIZE and ef = max(400, SIZE); a copy counts as found when a returned row equals it.
A copy that no ef finds is unreachable in the graph.

  python benchmarks/copies_reach.py --sizes 40,100,1000 --groups 100,100,5 --libs vidx,hnswlib
"""
import argparse

import numpy as np


def rows(size, groups, order, dim, seed):
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((20000, dim)).astype(np.float32)
    x = np.concatenate([base[groups:], np.repeat(base[:groups], size, axis=0)])
    if order == "shuffled":
        x = x[rng.permutation(len(x))]
    return x, base[:groups]


def search(lib, quant, metric, x, q, k, ef, seed):
    if lib == "vidx":
        import vidx

        idx = vidx.Index(x.shape[1], kind="hnsw", metric=metric, quant=quant, M=16, ef_construction=200, threads=2,
                         seed=seed)
        idx.add(x, progress=False)
        return idx.search(q, k=k, ef=ef)[1]
    import hnswlib

    idx = hnswlib.Index(metric, x.shape[1])
    idx.init_index(len(x), M=16, ef_construction=200, random_seed=seed)
    idx.add_items(x, num_threads=2)
    idx.set_ef(ef)
    return idx.knn_query(q, k=k)[0]  # raises when it finds fewer than k


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="40,100,1000,20000", help="copies per vector, one per case")
    ap.add_argument("--groups", default="100,100,5,1", help="vectors stored that many times, one per case")
    ap.add_argument("--orders", default="natural,shuffled")
    ap.add_argument("--metrics", default="l2")
    ap.add_argument("--quants", default="f32,lvq8,f32_split", help="vidx's codecs")
    ap.add_argument("--libs", default="vidx,hnswlib")
    ap.add_argument("--dim", type=int, default=32)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    for size, groups in zip(map(int, args.sizes.split(",")), map(int, args.groups.split(","))):
        for order in args.orders.split(","):
            x, q = rows(size, groups, order, args.dim, args.seed)
            for metric in args.metrics.split(","):
                for lib in args.libs.split(","):
                    for quant in args.quants.split(",") if lib == "vidx" else ["-"]:
                        label = f"{size:6d} copies x {groups:3d}  {order:9s} {metric:6s} {lib:8s} {quant:9s}"
                        try:
                            found_rows = search(lib, quant, metric, x, q, size, max(400, size), args.seed)
                        except RuntimeError as e:
                            print(f"{label} error: {e}", flush=True)
                            continue
                        found = np.array([(x[r[r >= 0]] == v).all(axis=1).sum() for v, r in zip(q, found_rows)])
                        print(f"{label} found mean {found.mean():9.2f} ({found.mean() / size:.1%}), min {found.min()}",
                              flush=True)


if __name__ == "__main__":
    main()
