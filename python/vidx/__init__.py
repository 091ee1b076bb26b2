"""vidx: vector search with HNSW graphs, compressed vectors and SPANN, behind one Index.

    import vidx
    idx = vidx.Index(dim=128, metric="l2")     # kind="hnsw" by default
    idx.add(X)                                 # (n, 128) array-like
    D, I = idx.search(Q, k=10)                 # float32 (q, 10) distances, int64 (q, 10) ids

Distances: "l2" is squared Euclidean, "ip" is 1 - <q, x>, "cosine" is 1 - cos. Smaller is
closer; results are sorted nearest first; missing results are -1 with +inf.
"""
from __future__ import annotations

import os as _os

from . import _codecs, _core
from ._id_set import IdSet
from ._version import __version__
__all__ = ["Index", "IdSet", "load", "from_bytes", "verify", "cpu_features", "cuda_available", "kmeans", "cmake_dir",
           "__version__"]

_KINDS = ("hnsw", "flat", "spann")
_METRICS = ("l2", "ip", "cosine")


def _check_choice(name, value, choices):
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {type(value).__name__}")
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r} (expected one of {', '.join(map(repr, choices))})")


def _check_count(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            import numpy as np
            if isinstance(value, np.integer):
                value = int(value)
            else:
                raise TypeError
        except TypeError:
            raise TypeError(f"{name} must be an int, got {type(value).__name__}") from None
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    if value >= 1 << 64:  # the C++ side takes 64 bits; past them pybind11's error names no argument
        raise ValueError(f"{name} must be below 2**64, got {value}")
    return value


def _forward(name, doc):
    """A read-only property that reads the same name from the C++ index."""
    return property(lambda self: getattr(self._impl, name), doc=doc)


class Index:
    """A vector index: every kind, one class.

    Args:
        dim: vector dimension.
        metric: "l2" (squared Euclidean), "ip" (1 - inner product) or "cosine" (1 - cosine;
            vectors are normalised when added).
        kind: "hnsw" (graph, approximate), "flat" (exhaustive: exact with quant="none" or
            keep_vectors=True; with another quant alone, a scan of the codes re-ranked with the
            codec's precise level, as exact as the codes are) or "spann" (memory-disk hybrid:
            heads and their graph in memory, posting lists in the file `path`).
        device: "cpu", or "cuda" for an exact flat index on an NVIDIA GPU.

    Options (keywords; the C++ options record validates them, one message per option; an
    option of another kind raises ValueError, an unknown name TypeError):
        M, ef_construction, ef_search: the graph (HNSW; SPANN: the graph over its heads; a flat
            index takes and ignores them, so that code may pass them to either in-memory kind).
            M (default 0: automatic): links a node keeps (2M on level 0). Wider lists pay on hard
            data, whatever its dimension: over 19 sets (benchmarks/results/graph.md section 35) M=24
            ran 1.19-1.41x M=16's speed at recall 0.95 on every set whose local intrinsic dimension
            was 21 or more (glove-50, isotropic Gaussians; M=32 another 5-8%), and 0.92-1.04x on
            the others (wordnet-minilm, fashion-mnist, their 32-256-d projections, uniform data)
            but a 16-d Gaussian (1.15x); at recall 0.99 it was level or ahead on all. So HNSW
            chooses once it holds 100,000 rows (the add that brings it there; before, its lists
            are laid out for 16, and they are widened, their links kept): 24 when the rows'
            estimated intrinsic dimension is 20.5 or more and its walks score codes of 4 bits a
            dimension or more (float and LVQ codecs: LVQ graphs gained 1.14-1.44x on four hard
            sets, section 36); else 16 (1-bit codes, whose walks gained nothing, and SPANN's head
            graph keep 16). Rows added 20,000 at a time to a 32-d Gaussian chose 24 at 100,000 and
            searched as fast as M=24 given. A choice of 16 is made again each time the index has
            grown 1.25x past the rows it was made from (until 2^20 rows): rows that arrive in order
            may read easy at first (glove-50's first 100,000 rows in file order, its most frequent
            words, chose 16; fed in adds of 10,000 it widened at 280,000 rows with seed 0,
            recall@10 at ef 16 0.733 -> 0.804, the add that widened took 22 s of a 49 s feed;
            section 58; each check is an estimate other writes wait for). The
            estimate runs beside searches; they wait only while the lists are widened.
            idx.params["M"] is 0 until the first choice, then the choice; a file keeps it, and
            whether it is still to be made or made again.
            Each unit of M costs 8 bytes a node (M=24 added 21-34% to the memory of glove-50's
            and the Gaussians' LVQ indexes): give M=16 to keep the smaller graph.
            ef_construction: the candidates each inserted node's search keeps and chooses its
            neighbours from; rows inserted before the graph reaches 70% of an add's final
            size expand only 60% of them (later rows rewrite their lists; builds ~11-17% faster,
            search speed at equal recall unchanged).
        seed: seed of every random choice; a build is reproducible for the same data, seed
            and row order, whatever the thread count.
        threads: worker threads of add() and batched search(); 0 means all cores, at most
            4096. Every index of a process shares one crew of helper threads, started
            as calls first need them (as many as the calls running at once ask for, up
            to the cores or one call's own wider count); a call uses at most `threads`
            (its caller included); a thread the system refuses slows a call down, never
            fails it.
        quant: how vectors are stored, for every kind. Default: "f32_split" for HNSW, "none"
            for flat and SPANN (idx.params["quant"] names the one in use). "none" or "f32"
            (float32), "f32_split" (float32 as two 16-bit halves: graph walks read the upper
            halves, results are re-scored with both, float32's exactly; the fastest float32
            graph; a flat scan of it is not exact), "f32_sketch" (f32_split plus a one-bit sign
            sketch per vector, ~5% more bytes, from which walks drop far candidates without
            reading them; results float32's exactly; faster on some cosine sets, e.g. text
            embeddings, slower on L2 and narrow vectors), "f16", LVQ ("lvq8",
            "lvq4"; two-level "lvq4x4", "lvq4x8", "lvq8x8": a primary level scanned, a residual
            level re-ranked with), one bit per dimension re-ranked with LVQ-8 codes ("binary",
            "binary_rot", "rabitq"; the first two rank by Hamming distance to the query's signs,
            which say little for a query near the data's mean: "rabitq", which scores the float
            query, finds far more there, see the README). SPANN stores these codes in its posting lists, the
            re-rank level in a separate region read only for the candidates re-ranked.
        rerank: candidates re-scored with precise distances after a compressed search
            (0: automatic. HNSW: the beam in the walk's order, at least max(k, 8) of it, then
            on while a candidate's walk distance, less twice the largest walk error seen in
            this query, could still enter the k; flat: 16 * k; SPANN: 16 * k, 256 * k for
            1-bit codes).
        keep_vectors: (hnsw, flat) also keep the float32 vectors (more memory): HNSW re-ranks
            with them, so results and distances are float32's while the walk reads the codes
            (quant="lvq4" then walks in integer arithmetic; the fastest float32-exact setting for
            wide vectors), flat scans them (exact results).
        SPANN: path (the posting file, required), head_ratio (None: automatic), replicas,
            candidates, rng_factor, posting_limit, branch, kmeans_iters, nprobe and eps
            (search defaults), direct_io, io_threads (posting readers a search may use; the
            SPANN indexes of a process share one crew of them, started as reads first need them,
            as many as the largest io_threads asked for: raise it where many SPANN indexes are
            searched at once; 0: read on the searching thread), memory_budget (bytes the
            build may hold; 0: half the memory, or of a container's memory limit), sample,
            read_buffer (bytes of posting pages one search holds: search memory stays
            bounded whatever nprobe), rebuild_growth (an add that
            brings the index to this many times the rows of its last build, stats()["vectors"],
            re-clusters every row with the add's, as rebuild() does but keeping the stored codes
            and the codec unless it learns again as flat and HNSW codecs do; default 2, > 1, 0:
            never).
    """

    __slots__ = ("_impl",)

    def __init__(self, dim, metric="l2", kind="hnsw", device="cpu", **options):
        dim = _check_count("dim", dim, 1)
        _check_choice("metric", metric, _METRICS)
        _check_choice("kind", kind, _KINDS)
        if device != "cpu":  # a device is where the structure runs; the class stays vidx.Index
            if kind != "flat":
                raise ValueError(f"device={device!r} is available for kind='flat' only")
            from .gpu import make_flat_index
            self._impl = make_flat_index(dim, metric, device=device, **options)
            return
        self._impl = _core.Index(kind, dim, metric, options)

    @classmethod
    def _wrap(cls, impl):
        obj = cls.__new__(cls)
        obj._impl = impl
        return obj

    def add(self, X, ids=None, *, progress=None, dataset=None):
        """Adds vectors: X is (n, dim) or (dim,), a numpy memmap, or the path of an .fvecs,
        .bvecs, .npy (read by C++) or .hdf5/.h5 file (``dataset``: default "train" or the only
        2-d dataset). ids: optional user ids (an int for a single vector), integers in
        [0, 2**63 - 1] (SPANN: below 2**56, the rest of a posting entry's word holds its
        version; -1 marks missing
        results; default: 0, 1, ... continuing after the largest id ever assigned, removed ones
        included, ValueError if they would pass 2**63 - 1; an id already present raises
        ValueError: upsert() replaces). Raises ValueError on NaN/inf, values beyond
        +-sqrt(3.4e38 / (4 * dim)) for "l2"/"ip" (so distances fit in float32), beyond +-32752
        with an LVQ or binary quant (their per-vector constants are float16) or beyond +-65504
        with "f16" (float16 would saturate them to one value) ("ip" indexes, and "l2" ones of
        "f16", whose first stored vectors (SPANN: an even sample of its build's) had a median
        length under 1/16 store every vector, and compare every query, times a power of two
        that brings that to about 1, so
        that 1 - <q, x> in float32 still ranks them: these bounds apply to the products, and the
        message says so), zero vectors for
        "cosine" (and, for flat and HNSW, which keep each cosine vector's length, vectors
        longer than 3.4e38), wrong dimension, empty input, negative or repeated ids; on error
        the index is unchanged. A SPANN index is built by one add() of
        all its vectors, streamed within its memory_budget. progress: None (bars on a
        terminal for SPANN builds and HNSW adds of 100,000 rows or more, or from files), True
        (bars), False, or a callable(phase, done, total);
        HNSW reports as its insertion batches finish (and as phase "relink" in the add whose
        automatic M widens the lists: the earlier nodes' lists grow first, and a stop asked
        for meanwhile takes effect once they all have; and as phase "revisit"
        in an add of rows that came in order (in runs of near neighbours, or all in one region of
        the index: a document's chunks), where four older rows for each added row, in turn,
        search the index again and link to the later rows they find, so an index fed document by
        document searches nearly as one fed in random order; a stop then waits likewise). A
        callable that raises stops the add, as
        Ctrl-C does: the rows of this add are taken out again (their ids and default ids are
        free again; a stopped first add leaves the codec untrained but keeps an automatic M
        it chose, and a stopped add that had the codec learn again keeps the codec it learnt).
        The callable may not use this index (ValueError: the add holds it), nor wait for
        another thread's call on it (that call may wait for this add: a deadlock). Codecs that learn
        (LVQ, the binary codes, "f32_pca") learn from the first add; flat and HNSW indexes have
        them learn again, from up to 65,536 stored and added rows, when an add brings the index
        to 8x the rows the codec learnt from (a small or one-topic first add then costs no
        recall for good). A SPANN add that brings the index to rebuild_growth (default 2) times
        the rows of its last build is made by a rebuild() of every row with its own (reporting
        the rebuild's phases; a stop then leaves the index as it was, without the add)."""
        impl = self._impl
        if type(impl) is not _CoreIndex:
            return impl.add(X, ids)
        from ._sources import add_any
        add_any(impl, X, ids, progress, dataset)

    def search(self, Q, k=10, ef=None, rerank=None, nprobe=None, eps=None, *, filter=None):
        """k nearest neighbours of each query: returns (D, I), float32 and int64 arrays of shape
        (q, k), nearest first; -1 / +inf where fewer than k exist. Per-call settings (None: the
        index's default; one that does not apply to the kind raises ValueError):
        ef: graph beam width (HNSW; SPANN: its head graph); rerank: candidates re-scored
        precisely (compressed codes); nprobe: SPANN posting lists read (at most); eps: SPANN skips
        head i when d(q, h_i) > (1 + eps) d(q, h_1) (inf: never), unless the lists read so far
        hold fewer candidates than the search keeps (a query beside one head would otherwise
        get fewer than k results where more exist). k may exceed len(index) up to
        65536 (ValueError beyond max(len(index), 65536)); ef or rerank above len(index) act as
        len(index). Queries follow add()'s value rules (ValueError otherwise).

        filter: which ids the results may hold (None: all). One of
          - a 1-d integer array of allowed ids (ids not in the index are simply not allowed);
          - a vidx.IdSet: the same, checked and sorted once for many calls (no per-call pass
            over the ids);
          - a 1-d boolean numpy array indexed by id (mask[id] True: allowed; ids past its end
            are not);
          - a list of nq of those, one per query (a None entry leaves that query unfiltered).
        Results are the k nearest among the allowed ids, padded with -1 / +inf when fewer are
        allowed. HNSW walks the graph through disallowed nodes and scans the allowed rows
        exactly when that is cheaper (few allowed rows); flat scans only allowed rows.
        TypeError for a wrong dtype, ValueError for a wrong shape, a list of the wrong length or
        negative ids. The arrays are read in place during the call (the GIL is released)."""
        impl = self._impl
        if type(impl) is _CoreIndex:
            return impl.search(Q, k, ef, rerank, nprobe, eps, filter)
        if nprobe is not None or eps is not None:
            raise ValueError("nprobe and eps apply to kind='spann' only")
        if filter is not None:
            raise ValueError(f"filter is not supported on device {self.device!r}")
        return impl.search(Q, k, ef, rerank)

    def _search_for_merge(self, Q, k=10, ef=None, rerank=None, nprobe=None, eps=None, *, filter=None):
        """search() for a merge of several indexes' answers (ShardedIndex): where this index
        scales its rows (short "ip" rows, whose float32 distances all read 1.0), D is float64,
        as exactly as the index compared them, so that answers of different shards still rank;
        else search()'s float32."""
        impl = self._impl
        if type(impl) is _CoreIndex and impl._row_scale != 1.0:
            return impl._search_precise(Q, k, ef, rerank, nprobe, eps, filter)
        return self.search(Q, k, ef, rerank, nprobe, eps, filter=filter)

    # ---- a living index (every kind; a kind that cannot yet raises ValueError saying so) ----
    def remove(self, ids, *, ignore_missing=False):
        """Removes the vectors with these ids (an int or a 1-d array-like of ints); returns how
        many went. They leave search results before it returns; their slots are reused by later
        adds once the searches running at the removal have ended, and compact() gives their
        memory back. An id not in the index raises ValueError
        naming it, with nothing removed, unless ignore_missing (then it is skipped). An id
        repeated in the call counts once. Searches keep running while it runs where the kind
        allows concurrent writes (HNSW); otherwise they wait for it."""
        import numpy as np
        if not isinstance(ignore_missing, (bool, np.bool_)):  # None or "yes" would read as a truth value
            raise TypeError(f"ignore_missing must be True or False, got {type(ignore_missing).__name__}")
        return self._impl.remove(ids, ignore_missing=bool(ignore_missing))

    def upsert(self, X, ids):
        """Adds the vectors X (as add()) under ids, replacing the vectors of ids already present.
        Everything is checked before anything changes; then it removes the present ids and adds
        all rows. Not atomic: a search running beside it may briefly find neither the old nor
        the new vector of an id."""
        return self._impl.upsert(X, ids)

    def get(self, ids):
        """(V, exact): the stored vectors of ids as a float32 (n, dim) array, and whether they
        are exact (float32 storage or keep_vectors=True) rather than decoded from lossy codes
        (f16, LVQ, binary...). Cosine indexes store unit vectors and keep each one's length:
        flat and HNSW give the vectors back as added (exact ones within float32 rounding of
        length x unit vector); SPANN, and files saved before lengths were kept, give the unit
        vectors. An id not in the index raises ValueError naming it."""
        V, exact = self._impl.get(ids)
        return V, bool(exact)

    def __contains__(self, id):
        """`id in index`: whether the id is stored (TypeError for a non-integer)."""
        return self._impl.__contains__(id)

    def ids(self):
        """Every stored id, as an int64 array (in the index's internal order)."""
        return self._impl.ids()

    def compact(self):
        """Gives back the memory of removed vectors (renumbers internal slots; ids and search
        results are unchanged). Waits for writes in flight; searches wait while it runs."""
        self._impl.compact()

    def range_search(self, Q, radius, ef=None, filter=None):
        """Every stored vector within ``radius`` of each query: distance < radius, in
        search()'s distance (squared L2 for "l2"; as search() reports "ip" and "cosine").
        Returns (lims, D, I) like faiss: the results of query i are D[lims[i]:lims[i+1]] and
        I[lims[i]:lims[i+1]], nearest first; lims is int64 of length nq + 1, D float32, I int64.
        flat: exact. HNSW: approximate: a graph walk of width ef (None: the index's ef_search),
        repeated with ef doubled while every result it found lies inside the radius (or the walk
        came back short of rows that exist: some have no way in, as under "ip" rows of small
        norm), up to a width of every row, which scans the index. SPANN:
        approximate: every entry of the lists of the index's nprobe nearest heads (eps, a
        top-k rule, does not prune them).
        filter: as in search(). ValueError for a NaN radius."""
        impl = self._impl
        if type(impl) is not _CoreIndex:
            raise ValueError(f"range_search is not supported on device {self.device!r}")
        return impl.range_search(Q, radius, ef, filter)

    def _range_search_for_merge(self, Q, radius, ef=None, filter=None):
        """range_search() for a merge of several indexes' answers (ShardedIndex): D in float64
        where this index scales its rows, as _search_for_merge."""
        impl = self._impl
        if type(impl) is _CoreIndex and impl._row_scale != 1.0:
            return impl._range_search_precise(Q, radius, ef, filter)
        return self.range_search(Q, radius, ef, filter)

    def rebuild(self, path=None, *, progress=None):
        """SPANN: re-clusters every stored vector into a new posting file, as one add() of them
        into a fresh index would, and returns that file's path. An index built small and grown
        by adds keeps its first build's heads: grown from 10% of glove6b-50 to all of it, it read
        2.1x the posting entries of a fresh build at nprobe 32 and found less (recall@10 0.944
        against 0.954); rebuilt, it reads what a fresh build reads (benchmarks/spann_growth.py).
        An add that brings the index to rebuild_growth (default 2) times the rows its last build
        had (stats()["vectors"]) rebuilds it this way by itself, with the add's rows; call it
        after removes and upserts, or where rebuild_growth is 0. Searches keep running on the
        old file meanwhile.
        Writes wait only while the stored vectors are read and while the new state is swapped
        in: those made while it builds go to the old state and are made again on the new one
        (glove-50, adds of 200 rows back to back: the longest waited 2.4-3.0 s, against the whole
        11.9 s rebuild before). Ids, the next default id and the options are kept; lossy codes
        are copied as stored, with their codec, unless it learns again as flat and HNSW codecs
        do (one that learnt from far fewer rows than the index now holds: then every row is
        encoded again from its decoded value). One rebuild at a time (ValueError for a second
        one meanwhile).

        path: the new posting file, which must not exist (OSError otherwise). None: the file in
        use is replaced where no save, copy or pickle names it (this index wrote it in this
        process and was not saved since), else a new file "<posting file>.rN" is written beside
        it. The new file builds under a temporary name and takes its own when it is swapped in
        (the name is claimed then: copies rebuilding at once, in threads or processes, get
        different files; a forked child gets its own), so a killed rebuild leaves only temporary
        files, which the next rebuild removes. The old file is
        left for the saves that name it: delete it once no save you keep does (save() after a
        rebuild names the new one), unless another index was built at its path since this one
        opened it (the rebuild then goes beside it, and the file at that path is the other's).
        progress: as in add() (bars by default on a terminal).
        ValueError for another kind or an empty index."""
        impl = self._impl
        if type(impl) is not _CoreIndex:
            raise ValueError(f"rebuild() applies to kind='spann' (this index runs on {self.device!r})")
        from ._sources import _Progress, _progress_callback
        cb = _progress_callback(progress, impl.kind, None)
        try:
            return impl.rebuild(None if path is None else _os.fspath(path), cb)
        finally:
            if isinstance(cb, _Progress):
                cb.close()

    def save(self, path):
        """Writes the index to one file, atomically (temporary file, fsync, rename). A SPANN
        index writes its in-memory part; the posting file stays where it is. A path holding a NUL byte raises ValueError."""
        self._impl.save(_os.fsencode(path))

    def memory_usage(self):
        """Bytes held by the index in memory (vectors or codes, graph, ids, search buffers;
        for SPANN the heads, their graph, the posting directory and the read buffers)."""
        return self._impl.memory_usage()

    def memory_breakdown(self):
        """memory_usage() by part (bytes, summing to it): "codes" (what a search walks with:
        float32 or float16 vectors, LVQ primary codes, 1-bit codes), "rerank_codes" (LVQ
        residuals, the LVQ-8 codes binary indexes re-rank with), "graph" (links), "kept_vectors"
        (keep_vectors=True), "codec" (mean, rotation), "ids", "scratch" (search buffers), "other";
        SPANN: "heads", "posting_directory", "codec", "scratch", "structure", "other"."""
        parts = getattr(self._impl, "memory_breakdown", None)
        return dict(parts()) if parts else {"other": self.memory_usage()}

    def stats(self):
        """Counters the kind keeps (SPANN: build figures; queries, lists_read, bytes_read,
        tail_bytes_read, entries_scanned since reset_stats())."""
        get = getattr(self._impl, "stats", None)
        return dict(get()) if get else {}

    def reset_stats(self):
        reset = getattr(self._impl, "reset_stats", None)
        if reset:
            reset()

    def __len__(self):
        return len(self._impl)

    dim = _forward("dim", "Vector dimension.")
    metric = _forward("metric", '"l2", "ip" or "cosine".')
    kind = _forward("kind", '"hnsw", "flat" or "spann".')
    device = _forward("device", 'Where the structure runs: "cpu" or "cuda:N".')
    params = _forward("params", "The options in force (a dict).")
    posting_path = _forward("posting_path", "SPANN: the posting file in use (None for other kinds).")
    heads = _forward("heads", "SPANN: the number of heads (posting lists); None for other kinds.")
    direct_io = _forward("direct_io", "SPANN: whether posting reads bypass the page cache (O_DIRECT); None otherwise.")

    @property
    def threads(self):
        return self._impl.threads

    @threads.setter
    def threads(self, value):
        self._impl.threads = _check_count("threads", value, 0)

    def __repr__(self):
        return f"vidx.Index(dim={self.dim}, metric={self.metric!r}, kind={self.kind!r}, size={len(self)})"

    # ---- persistence in memory: to_bytes, pickle, copy (the persist work; keep this block together) ----

    def to_bytes(self):
        """The index as bytes: exactly the file save() writes, verified the same way by
        vidx.from_bytes. SPANN: its in-memory part (heads, head graph, options); the posting
        file is not inside, the bytes name it by path (it must still exist to load them)."""
        if type(self._impl) is not _CoreIndex:
            raise TypeError(f"to_bytes is not supported for an index on {self.device}; use save()")
        return _core.index_to_bytes(self._impl)

    @property
    def read_only(self):
        """True for an index loaded with vidx.load(path, mmap=True): searches only; every write
        raises ValueError (save() still works and writes an ordinary copy)."""
        return type(self._impl) is _CoreIndex and _core.index_read_only(self._impl)

    def __reduce__(self):
        # pickle: the verified bytes; unpickling checks them like a file.
        return (from_bytes, (self.to_bytes(),))

    def __copy__(self):
        # A full, independent copy: a shallow one would share the structure, so adding to
        # the copy would change the original. SPANN copies share the posting file, which one
        # open index at a time may write (the other's writes raise OSError).
        return from_bytes(self.to_bytes())

    def __deepcopy__(self, memo):
        return from_bytes(self.to_bytes())


_CoreIndex = _core.Index

# A fork waits (up to 10 s) until no other thread is inside an index call, so the child never
# starts with an index lock held by a thread it does not have (cpp/include/vidx/common/fork_gate.hpp).
if hasattr(_os, "register_at_fork"):
    _os.register_at_fork(before=_core._fork_prepare, after_in_parent=_core._fork_parent,
                         after_in_child=_core._fork_child)


def load(path, posting_path=None, direct_io=None, device="cpu", *, mmap=False, verify=None):
    """Loads an index saved with Index.save, after verifying the whole file; the file says its
    kind. SPANN: the posting file is looked for where it was built, then beside ``path``;
    ``posting_path`` overrides; direct_io: None keeps the saved setting. device="cuda"/"cuda:N":
    a flat index (quant "none" or "f16") loaded onto that GPU.

    mmap=True maps the file instead of reading it: HNSW and flat search its records, codes and
    ids in place, so loading takes milliseconds and memory grows only with the pages searches
    touch (the kernel may drop them again). The index is read-only (add/remove/upsert/compact
    raise ValueError; save() writes an ordinary copy). The file must not be changed while it is
    mapped (save() of another index over it replaces it, which is safe). Checked on load: the
    header, the section table and every section copied into memory (ids, levels, upper links,
    options); the sections searched in place (HNSW level-0 records and code tails, flat codes,
    kept vectors) are trusted unless verify=True, which checksums them all (one pass over the
    file). verify applies to mmap=True only; without mmap everything is verified."""
    if device != "cpu":
        if mmap:
            raise ValueError("mmap=True loads onto the CPU only")
        from .gpu import load_flat_index
        return Index._wrap(load_flat_index(path, device))
    if direct_io is not None and not isinstance(direct_io, bool):
        raise TypeError("direct_io must be None or a bool")
    if not isinstance(mmap, bool):
        raise TypeError("mmap must be a bool")
    if verify is not None and not isinstance(verify, bool):
        raise TypeError("verify must be None or a bool")
    if verify is not None and not mmap:
        raise ValueError("verify= applies to mmap=True (a load without mmap always verifies everything)")
    posting = "" if posting_path is None else _os.fsencode(posting_path)
    direct = -1 if direct_io is None else int(direct_io)
    # The core refuses posting_path and direct_io for kinds other than SPANN (ValueError).
    return Index._wrap(_core.load(_os.fsencode(path), posting, direct, mmap, bool(verify)))


def from_bytes(data):
    """The index Index.to_bytes() (or pickle) produced. Verified like a file: ValueError naming
    the problem when the bytes are truncated, fail a checksum, come from a newer vidx or are
    not an index. SPANN bytes open their posting file by the path they name."""
    try:
        memoryview(data)  # bytes, bytearray, memoryview, or any object that lends its bytes
    except TypeError:
        raise TypeError(f"from_bytes needs bytes (bytes, bytearray or memoryview), got {type(data).__name__}") from None
    return Index._wrap(_core.index_from_bytes(data))


def verify(path):
    """Checks every checksum and link of an index file without keeping it in memory (the file
    is mapped, read once), and for SPANN every posting page its saved state names (a living
    index's free pages are not); raises ValueError/OSError naming the problem, returns None if
    sound."""
    _core.load(_os.fsencode(path), "", -1, True, True)


def cpu_features():
    """What the CPU supports and which SIMD level vidx chose (VIDX_SIMD lowers it): a dict with
    "arch", "vendor" (x86's cpuid vendor string, e.g. "GenuineIntel"; "" elsewhere), "flags"
    (avx512bf16 among them: the default float32 index's cosine walks then round the query to
    bfloat16 unless VIDX_BF16=0), "available", "best", "active", "lvq_active" (the LVQ codecs'
    level: "avx2" on Intel CPUs whose active level is "avx512", whose walks ran slower with any
    512-bit instruction; "active" elsewhere) and "reason"."""
    return _core.cpu_features()


def cmake_dir():
    """Folder to pass as vidx_DIR to CMake's find_package(vidx) to link the C++ library."""
    return _os.path.join(_os.path.dirname(__file__), "cpp", "lib", "cmake", "vidx")


def cuda_available():
    """True when vidx was built with CUDA and a GPU is usable."""
    try:
        from .gpu import cuda_available as _available
    except ImportError:
        return False
    return _available()


def kmeans(X, k, *args, **kwargs):
    """k-means clustering (CPU, or device="cuda"); see vidx.gpu.kmeans."""
    from .gpu import kmeans as _kmeans
    return _kmeans(X, k, *args, **kwargs)


# ---- lazily imported submodules (added by the platform work; keep this block self-contained) ----
# `vidx.datasets` and `vidx.bench` work after a plain `import vidx`, but are imported only on
# first use, so `import vidx` stays fast.
_LAZY_SUBMODULES = ("datasets", "bench")


def __getattr__(name):
    if name in _LAZY_SUBMODULES:
        import importlib
        return importlib.import_module(f"{__name__}.{name}")  # also binds it as an attribute
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY_SUBMODULES))
