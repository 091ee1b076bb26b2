"""The public vidx API under a type checker: `mypy --strict examples/typed_usage.py` passes
(tests/test_typing.py runs it). Also a runnable tour: python examples/typed_usage.py"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import numpy.typing as npt

import vidx


def build(data: npt.NDArray[np.float32], quant: vidx.Quant = "none") -> vidx.Index:
    index = vidx.Index(dim=data.shape[1], metric="l2", kind="hnsw", M=12, ef_construction=64,
                       quant=quant, seed=1, threads=0)
    index.add(data, ids=np.arange(len(data), dtype=np.int64) * 2)
    return index


def recall(found: npt.NDArray[np.int64], truth: npt.NDArray[np.int64]) -> float:
    hits = sum(len(set(row.tolist()) & set(t.tolist())) for row, t in zip(found, truth))
    return hits / truth.size


def main() -> None:
    data: vidx.datasets.Dataset = vidx.datasets.make_clustered(3000, 24, n_queries=50, n_clusters=8, k=10)
    exact = vidx.Index(dim=data.dim, metric="l2", kind="flat")
    exact.add(data.train, ids=np.arange(len(data.train), dtype=np.int64) * 2)
    _, truth = exact.search(data.test, k=10)

    index = build(data.train)
    distances, ids = index.search(data.test, k=10, ef=48)
    assert distances.dtype == np.float32 and ids.dtype == np.int64
    print(f"{index!r}: recall@10 {recall(ids, truth):.3f}, {index.memory_usage()} bytes")

    compressed = build(data.train, quant="lvq4x8")
    _, ids = compressed.search(data.test, k=10, ef=48, rerank=40)
    parts: dict[str, int] = compressed.memory_breakdown()
    print(f"lvq4x8: recall@10 {recall(ids, truth):.3f}, codes {parts.get('codes', 0)} bytes")

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "index.vidx"
        index.save(path)
        loaded: vidx.Index = vidx.load(path)
        size: int = len(loaded)
        dim: int = loaded.dim
        metric: str = loaded.metric
        print(f"loaded {size} x {dim} ({metric}, {loaded.kind}), params {sorted(loaded.params)}")
    loaded.threads = 1

    features = vidx.cpu_features()
    print(f"vidx {vidx.__version__}, SIMD {features['active']}, cuda {vidx.cuda_available()}, "
          f"cmake dir {vidx.cmake_dir()}")
    names: list[str] = vidx.datasets.available()
    print(f"cached datasets: {names}")


if __name__ == "__main__":
    main()
