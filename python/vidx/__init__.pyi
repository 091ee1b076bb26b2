# Type stub of the public vidx API (python/vidx/__init__.py). Keep it in step with that file:
# tests/test_typing.py runs mypy --strict on examples/typed_usage.py through this stub and
# checks that every name in vidx.__all__ is declared here.
import os
from typing import Any, Callable, Iterator, Literal

import numpy as np
import numpy.typing as npt

from . import bench as bench
from . import datasets as datasets
from .gpu import KMeansResult

__version__: str
__all__: list[str]

Metric = Literal["l2", "ip", "cosine"]
Kind = Literal["hnsw", "flat", "spann"]
Quant = Literal["none", "f32", "f32_pca", "f32_split", "f32_sketch", "f16", "lvq8", "lvq4", "lvq4x4", "lvq4x8", "lvq8x8", "binary", "binary_rot", "rabitq"]
Device = Literal["cpu", "cuda"] | str  # "cuda:N" too
PathLike = str | os.PathLike[str]
# An (n, dim) or (dim,) array-like of numbers; add() also takes the path of an .fvecs, .bvecs,
# .npy or .hdf5 file.
Vectors = npt.ArrayLike
Progress = bool | Callable[[str, int, int], object] | None
class IdSet:
    def __init__(self, ids: npt.ArrayLike) -> None: ...
    def __len__(self) -> int: ...
    def __contains__(self, id_: object) -> bool: ...
    def __iter__(self) -> Iterator[int]: ...
    def __array__(self, dtype: Any = None, copy: bool | None = None) -> npt.NDArray[np.int64]: ...

# search(filter=): allowed ids (1-d integers or a prepared IdSet), a boolean mask indexed by id,
# or one per query.
OneFilter = npt.NDArray[np.integer[Any]] | npt.NDArray[np.bool_] | list[int] | IdSet
Filter = OneFilter | list[OneFilter | None] | None

class Index:
    # Every kind is this one class; options of another kind raise ValueError at run time.
    def __init__(
        self,
        dim: int,
        metric: Metric = "l2",
        kind: Kind = "hnsw",
        device: Device = "cpu",
        *,
        M: int = ...,
        ef_construction: int = ...,
        ef_search: int = ...,
        seed: int = ...,
        threads: int = ...,
        quant: Quant = ...,
        rerank: int = ...,
        keep_vectors: bool = ...,
        path: PathLike = ...,
        head_ratio: float | None = ...,
        replicas: int = ...,
        candidates: int = ...,
        rng_factor: float = ...,
        posting_limit: int = ...,
        branch: int = ...,
        kmeans_iters: int = ...,
        nprobe: int = ...,
        eps: float = ...,
        direct_io: bool = ...,
        io_threads: int = ...,
        memory_budget: int = ...,
        sample: int = ...,
        read_buffer: int = ...,
        rebuild_growth: float = ...,
        chunk_rows: int | None = ...,
        max_device_rows: int | None = ...,
        exact: bool = ...,
    ) -> None: ...
    def add(
        self,
        X: Vectors | PathLike,
        ids: npt.ArrayLike | None = None,
        *,
        progress: Progress = None,
        dataset: str | None = None,
    ) -> None: ...
    def search(
        self,
        Q: Vectors,
        k: int = 10,
        ef: int | None = None,
        rerank: int | None = None,
        nprobe: int | None = None,
        eps: float | None = None,
        *,
        filter: Filter = None,
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]: ...
    def remove(self, ids: npt.ArrayLike, *, ignore_missing: bool = False) -> int: ...
    def upsert(self, X: Vectors, ids: npt.ArrayLike) -> None: ...
    def get(self, ids: npt.ArrayLike) -> tuple[npt.NDArray[np.float32], bool]: ...
    def __contains__(self, id: object) -> bool: ...
    def ids(self) -> npt.NDArray[np.int64]: ...
    def compact(self) -> None: ...
    def range_search(
        self,
        Q: Vectors,
        radius: float,
        ef: int | None = None,
        filter: Filter = None,
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32], npt.NDArray[np.int64]]: ...
    def rebuild(self, path: PathLike | None = None, *, progress: Progress = None) -> str: ...
    def save(self, path: PathLike) -> None: ...
    def memory_usage(self) -> int: ...
    def memory_breakdown(self) -> dict[str, int]: ...
    def stats(self) -> dict[str, Any]: ...
    def reset_stats(self) -> None: ...
    def __len__(self) -> int: ...
    @property
    def dim(self) -> int: ...
    @property
    def metric(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def device(self) -> str: ...
    @property
    def threads(self) -> int: ...
    @threads.setter
    def threads(self, value: int) -> None: ...
    @property
    def params(self) -> dict[str, Any]: ...
    @property
    def posting_path(self) -> str | None: ...
    @property
    def heads(self) -> int | None: ...
    @property
    def direct_io(self) -> bool | None: ...
    # persistence in memory
    def to_bytes(self) -> bytes: ...
    @property
    def read_only(self) -> bool: ...
    def __reduce__(self) -> tuple[Any, ...]: ...
    def __copy__(self) -> Index: ...
    def __deepcopy__(self, memo: dict[int, Any]) -> Index: ...

def load(
    path: PathLike,
    posting_path: PathLike | None = None,
    direct_io: bool | None = None,
    device: Device = "cpu",
    *,
    mmap: bool = False,
    verify: bool | None = None,
) -> Index: ...
def from_bytes(data: bytes | bytearray | memoryview) -> Index: ...
def verify(path: PathLike) -> None: ...
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
