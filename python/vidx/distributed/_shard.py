"""One shard: a vidx.Index inside a Ray actor (the class is plain Python; ShardedIndex wraps it
with ray.remote). Everything it returns is numpy arrays or small dicts, cheap to ship."""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile

import numpy as np

import vidx

from .._capabilities import require
from ._inputs import keeps_files


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_file(path, sha256):
    actual = file_sha256(path)
    if actual != sha256:
        raise OSError(f"{path}: checksum mismatch (manifest {sha256[:12]}..., file {actual[:12]}...)")


def local_file_options(options, shard):
    """A kind that keeps files (SPANN's posting file) keeps them on the actor's node: `path`
    given -> one file per shard beside it; no path -> a private folder in the node's temporary
    directory."""
    options = dict(options)
    path = options.get("path")
    if path is None:
        options["path"] = os.path.join(tempfile.mkdtemp(prefix=f"vidx-shard{shard}-"), "postings.bin")
    else:
        root, ext = os.path.splitext(os.fspath(path))
        options["path"] = f"{root}.shard{shard}{ext or '.bin'}"
    return options


class ShardWorker:
    """Holds shard `shard`'s index: a new, empty one until restore() loads a saved file."""

    def __init__(self, shard, dim, metric, kind, options):
        self.shard = shard
        if keeps_files(kind):
            options = local_file_options(options, shard)
        self.kind = kind
        self.options = options
        self.index = vidx.Index(dim, metric=metric, kind=kind, **options)

    def restore(self, entry):
        """Loads a saved shard: entry is its manifest entry ({"file", "sha256", "posting",
        "posting_sha256"} with absolute paths); checksums are verified first (OSError)."""
        verify_file(entry["file"], entry["sha256"])
        posting = None
        if entry.get("posting"):
            verify_file(entry["posting"], entry["posting_sha256"])
            posting = self.options["path"]  # copy the posting file to this node before opening it
            os.makedirs(os.path.dirname(posting), exist_ok=True)
            if os.path.exists(posting):
                # Another index (the one that was saved, still open) may be using that file: a
                # copy over it truncated its lists under it. This copy gets a folder of its own.
                folder = tempfile.mkdtemp(prefix=f"vidx-shard{self.shard}-", dir=os.path.dirname(posting))
                posting = os.path.join(folder, os.path.basename(posting))
            shutil.copyfile(entry["posting"], posting)
        self.index = vidx.load(entry["file"], posting_path=posting)
        return len(self.index)

    # ---- writes ------------------------------------------------------------------------
    def add(self, X, ids):
        self._dropping_a_left_file(lambda: self.index.add(X, ids))
        return len(ids)

    def upsert(self, X, ids):
        require("upsert")
        self._dropping_a_left_file(lambda: self.index.upsert(X, ids))
        return len(ids)

    def remove(self, ids, ignore_missing=False):
        require("remove")
        return int(self.index.remove(ids, ignore_missing=ignore_missing))

    def rebuild(self):
        """SPANN: re-clusters this shard's stored vectors (vidx.Index.rebuild); returns its posting
        file. An empty shard has nothing to re-cluster and is left as it is. The file it used
        before is deleted (_dropping_a_left_file)."""
        if len(self.index) == 0:
            return self.index.posting_path
        self._dropping_a_left_file(lambda: self.index.rebuild(progress=False))
        return self.index.posting_path

    def _dropping_a_left_file(self, write):
        """Runs `write` (an add or upsert, whose growth may rebuild a SPANN index, or a rebuild)
        and deletes the posting file the index left for a new one. After a save the index names
        its file in the saved state, so a rebuild goes beside it instead of over it; but a shard's
        saves name the copies in the save folder (save() below), never the shard's own file, so
        nothing else reads the file left (a pickle or copy of `self.index` taken outside this
        class would: none is). Unless another index's build has replaced it at that path, before
        the write (the rebuild then went beside it, and the file there is the other's) or during
        it (the file there is no longer the one the index had open)."""
        old = self.index.posting_path
        ours = old is not None and self.index._impl._posting_file_in_place
        try:
            had = os.stat(old) if ours else None
        except FileNotFoundError:  # an index not built yet
            had = None
        write()
        if had is not None and self.index.posting_path != old:
            try:
                now = os.stat(old)
            except FileNotFoundError:
                return
            if (now.st_dev, now.st_ino) != (had.st_dev, had.st_ino):
                return
            for stale in (old, old + ".gen"):  # a format 2 posting file's generation stamp
                try:
                    os.remove(stale)
                except FileNotFoundError:
                    pass

    # ---- reads -------------------------------------------------------------------------
    def search(self, Q, k, filter, params):
        if filter is not None:
            require("search", "filter")
            params = {**params, "filter": filter}
        held = len(self.index)
        if held == 0:  # an empty shard answers nothing rather than refusing
            return (np.full((len(Q), k), np.inf, np.float32), np.full((len(Q), k), -1, np.int64))
        # float64 distances from a shard of short "ip" rows: in float32 they all read 1.0, and
        # the merge could not rank one shard's answers against another's (recall 0.36 on 3 shards).
        if k <= held:
            return self.index._search_for_merge(Q, k, **params)
        # The sharded index's k is checked against all of its rows (past 65,536 one index refuses
        # a k beyond its own): a shard holding fewer answers with what it has, padded.
        D, I = self.index._search_for_merge(Q, held, **params)
        pad = k - held
        return (np.concatenate([D, np.full((len(Q), pad), np.inf, D.dtype)], axis=1),
                np.concatenate([I, np.full((len(Q), pad), -1, np.int64)], axis=1))

    def range_search(self, Q, radius, filter, params):
        require("range_search")
        if filter is not None:
            params = {**params, "filter": filter}
        return self.index._range_search_for_merge(Q, radius, **params)  # float64 where rows are scaled

    def get(self, ids):
        require("get")
        return self.index.get(ids)

    def contains(self, ids):
        """Which of `ids` this shard holds (bool array)."""
        require("ids")
        return np.isin(np.asarray(ids, np.int64), self.index.ids())

    def ids(self):
        require("ids")
        return self.index.ids()

    def size(self):
        return len(self.index)

    # ---- files -------------------------------------------------------------------------
    def save(self, file):
        """Writes the index to `file` (and SPANN's posting file beside it); returns the manifest
        entry with checksums."""
        self.index.save(file)
        entry = {"file": file, "sha256": file_sha256(file), "bytes": os.path.getsize(file),
                 "rows": len(self.index)}
        posting = self.index.posting_path
        if posting:
            copy = os.path.splitext(file)[0] + ".postings"
            shutil.copyfile(posting, copy)
            entry.update(posting=copy, posting_sha256=file_sha256(copy))
        return entry

    def node(self):
        """(host, pid): where the shard lives (for tests and diagnostics)."""
        import socket
        return socket.gethostname(), os.getpid()
