"""The store both framework adapters share: a vidx.Index whose int64 ids stand for the
frameworks' string ids, with each document's payload (text, metadata...) kept beside its id.
Metadata filters become an allow-list of ids for vidx's filtered search.

Thread-safe: the frameworks call it from thread pools (LangChain's async methods run the
sync ones in an executor). Writes hold a lock from choosing ids to recording the payloads;
searches hold it only to read the payloads, and run vidx's search (which releases the GIL and
may run beside writes) outside it."""
from __future__ import annotations

import contextlib
import json
import os
import re
import threading
import uuid

try:
    import fcntl
    msvcrt = None
except ImportError:  # Windows
    fcntl = None
    import msvcrt

import numpy as np

import vidx

from .._capabilities import require
from .._json_file import read_checked, replace_durably, write_atomic

# A saved store is a folder. docs.json holds the documents and names the index file that goes
# with them; each save writes a new index file. A save writes its documents first as
# docs.pending.json (naming the index file about to be written), then the index file, then
# renames the pending file to docs.json, then removes what earlier and killed saves left.
# A load takes the pending file where its index file is in place (a save stopped just before
# its rename: complete, and for SPANN the one whose write generation the posting file carries),
# else docs.json: a save stopped at any point leaves the previous save or the new one.
_DOCS_FILE = "docs.json"
_PENDING_FILE = "docs.pending.json"
_LOCK_FILE = "docs.lock"
_FORMAT = "vidx.docs/2"  # /2: the index file's name and the framework in the document file
_LEGACY_FORMAT = "vidx.docs/1"  # index.vidx beside docs.json, replaced in place
_LEGACY_INDEX_FILE = "index.vidx"
# What each adapter's payloads hold (stores of format 1 do not name their framework).
_PAYLOAD_KEY = {"langchain": "text", "llamaindex": "node"}


class DocIndex:
    """framework: the adapter's name (a saved store loads only into the same adapter).
    metric, kind, **options: the vidx.Index made at the first add (its dimension is the first
    vectors', for the life of the store: deleting every document keeps the index)."""

    def __init__(self, metric="cosine", kind="hnsw", *, framework, **options):
        self.metric, self.kind, self.options, self.framework = metric, kind, options, framework
        vidx.Index(1, metric=metric, kind=kind, **options)  # bad options fail now, not at the first add
        self.index = None
        self._label_of = {}  # framework id -> vidx id
        self._entries = {}  # vidx id -> (framework id, payload)
        self._next_label = 0
        self._lock = threading.RLock()

    def __len__(self):
        return len(self._entries)

    def __contains__(self, key):
        return key in self._label_of

    def keys(self):
        with self._lock:
            return list(self._label_of)

    def upsert(self, keys, vectors, payloads):
        """Adds documents; a key already held is replaced (vidx upsert). Within one call a
        repeated key keeps its last document."""
        X = np.asarray(vectors, dtype=np.float32)
        if X.ndim != 2 or len(X) != len(keys) or len(payloads) != len(keys):
            raise ValueError(f"got {len(keys)} ids, {len(payloads)} documents and vectors of shape {X.shape}")
        if not len(keys):
            return
        last = {key: pos for pos, key in enumerate(keys)}
        keys, rows = list(last), np.fromiter(last.values(), np.int64, len(last))
        X = X[rows]
        with self._lock:  # two calls choosing labels at once gave both the same ones
            if self.index is None:
                self.index = vidx.Index(X.shape[1], metric=self.metric, kind=self.kind, **self.options)
            existing = [key in self._label_of for key in keys]
            labels = np.array([self._label_of[k] if old else self._next_label + i
                               for i, (k, old) in enumerate(zip(keys, existing))], dtype=np.int64)
            if any(existing):
                require("upsert")
                self.index.upsert(X, labels)
            else:
                self.index.add(X, labels)
            self._next_label = max(self._next_label, int(labels.max()) + 1)
            for key, label, row in zip(keys, labels.tolist(), rows.tolist()):
                self._label_of[key] = label
                self._entries[label] = (key, payloads[row])

    def delete(self, keys):
        """Removes the keys held (unknown ones are skipped); returns how many were removed."""
        with self._lock:
            labels = [self._label_of[k] for k in dict.fromkeys(keys) if k in self._label_of]
            if labels:
                require("remove")
                self.index.remove(np.array(labels, dtype=np.int64))
            for label in labels:
                key, _ = self._entries.pop(label)
                del self._label_of[key]
            return len(labels)

    def get(self, keys):
        """(key, payload) of each key held, in the order given."""
        with self._lock:
            return [self._entries[self._label_of[k]] for k in keys if k in self._label_of]

    def items(self):
        with self._lock:
            return list(self._entries.values())

    def vectors(self, keys):
        """(held, V): the keys held, in the order given, and their stored vectors as an (n, dim)
        float32 array (decoded from the index's codes where they are lossy; vidx.Index.get)."""
        with self._lock:
            held = [k for k in keys if k in self._label_of]
            if not held:
                return [], np.zeros((0, 0), np.float32)
            return held, self.index.get(np.array([self._label_of[k] for k in held], dtype=np.int64))[0]

    def search(self, vector, k, predicate=None, **params):
        """[(key, payload, distance)] of the k nearest documents whose payload passes
        `predicate` (None: all), nearest first. A document deleted while the search ran is
        left out of its results."""
        with self._lock:
            index, held = self.index, len(self._entries)
            allowed = None
            if predicate is not None:
                allowed = np.array([label for label, (_, payload) in self._entries.items() if predicate(payload)],
                                   dtype=np.int64)
        if index is None or not held or (allowed is not None and not len(allowed)):
            return []
        if allowed is not None:
            require("search", "filter")
            params["filter"] = allowed
        k = min(int(k), held if allowed is None else len(allowed))
        if k < 1:
            return []
        D, I = index.search(np.asarray(vector, dtype=np.float32)[None, :], k, **params)
        with self._lock:
            found = [(self._entries.get(label), float(d)) for d, label in zip(D[0], I[0].tolist()) if label >= 0]
        return [(*entry, d) for entry, d in found if entry is not None]

    # ---- files -------------------------------------------------------------------------
    def save(self, folder):
        """Writes the index and the documents (JSON: payloads must be JSON-serialisable) into
        folder (see the top of this file): a reader sees the previous save or the new one."""
        with self._lock:
            labels = list(self._entries)
            index_file = f"index.{uuid.uuid4().hex[:12]}.vidx" if self.index is not None else None
            state = {"format": _FORMAT, "framework": self.framework, "metric": self.metric, "kind": self.kind,
                     "options": self.options, "next_label": self._next_label, "labels": labels,
                     "keys": [self._entries[label][0] for label in labels],
                     "payloads": [self._entries[label][1] for label in labels], "index_file": index_file}
            # Refused before anything is written.
            try:
                json.dumps(state)
            except TypeError as e:
                raise TypeError(f"document metadata must be JSON-serialisable to save: {e}") from None
            os.makedirs(folder, exist_ok=True)
            with _folder_lock(folder, exclusive=True):  # two stores saving one folder take turns
                legacy = _settle(folder)
                pending = os.path.join(folder, _PENDING_FILE)
                write_atomic(pending, state)
                try:
                    if index_file:
                        self.index.save(os.path.join(folder, index_file))
                except BaseException:
                    # Stopped (Ctrl-C arrives once vidx's save, which releases the GIL, returns):
                    # with the index file in place the save is whole, and for SPANN the posting
                    # file already carries its generation, so it stays for a load to take;
                    # before that, nothing of it does.
                    if not (index_file and os.path.exists(os.path.join(folder, index_file))):
                        _remove_quietly(pending)
                    raise
                replace_durably(pending, os.path.join(folder, _DOCS_FILE))
                _remove_leftovers(folder, keep=index_file, legacy=legacy)

    @classmethod
    def load(cls, folder, framework):
        with _folder_lock(folder, exclusive=False):  # not while a save removes what it replaced
            state, path = _saved_state(folder)
            saved_by = state.get("framework") or _framework_of_payloads(state["payloads"])
            if saved_by not in (None, framework):
                raise OSError(f"{path}: a document store saved by vidx's {saved_by} adapter, not its {framework} one")
            store = cls(state["metric"], state["kind"], framework=framework, **state["options"])
            index_file = _index_file_of(state)
            if index_file is not None:
                store.index = vidx.load(os.path.join(folder, index_file))
        store._next_label = state["next_label"]
        for label, key, payload in zip(state["labels"], state["keys"], state["payloads"]):
            store._label_of[key] = label
            store._entries[label] = (key, payload)
        return store


def _complete_pending(folder):
    """The state of the pending save a stopped save left, where its index file is in place (a
    load takes it); None otherwise. OSError for a pending file that cannot be read."""
    pending = os.path.join(folder, _PENDING_FILE)
    if not os.path.exists(pending):
        return None
    state = read_checked(pending, _FORMAT, "not found")
    if state["index_file"] is None or os.path.exists(os.path.join(folder, state["index_file"])):
        return state
    return None


def _saved_state(folder):
    """(state, path) of the save a load takes: the pending one where its index file is in place."""
    state = _complete_pending(folder)
    if state is not None:
        return state, os.path.join(folder, _PENDING_FILE)
    path = os.path.join(folder, _DOCS_FILE)
    return read_checked(path, (_FORMAT, _LEGACY_FORMAT), "not found (not a saved vidx document store)"), path


def _index_file_of(state):
    if state["format"] == _LEGACY_FORMAT:
        return _LEGACY_INDEX_FILE if state["labels"] else None
    return state["index_file"]


def _settle(folder):
    """Before a save writes its pending file over one a stopped save left: that one becomes
    docs.json where a load takes it (its index file in place), so that this save, stopped too,
    leaves it rather than the save before; otherwise it goes. Returns whether docs.json is then
    of format 1 (whose index.vidx this save replaces)."""
    pending = os.path.join(folder, _PENDING_FILE)
    try:
        complete = _complete_pending(folder) is not None
    except OSError:  # unreadable: no load takes it
        complete = False
    if complete:
        replace_durably(pending, os.path.join(folder, _DOCS_FILE))
    else:
        _remove_quietly(pending)
    try:
        return read_checked(os.path.join(folder, _DOCS_FILE), _LEGACY_FORMAT, "not found")["format"] == _LEGACY_FORMAT
    except OSError:
        return False


# What saves write into a store's folder besides docs.json and the lock: index files (and the
# temporaries of their saves) and the JSON files' temporaries; format 1's index.vidx is named
# by its docs.json (a user's file may be called that: a SPANN posting file in the folder).
_LEFTOVER = re.compile(r"(index\.[0-9a-f]{12}\.vidx(\..*)?|docs(\.pending)?\.json\..*\.tmp)\Z")


def _remove_leftovers(folder, keep, legacy):
    """After a save: every file of the kinds saves write but the index file it keeps, those of
    earlier saves and of saves killed part-way (with the folder locked, no save is running),
    and a format 1 store's index.vidx."""
    for name in os.listdir(folder):
        if name != keep and (_LEFTOVER.match(name) or (legacy and name == _LEGACY_INDEX_FILE)):
            _remove_quietly(os.path.join(folder, name))


@contextlib.contextmanager
def _folder_lock(folder, exclusive):
    """An advisory lock on folder/docs.lock: saves into one folder take turns (two stores saving
    it at once removed each other's index files) and a load waits for a save. None where it
    cannot be taken (a read-only folder, a filesystem without locks)."""
    try:
        fd = os.open(os.path.join(folder, _LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o666)
    except OSError:
        yield
        return
    try:
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            else:  # Windows: one byte locked, exclusively (retried for ~10 s, then an OSError)
                msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
        except OSError:
            pass
        yield
    finally:
        os.close(fd)  # gives the lock back


def _framework_of_payloads(payloads):
    """The adapter a format-1 store came from, told by its first payload (None when empty)."""
    if not payloads or not isinstance(payloads[0], dict):
        return None
    return next((name for name, key in _PAYLOAD_KEY.items() if key in payloads[0]), None)


def _remove_quietly(path):
    try:
        os.remove(path)
    except OSError:
        pass
