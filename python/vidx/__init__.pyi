# Type stub of the public vidx API (python/vidx/__init__.py). Keep it in step with that file:
# tests/test_typing.py runs mypy --strict on examples/typed_usage.py through this stub and
# checks that every name in vidx.__all__ is declared here.
import os
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from . import bench as bench
from . import datasets as datasets
from .gpu import KMeansResult

__version__: str
__all__: list[str]

Metric = Literal["l2", "ip", "cosine"]
Kind = Literal["hnsw", "flat", "spann"]
Quant = Literal["none", "f16", "lvq8", "lvq4", "lvq4x4", "lvq4x8", "lvq8x8", "binary", "binary_rot", "rabitq"]
Device = Literal["cpu", "cuda"]
PathLike = str | os.PathLike[str]
# An (n, dim) or (dim,) array-like of numbers; for kind="spann", add() also takes a file path.
Vectors = npt.ArrayLike

class Index:
    def __init__(
        self,
        dim: int,
        metric: Metric = "l2",
        kind: Kind = "hnsw",
        M: int = 16,
        ef_construction: int = 200,
        ef_search: int = 64,
        seed: int = 0,
        threads: int = 0,
        quant: Quant = "none",
        rerank: int = 0,
        keep_vectors: bool = False,
        device: Device = "cpu",
        path: PathLike | None = None,
        **options: Any,
    ) -> None: ...
    def add(self, X: Vectors | PathLike, ids: npt.ArrayLike | None = None) -> None: ...
    def search(
        self,
        Q: Vectors,
        k: int = 10,
        ef: int | None = None,
        rerank: int | None = None,
        **options: Any,
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]: ...
    def save(self, path: PathLike) -> None: ...
    def memory_usage(self) -> int: ...
    def memory_breakdown(self) -> dict[str, int]: ...
    def __len__(self) -> int: ...
    @property
    def dim(self) -> int: ...
    @property
    def metric(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def threads(self) -> int: ...
    @threads.setter
    def threads(self, value: int) -> None: ...
    @property
    def params(self) -> dict[str, Any]: ...

def load(path: PathLike, **options: Any) -> Index: ...
def cpu_features() -> dict[str, Any]: ...
def cmake_dir() -> str: ...
def cuda_available() -> bool: ...
def kmeans(
    X: Vectors,
    k: int,
    iters: int = 25,
    seed: int = 0,
    device: str = "cpu",
    *,
    init: str = "auto",
    threads: int = 0,
) -> KMeansResult: ...
