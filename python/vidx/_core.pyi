"""
vidx C++ core
"""
from __future__ import annotations
import numpy
import numpy.typing
import typing
import typing_extensions
__all__: list[str] = ['Index', 'codec_names', 'cpu_features', 'index_from_bytes', 'index_read_only', 'index_to_bytes', 'load', 'option_names', 'spann_auto_head_ratio']
class Index:
    def __contains__(self, id: typing.Any) -> bool:
        """
        Whether an id is stored.
        """
    def __init__(self, kind: str, dim: typing.SupportsInt | typing.SupportsIndex, metric: str, options: dict[str, typing.Any]) -> None:
        ...
    def __len__(self) -> int:
        ...
    def _range_search_precise(self, q: typing.Any, radius: typing.Any, ef: typing.Any = None, filter: typing.Any = None) -> tuple[typing.Any, ...]:
        """
        range_search() with float64 distances (the sharded index's merge).
        """
    def _search_precise(self, q: typing.Any, k: typing.Any = 10, ef: typing.Any = None, rerank: typing.Any = None, nprobe: typing.Any = None, eps: typing.Any = None, filter: typing.Any = None) -> tuple[typing.Any, ...]:
        """
        search() with float64 distances, as exactly as the index compared them (the sharded index's merge).
        """
    @property
    def _posting_file_in_place(self) -> typing.Any:
        """
        SPANN: whether posting_path still names the file this index has open (None for other kinds).
        """
    @property
    def _row_scale(self) -> float:
        """
        What the index multiplies its rows and queries by (1 for ordinary rows).
        """
    def add(self, x: typing.Any, ids: typing.Any = None, progress: typing.Any = None, release_pages: bool = False) -> None:
        ...
    def add_region(self, path: typing.Any, offset: typing.SupportsInt | typing.SupportsIndex, rows: typing.SupportsInt | typing.SupportsIndex, row_stride: typing.SupportsInt | typing.SupportsIndex, dtype: str, ids: typing.Any = None, progress: typing.Any = None) -> None:
        ...
    def compact(self) -> None:
        """
        Gives back the memory of removed rows.
        """
    def get(self, ids: typing.Any) -> tuple[typing.Any, ...]:
        """
        (vectors, exact): the stored vectors of ids, float32 (n, dim).
        """
    def ids(self) -> numpy.typing.NDArray[numpy.int64]:
        """
        Every stored id (int64).
        """
    def memory_breakdown(self) -> dict[str, int]:
        ...
    def memory_usage(self) -> int:
        ...
    def range_search(self, q: typing.Any, radius: typing.Any, ef: typing.Any = None, filter: typing.Any = None) -> tuple[typing.Any, ...]:
        ...
    def remove(self, ids: typing.Any, *, ignore_missing: bool = False) -> int:
        """
        Removes the vectors with these ids; returns how many went. An id not in the index raises ValueError (nothing removed) unless ignore_missing.
        """
    def reset_stats(self) -> None:
        ...
    def rebuild(self, path: str | None = None, progress: typing.Any = None) -> str:
        ...
    def save(self, path: str) -> None:
        ...
    def search(self, q: typing.Any, k: typing.Any = 10, ef: typing.Any = None, rerank: typing.Any = None, nprobe: typing.Any = None, eps: typing.Any = None, filter: typing.Any = None) -> tuple[typing.Any, ...]:
        ...
    def stats(self) -> dict[str, float]:
        ...
    def upsert(self, x: typing.Any, ids: typing.Any) -> None:
        """
        Adds the vectors, replacing those whose ids are present.
        """
    @property
    def device(self) -> str:
        ...
    @property
    def dim(self) -> int:
        ...
    @property
    def direct_io(self) -> typing.Any:
        ...
    @property
    def heads(self) -> typing.Any:
        ...
    @property
    def kind(self) -> str:
        ...
    @property
    def metric(self) -> str:
        ...
    @property
    def params(self) -> dict[str, typing.Any]:
        ...
    @property
    def posting_path(self) -> typing.Any:
        ...
    @property
    def threads(self) -> int:
        ...
    @threads.setter
    def threads(self, arg1: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
def _binary_probe(name: str, metric: str, seed: typing.SupportsInt | typing.SupportsIndex, level: str, data: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], queries: typing.Annotated[numpy.typing.ArrayLike, numpy.float32]) -> dict[str, typing.Any]:
    ...
def _check_rows(x: typing.Any, dim: typing.SupportsInt | typing.SupportsIndex, metric: str, quant: str, keeps_lengths: bool = False) -> None:
    """
    Raises ValueError where add() would refuse these vectors
    """
def _check_ids(kind: str, ids: typing.Annotated[numpy.typing.ArrayLike, numpy.int64]) -> None:
    """
    Raises ValueError for an id an index of this kind cannot store, as its add() would
    """
def _check_k(k: typing.SupportsInt | typing.SupportsIndex, index_size: typing.SupportsInt | typing.SupportsIndex) -> None:
    """
    Raises ValueError where search() would refuse k for an index of index_size vectors
    """
def _keeps_lengths(kind: str, metric: str) -> bool:
    """
    Whether an index of this kind and metric keeps its cosine rows' lengths
    """
def _codec_summaries() -> list:
    """
    (name, alias, summary) of every registered codec
    """
def _cuda_available() -> tuple[bool, str]:
    """
    (available, reason): whether a usable CUDA device is present, and why not (or which one is)
    """
def _cuda_device_info(device: typing.SupportsInt | typing.SupportsIndex = 0) -> dict[str, typing.Any]:
    """
    Properties of a CUDA device (a dict)
    """
def _f16_probe(metric: str, level: str, data: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], queries: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], bound: typing.SupportsFloat | typing.SupportsIndex = ...) -> dict[str, typing.Any]:
    ...
def _fork_child() -> None:
    """
    os.fork() 'after_in_child' hook
    """
def _fork_parent() -> None:
    """
    os.fork() 'after_in_parent' hook
    """
def _fork_prepare() -> None:
    """
    os.fork() 'before' hook: waits until no other thread holds an index lock
    """
def _hamming(level: str, bits: typing.Annotated[numpy.typing.ArrayLike, numpy.uint64]) -> numpy.typing.NDArray[numpy.uint32]:
    ...
def _kernel_distances(level: str, op: str, q: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], x: typing.Annotated[numpy.typing.ArrayLike, numpy.float32]) -> tuple[typing.Any, ...]:
    ...
def _kernel_l2_bounded(level: str, q: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], x: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], bound: typing.SupportsFloat | typing.SupportsIndex, check_scales: typing.Annotated[numpy.typing.ArrayLike, numpy.float32] | None = None) -> numpy.typing.NDArray[numpy.float32]:
    ...
def _kernel_reflect(level: str, v: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], y: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], scale: typing.SupportsFloat | typing.SupportsIndex) -> numpy.typing.NDArray[numpy.float32]:
    ...
def _kmeans(x: typing.Any, k: typing.SupportsInt | typing.SupportsIndex, iters: typing.SupportsInt | typing.SupportsIndex = 25, seed: typing.SupportsInt | typing.SupportsIndex = 0, device: str = 'cpu', init: str = 'auto', threads: typing.SupportsInt | typing.SupportsIndex = 0) -> tuple[typing.Any, ...]:
    """
    k-means: returns (centroids (k, d) float32, assignment (n,) int64, inertia, iterations)
    """
def _load_cuda_flat(path: str, device: typing.SupportsInt | typing.SupportsIndex = 0, chunk_rows: typing.SupportsInt | typing.SupportsIndex = 0, max_device_rows: typing.SupportsInt | typing.SupportsIndex = 0, exact: bool = True) -> typing.Any:
    """
    A saved flat index loaded onto CUDA device `device`, as a vidx._core.Index
    """
def _lvq_probe(name: str, metric: str, level: str, data: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], queries: typing.Annotated[numpy.typing.ArrayLike, numpy.float32]) -> dict[str, typing.Any]:
    ...
def _make_cuda_flat(dim: typing.SupportsInt | typing.SupportsIndex, metric: str, options: dict[str, typing.Any], device: typing.SupportsInt | typing.SupportsIndex = 0, chunk_rows: typing.SupportsInt | typing.SupportsIndex = 0, max_device_rows: typing.SupportsInt | typing.SupportsIndex = 0, exact: bool = True) -> typing.Any:
    """
    The exact flat index on CUDA device `device`, as a vidx._core.Index; options: vidx.Index's (quant, threads; see vidx/cuda/cuda.hpp for those it refuses)
    """
def _masked_sum(level: str, q: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], bits: typing.Annotated[numpy.typing.ArrayLike, numpy.uint64]) -> numpy.typing.NDArray[numpy.float32]:
    ...
def _set_fork_wait(arg0: typing.SupportsFloat | typing.SupportsIndex) -> None:
    """
    tests: how long a fork waits for other threads' index calls (default 10 s)
    """
def _sketch_probe(metric: str, level: str, seed: typing.SupportsInt | typing.SupportsIndex, data: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], queries: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], bound: typing.SupportsFloat | typing.SupportsIndex = ...) -> dict[str, typing.Any]:
    ...
def _split_probe(metric: str, level: str, data: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], queries: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], bound: typing.SupportsFloat | typing.SupportsIndex = ...) -> dict[str, typing.Any]:
    ...
def codec_names(include_aliases: bool = False) -> list[str]:
    """
    Names of every registered codec (the quant= choices); with include_aliases their other spellings first
    """
def cpu_features() -> dict[str, typing.Any]:
    ...
def index_from_bytes(data: typing_extensions.Buffer) -> typing.Any:
    """
    An index from index_to_bytes() output; ValueError when the bytes are not a valid index.
    """
def index_read_only(index: typing.Any) -> bool:
    """
    Whether the index was loaded with mmap=True (every write raises).
    """
def index_to_bytes(index: typing.Any) -> bytes:
    """
    The index as bytes: the file save() writes (SPANN: without its posting file).
    """
def load(path: str, posting_path: str = '', direct_io: typing.SupportsInt | typing.SupportsIndex = -1, mmap: bool = False, verify: bool = False) -> Index:
    ...
def option_names(kind: str | None = None) -> list[str]:
    ...
def spann_auto_head_ratio(dim: typing.SupportsInt | typing.SupportsIndex, M: typing.SupportsInt | typing.SupportsIndex = 16) -> float:
    """
    The head ratio a SPANN index uses when head_ratio is not given.
    """
_built_with_cuda: bool = False
_max_padded_k: int = 65536
