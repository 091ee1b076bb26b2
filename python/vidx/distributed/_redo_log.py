"""The writes each shard acknowledged since the last save, so a shard restarted from its saved
file can replay them. Kept in the driver's memory, or also appended to a file per shard
(`directory`), so a new driver can replay them after ShardedIndex.load.

A record is appended after its shard acknowledged the write and before the call returns, so the
log holds exactly the acknowledged writes. On disk each record is framed as
[8-byte length][4-byte crc32][pickle of (op, ids, vectors)]; a torn or corrupt tail (a crash
mid-append) ends the replay there."""
from __future__ import annotations

import os
import pickle
import struct
import zlib

import numpy as np

from .._json_file import read_checked, write_atomic

_HEADER = struct.Struct("<QI")
_CENTROIDS_FORMAT = "vidx.sharded.centroids/1"


class RedoLog:
    """mode: "memory" (ids and vectors kept in the driver), "ids" (only which ids were written:
    enough to report what a crash lost, not to replay it) or a directory path (memory + disk)."""

    def __init__(self, shards, mode="memory"):
        if mode not in ("memory", "ids") and not isinstance(mode, (str, os.PathLike)):
            raise TypeError(f"wal must be 'memory', 'ids' or a directory path, got {mode!r}")
        self.replayable = mode != "ids"
        self.directory = None if mode in ("memory", "ids") else os.fspath(mode)
        if self.directory:
            os.makedirs(self.directory, exist_ok=True)
        self.records = [[] for _ in range(shards)]
        self.centroids = None  # routing centroids trained since the last save (read_directory)

    def _file(self, shard):
        return os.path.join(self.directory, f"shard-{shard:05d}.log")

    def _centroids_file(self):
        return os.path.join(self.directory, "centroids.json")

    def note_centroids(self, centroids):
        """Centroids trained after the last save (the first add of a centroid-routed index): a new
        driver replaying this log must route as the one that wrote it. Written atomically, before
        any write they route is sent, as the manifest keeps them (a JSON list)."""
        if self.directory:
            write_atomic(self._centroids_file(), {"format": _CENTROIDS_FORMAT,
                                                  "centroids": np.asarray(centroids, np.float32).tolist()})

    def append(self, shard, op, ids, X=None):
        ids = np.array(ids, dtype=np.int64, copy=True)
        X = None if X is None or not self.replayable else np.array(X, dtype=np.float32, copy=True)
        record = (op, ids, X)
        self.records[shard].append(record)
        if self.directory:
            payload = pickle.dumps(record, protocol=5)
            with open(self._file(shard), "ab") as f:
                f.write(_HEADER.pack(len(payload), zlib.crc32(payload)) + payload)
                f.flush()
                os.fsync(f.fileno())

    def clear(self):
        """After a save: the saved files hold every write so far (and the manifest the centroids)."""
        for shard, records in enumerate(self.records):
            records.clear()
            if self.directory and os.path.exists(self._file(shard)):
                os.remove(self._file(shard))
        if self.directory and os.path.exists(self._centroids_file()):
            os.remove(self._centroids_file())

    def read_directory(self):
        """Reloads the records (and centroids trained since the save) from disk (a new driver
        after load)."""
        for shard in range(len(self.records)):
            self.records[shard] = list(_read_records(self._file(shard)))
        if os.path.exists(self._centroids_file()):
            saved = read_checked(self._centroids_file(), _CENTROIDS_FORMAT, "no centroids")
            self.centroids = np.asarray(saved["centroids"], np.float32)

    def lost_writes(self, shard):
        """What a restart without replay loses: {"added": ids, "upserted": ids, "removed": ids}."""
        lost = {"add": [], "upsert": [], "remove": []}
        for op, ids, _ in self.records[shard]:
            lost[op].append(ids)
        return {name: np.concatenate(parts) if parts else np.zeros(0, np.int64)
                for name, parts in (("added", lost["add"]), ("upserted", lost["upsert"]),
                                    ("removed", lost["remove"]))}


def _read_records(path):
    if not os.path.exists(path):
        return
    with open(path, "rb") as f:
        data = f.read()
    at = 0
    while at + _HEADER.size <= len(data):
        length, crc = _HEADER.unpack_from(data, at)
        payload = data[at + _HEADER.size: at + _HEADER.size + length]
        if len(payload) < length or zlib.crc32(payload) != crc:
            return  # torn tail: the write was never acknowledged
        yield pickle.loads(payload)
        at += _HEADER.size + length
