"""Recall at equal ef, vidx HNSW against hnswlib, averaged over several seeds.

A single graph's recall at one ef moves by about 0.002 from seed to seed, as much as the
differences this compares; so both libraries are built once per seed (same M and
ef_construction, the same rows in the same order, alternating), and the means are compared.
--order gives both libraries the rows as stored (natural), grouped by cluster (sorted: what a
corpus stored by category looks like) or shuffled, each row under its original number as id, so
the dataset's ground truth applies to all three.
Recall is batch search against the dataset's ground truth, so the host's load does not enter it;
build times are quoted only as a same-run ratio.

    python benchmarks/recall_parity.py glove6b-50-angular --seeds 0,1,2 [--order sorted]
    python benchmarks/recall_parity.py fashion-mnist-784-euclidean --quant lvq8 --keep-vectors

--quant / --keep-vectors build vidx with those settings (lvq8 + kept float32 vectors: the walk
reads LVQ-8 codes, results are re-ranked in float32).
"""
import argparse
import time

import numpy as np

import vidx
from head_to_head import ORDERS
from vidx import datasets

EFS = "10,16,24,32,48"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dataset")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--queries", type=int, default=1000,
                   help="queries, spread evenly over the stored test set (datasets.spread_rows)")
    p.add_argument("--ef", default=EFS, help="comma-separated ef values")
    p.add_argument("--M", type=int, default=16)
    p.add_argument("--ef-construction", type=int, default=200)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--quant", help="vidx's quant= (default: HNSW's default, f32_split; 'f32' plain float32)")
    p.add_argument("--keep-vectors", action="store_true", help="vidx keeps float32 vectors to re-rank with")
    p.add_argument("--order", choices=sorted(ORDERS), default="natural",
                   help="row order given to both libraries (ids stay the original row numbers)")
    args = p.parse_args()
    import hnswlib

    data = datasets.load(args.dataset)
    order = ORDERS[args.order](data.train).astype(np.int64)
    train = np.ascontiguousarray(data.train[order])  # position i holds original row order[i]
    efs = [int(e) for e in args.ef.split(",")]
    picked = datasets.spread_rows(len(data.test), args.queries)  # ordered test sets: not the first rows
    queries = data.test[picked]
    truth = data.neighbors[picked, :10]
    metric = data.vidx_metric

    def recall(found):
        return float(np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth)]))

    recalls = {"vidx": [], "hnswlib": []}
    builds = {"vidx": [], "hnswlib": []}
    for seed in (int(s) for s in args.seeds.split(",")):
        start = time.perf_counter()
        index = vidx.Index(train.shape[1], metric=metric, kind="hnsw", M=args.M,
                           ef_construction=args.ef_construction, seed=seed, threads=args.threads,
                           keep_vectors=args.keep_vectors, **({"quant": args.quant} if args.quant else {}))
        index.add(train, ids=order)
        quant_used = index.params["quant"]
        builds["vidx"].append(time.perf_counter() - start)
        recalls["vidx"].append([recall(index.search(queries, 10, ef=ef)[1]) for ef in efs])
        del index
        start = time.perf_counter()
        peer = hnswlib.Index(space=metric, dim=train.shape[1])
        peer.init_index(len(train), M=args.M, ef_construction=args.ef_construction, random_seed=seed)
        peer.add_items(train, order, num_threads=args.threads)
        builds["hnswlib"].append(time.perf_counter() - start)
        found = []
        for ef in efs:
            peer.set_ef(ef)
            found.append(recall(peer.knn_query(queries, k=10, num_threads=args.threads)[0]))
        recalls["hnswlib"].append(found)
        del peer
        print(f"seed {seed}: build vidx {builds['vidx'][-1]:.1f} s, hnswlib {builds['hnswlib'][-1]:.1f} s; "
              f"recall@10 at ef {efs}: vidx {np.round(recalls['vidx'][-1], 4)}, "
              f"hnswlib {np.round(recalls['hnswlib'][-1], 4)}", flush=True)
    ours, theirs = np.mean(recalls["vidx"], 0), np.mean(recalls["hnswlib"], 0)
    print(f"{data.name} ({args.order} order, vidx quant={quant_used}"
          f"{' + float32 re-rank' if args.keep_vectors else ''}), mean over seeds {args.seeds}:")
    for ef, a, b in zip(efs, ours, theirs):
        print(f"  ef {ef:3d}: vidx {a:.4f}  hnswlib {b:.4f}  difference {a - b:+.4f}")
    ratio = np.median(builds["vidx"]) / np.median(builds["hnswlib"])
    print(f"  build, median: vidx {np.median(builds['vidx']):.1f} s, hnswlib {np.median(builds['hnswlib']):.1f} s "
          f"({ratio:.2f}x)")


if __name__ == "__main__":
    main()
