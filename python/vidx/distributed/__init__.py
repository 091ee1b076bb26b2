"""vidx on a Ray cluster: ShardedIndex (one vidx.Index per shard actor), and batch jobs over
Ray Datasets. Needs Ray: pip install "vidx[ray]"."""
try:
    import ray  # noqa: F401
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError('vidx.distributed needs Ray: pip install "vidx[ray]"') from e

from .batch import build_from_dataset, search_dataset
from .sharded_index import ShardedIndex

__all__ = ["ShardedIndex", "build_from_dataset", "search_dataset"]
