"""Writes vidx-bench results in ann-benchmarks' per-run HDF5 layout, so its plotting scripts
(``plot.py``, ``create_website.py``) read them next to their own runs.

Layout, as ann-benchmarks' ``results.py`` stores it: one file per (algorithm, build arguments,
query arguments) at ``DIR/{dataset}/{count}/{algorithm}[-batch]/{arguments}.hdf5``, where
``{arguments}`` is the JSON of build + query arguments with every run of non-word characters
replaced by ``_``. Each file holds ``times`` (q,) float32 seconds per query, ``neighbors`` (q,
count) int32 ids (-1 padded) and ``distances`` (q, count) float32 in ann-benchmarks' convention
(L2, or 1 - cosine), plus the attributes its plots read (algo, name, dataset, distance, count,
batch_mode, best_search_time, build_time, index_size in kB, candidates, run_count, expect_extra).
``DIR`` plays the role of ann-benchmarks' ``results/`` folder.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from .. import datasets


def run_file(out_dir: Path, dataset: str, count: int, algorithm: str, arguments: list, batch: bool) -> Path:
    name = re.sub(r"\W+", "_", json.dumps(arguments, sort_keys=True)).strip("_")
    return Path(out_dir) / dataset / str(count) / (algorithm + ("-batch" if batch else "")) / f"{name}.hdf5"


def export(results: dict, dataset: datasets.Dataset, out_dir, log=print) -> list[Path]:
    """One file per result row and mode (single-thread, batch); rows need ``_answers``
    (BenchConfig(keep_answers=True)). Returns the files written."""
    import h5py  # only needed here

    if dataset.path is None or dataset.name != Path(dataset.path).stem:
        log(f"NOTE: {dataset.name} is not a whole ann-benchmarks dataset; ann-benchmarks' plots "
            f"need its file under that name (use --full on a real dataset to compare with them)")
    written = []
    for row in results["rows"]:
        answers = row.get("_answers")
        if answers is None:
            continue
        k = row["k"]
        build_args = [dataset.metric, {"M": row["params"]["M"], "efConstruction": row["params"]["ef_construction"]}]
        every_row = np.arange(len(answers["batch_ids"]))
        # best_search_time: the best run's mean time a query, as ann-benchmarks' run_individual_query
        # reports it (its plots read QPS as 1 / best_search_time); "times": one timed pass's laps.
        modes = ((False, answers["single_ids"], answers["single_rows"], answers["single_times"],
                  answers["single_best_time_per_query"]),
                 (True, answers["batch_ids"], every_row,
                  np.full(len(answers["batch_ids"]), answers["batch_time_per_query"]),
                  answers["batch_time_per_query"]))
        for batch, ids, rows, times, best_time in modes:
            ids = np.asarray(ids, dtype=np.int64)[:, :k]
            dist = _true_distances_blocked(dataset, rows, ids)
            path = run_file(out_dir, dataset.name, k, row["algorithm"], build_args + [row["ef"]], batch)
            path.parent.mkdir(parents=True, exist_ok=True)
            with h5py.File(path, "w") as f:
                f.attrs.update({
                    "algo": row["algorithm"], "dataset": dataset.name, "distance": dataset.metric,
                    "count": k, "batch_mode": batch, "run_count": results["config"]["runs"],
                    "name": f"{row['algorithm']}(M={row['params']['M']}, "
                            f"efC={row['params']['ef_construction']}, ef={row['ef']})",
                    "best_search_time": float(best_time), "build_time": float(row["build_s"]),
                    "index_size": float(row["memory_bytes"] or 0) / 1024.0,
                    "candidates": float(k), "expect_extra": False,
                })
                f.create_dataset("times", data=np.asarray(times, dtype=np.float32))
                f.create_dataset("neighbors", data=np.where(ids >= 0, ids, -1).astype(np.int32))
                f.create_dataset("distances", data=dist.astype(np.float32))
            written.append(path)
    log(f"ann-benchmarks results: {len(written)} files under {out_dir}")
    return written


def _true_distances_blocked(dataset, rows, ids, block=1000):
    """datasets.true_distances of the rows the runner searched, a block of queries at a time: at
    once it holds (queries, k, dim) float64 (3.7 GiB for fashion-mnist's 10,000 queries at k=30)."""
    out = np.empty(ids.shape, dtype=np.float64)
    for start in range(0, len(ids), block):
        stop = min(start + block, len(ids))
        out[start:stop] = datasets.true_distances(dataset.train, dataset.test[rows[start:stop]], ids[start:stop],
                                                  dataset.metric)
    return out


def strip_answers(results: dict) -> None:
    """Drop the per-query arrays from the rows (they are not part of the JSON results)."""
    for row in results["rows"]:
        row.pop("_answers", None)
