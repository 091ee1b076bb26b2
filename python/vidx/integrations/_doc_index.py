"""The store both framework adapters share: a vidx.Index whose int64 ids stand for the
frameworks' string ids, with each document's payload (text, metadata...) kept beside its id.
Metadata filters become an allow-list of ids for vidx's filtered search."""
from __future__ import annotations

import json
import os

import numpy as np

import vidx

from .._capabilities import require
from .._json_file import read_checked, write_atomic

_INDEX_FILE = "index.vidx"
_DOCS_FILE = "docs.json"


class DocIndex:
    """metric, kind, **options: the vidx.Index made at the first add (its dimension is the
    first vectors')."""

    def __init__(self, metric="cosine", kind="hnsw", **options):
        self.metric, self.kind, self.options = metric, kind, options
        vidx.Index(1, metric=metric, kind=kind, **options)  # bad options fail now, not at the first add
        self.index = None
        self._label_of = {}  # framework id -> vidx id
        self._entries = {}  # vidx id -> (framework id, payload)
        self._next_label = 0

    def __len__(self):
        return len(self._entries)

    def __contains__(self, key):
        return key in self._label_of

    def keys(self):
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
        return [self._entries[self._label_of[k]] for k in keys if k in self._label_of]

    def items(self):
        return list(self._entries.values())

    def search(self, vector, k, predicate=None, **params):
        """[(key, payload, distance)] of the k nearest documents whose payload passes
        `predicate` (None: all), nearest first."""
        if self.index is None or not self._entries:
            return []
        allowed = None
        if predicate is not None:
            allowed = np.array([label for label, (_, payload) in self._entries.items() if predicate(payload)],
                               dtype=np.int64)
            if not len(allowed):
                return []
            require("search", "filter")
            params["filter"] = allowed
        k = min(int(k), len(self._entries) if allowed is None else len(allowed))
        if k < 1:
            return []
        D, I = self.index.search(np.asarray(vector, dtype=np.float32)[None, :], k, **params)
        return [(*self._entries[label], float(d)) for d, label in zip(D[0], I[0].tolist()) if label >= 0]

    # ---- files -------------------------------------------------------------------------
    def save(self, folder):
        """Writes the index and the documents (JSON: payloads must be JSON-serialisable) into folder."""
        labels = list(self._entries)
        state = {"format": "vidx.docs/1", "metric": self.metric, "kind": self.kind, "options": self.options,
                 "next_label": self._next_label, "labels": labels,
                 "keys": [self._entries[label][0] for label in labels],
                 "payloads": [self._entries[label][1] for label in labels]}
        # Refused before anything is written: a save that replaced the index and then failed on
        # the documents left a folder whose two files disagree (and the previous save lost).
        try:
            json.dumps(state)
        except TypeError as e:
            raise TypeError(f"document metadata must be JSON-serialisable to save: {e}") from None
        os.makedirs(folder, exist_ok=True)
        if self.index is not None:
            self.index.save(os.path.join(folder, _INDEX_FILE))
        write_atomic(os.path.join(folder, _DOCS_FILE), state)

    @classmethod
    def load(cls, folder):
        state = read_checked(os.path.join(folder, _DOCS_FILE), "vidx.docs/1",
                             "not found (not a saved vidx document store)")
        store = cls(state["metric"], state["kind"], **state["options"])
        if state["labels"]:
            store.index = vidx.load(os.path.join(folder, _INDEX_FILE))
        store._next_label = state["next_label"]
        for label, key, payload in zip(state["labels"], state["keys"], state["payloads"]):
            store._label_of[key] = label
            store._entries[label] = (key, payload)
        return store
