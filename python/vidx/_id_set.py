"""vidx.IdSet: an allow-list of ids prepared once for many filtered searches."""
from __future__ import annotations

import numpy as np

_INT64_MAX = np.iinfo(np.int64).max
# A bitset over ids [0, largest] is kept when it costs at most this many bits per listed id (or
# at most 1 MiB whatever the list's length): membership is then one bit test in a table that
# stays in cache, instead of a binary search per node a graph walk tests.
_BITS_PER_ID = 64
_SMALL_BITSET_BITS = 1 << 23


def _frozen(a):
    """a's values in an array nobody can make writeable again: its memory is a bytes object.
    (setflags(write=False) alone can be undone, and searches trust an IdSet's ids to stay sorted
    and >= 0.)"""
    return np.frombuffer(a.tobytes(), dtype=a.dtype)


class IdSet:
    """Allowed ids, checked, sorted and deduplicated once, for any number of
    ``search(..., filter=...)`` / ``range_search`` calls (like faiss's ``IDSelectorBatch``).

    A plain id array passed as ``filter=`` is checked on every call (a pass over all its ids,
    about 10 us for 30,000 ids); an IdSet is read in place, with a prebuilt bitset over ids
    where their range is modest. It holds ids, not rows: ids added to the index later are
    allowed if listed, removed ones simply never match. Immutable. ``np.asarray(s)`` gives the
    sorted ids. ValueError for negative ids or ids beyond int64, or a shape other than 1-d;
    TypeError for a non-integer dtype."""

    __slots__ = ("_ids", "_bits", "_bits_size")

    def __init__(self, ids):
        a = np.asarray(ids)
        if a.ndim == 0 and a.dtype.kind in "OUS":  # a set, a string, None...
            raise TypeError(f"IdSet takes a 1-d array of ids, got {type(ids).__name__}")
        if a.ndim != 1:
            raise ValueError(f"IdSet takes a 1-d array of ids, got {a.ndim} dimensions")
        if a.size == 0:
            a = a.astype(np.int64)
        elif a.dtype.kind not in "iu":
            raise TypeError(f"IdSet takes integer ids, got dtype {a.dtype}")
        elif a.dtype.kind == "u" and int(a.max()) > _INT64_MAX:
            raise ValueError(f"IdSet: id {int(a.max())} does not fit in int64")
        # Sorted, then each id that differs from the one before: np.unique's hashing path took
        # 1.3-2.7 s for 1.4 M sorted ids where this takes 0.05-0.11 s.
        ids = np.sort(a.astype(np.int64, copy=False))
        if ids.size > 1:
            ids = ids[np.concatenate(([True], ids[1:] != ids[:-1]))]
        if ids.size and ids[0] < 0:
            raise ValueError(f"IdSet: id {int(ids[0])} is negative: ids are >= 0")
        self._ids = _frozen(ids)
        size = int(ids[-1]) + 1 if ids.size else 0
        self._bits = None
        self._bits_size = 0
        if ids.size and size <= max(_BITS_PER_ID * ids.size, _SMALL_BITSET_BITS):
            # Bit b of word w is id 64 w + b. The ids are distinct, so a word's bits add up to
            # their OR: one sum per word that holds any (a byte per id of the range, as flags
            # packed into words, held 2.2 GB for 20 M ids).
            bits = np.zeros((size + 63) // 64, dtype=np.uint64)
            words = ids >> 6
            starts = np.flatnonzero(np.concatenate(([True], words[1:] != words[:-1])))
            one_bits = np.left_shift(np.uint64(1), (ids & 63).astype(np.uint64))
            bits[words[starts]] = np.add.reduceat(one_bits, starts)
            self._bits = _frozen(bits)
            self._bits_size = size

    def __len__(self):
        return int(self._ids.size)

    def __contains__(self, id_):
        """`id in ids`, as `id in index`: an integer id (TypeError for a float, bool or str,
        which `3.0 in ids` would otherwise compare as a number)."""
        kind = np.asarray(id_).dtype.kind if isinstance(id_, np.ndarray) and id_.ndim == 0 else None
        if kind is not None and kind in "iu":  # a 0-d integer array, as numpy indexing gives
            id_ = int(id_)
        if isinstance(id_, (bool, np.bool_)) or not isinstance(id_, (int, np.integer)):
            raise TypeError(f"ids are integers, got {type(id_).__name__}")
        if not 0 <= id_ <= _INT64_MAX:
            return False
        i = np.searchsorted(self._ids, id_)
        return bool(i < self._ids.size and self._ids[i] == id_)

    def __iter__(self):
        return iter(self._ids.tolist())

    def __array__(self, dtype=None, copy=None):
        if dtype is not None and np.dtype(dtype) != self._ids.dtype:
            return self._ids.astype(dtype)
        return self._ids.copy() if copy else self._ids

    def __eq__(self, other):
        return isinstance(other, IdSet) and np.array_equal(self._ids, other._ids)

    __hash__ = None

    def __reduce__(self):
        return (IdSet, (self._ids,))

    def __repr__(self):
        shown = ", ".join(str(i) for i in self._ids[:5].tolist())
        more = ", ..." if self._ids.size > 5 else ""
        return f"vidx.IdSet([{shown}{more}], {self._ids.size} ids)"
