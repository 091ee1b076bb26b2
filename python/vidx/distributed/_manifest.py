"""The manifest of a saved ShardedIndex: one JSON file beside the shard files, written last and
atomically, so a reader sees either the previous save or this one, never a mix."""
from __future__ import annotations

import os

import vidx

from .._json_file import read_checked, write_atomic

FORMAT = "vidx.sharded/1"
NAME = "manifest.json"


def local_path(uri):
    """A shared folder: a path or a file:// URI (every node must see it at the same path)."""
    uri = os.fspath(uri)
    if not isinstance(uri, str):  # bytes failed below on str.startswith's own TypeError
        raise TypeError(f"uri must be a str or os.PathLike, got {type(uri).__name__}")
    if uri.startswith("file://"):
        return uri[len("file://"):]
    if "://" in uri:
        raise ValueError(f"unsupported uri {uri!r}: give a shared filesystem path or file:// URI")
    return uri


def shard_file(folder, shard, generation):
    return os.path.join(folder, f"shard-{shard:05d}-g{generation}.vidx")


def write(folder, manifest):
    import ray
    manifest = {"format": FORMAT, "vidx_version": vidx.__version__, "ray_version": ray.__version__,
                **manifest}
    write_atomic(os.path.join(folder, NAME), manifest, indent=1)


_KEYS = ("generation", "dim", "metric", "kind", "shards", "routing", "options", "placed_by_key", "next_id",
         "centroids", "files")


def read(folder):
    """The manifest, with every key a load reads and one shard file per shard (OSError naming
    what is missing: a KeyError, or a shard silently empty, before)."""
    path = os.path.join(folder, NAME)
    m = read_checked(path, FORMAT, "no manifest (not a saved ShardedIndex)")
    missing = [key for key in _KEYS if key not in m]
    if missing:
        raise OSError(f"{path}: not a complete ShardedIndex manifest (missing {', '.join(missing)})")
    if not isinstance(m["files"], list) or len(m["files"]) != m["shards"]:
        count = len(m["files"]) if isinstance(m["files"], list) else "no list of"
        raise OSError(f"{path}: names {count} shard files for {m['shards']} shards")
    return m


def remove_other_generations(folder, generation):
    """Deletes shard files of earlier saves once the new manifest is in place."""
    keep = f"-g{generation}."
    for name in os.listdir(folder):
        if name.startswith("shard-") and keep not in name:
            try:
                os.remove(os.path.join(folder, name))
            except OSError:
                pass  # best effort: a stale file costs only disk space


def remove_generation(folder, generation):
    """Deletes the shard files (and SPANN posting files beside them) of a save whose manifest
    was never written."""
    mark = f"-g{generation}."
    for name in os.listdir(folder):
        if name.startswith("shard-") and mark in name:
            try:
                os.remove(os.path.join(folder, name))
            except OSError:
                pass  # best effort, as remove_other_generations


def relative(entry, folder):
    out = dict(entry)
    for key in ("file", "posting"):
        if out.get(key):
            out[key] = os.path.relpath(out[key], folder)
    return out


def absolute(entry, folder):
    out = dict(entry)
    for key in ("file", "posting"):
        if out.get(key):
            out[key] = os.path.join(folder, out[key])
    return out
