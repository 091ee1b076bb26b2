"""ShardedIndex: a vidx index split over Ray actors, one vidx.Index per shard.

Writes are routed by a hash of the id (or a shard key the user gives, or the nearest of one
trained centroid per shard); searches fan out and the per-shard top-k lists are merged exactly.
save() writes a file per shard and a manifest; a shard actor that dies is restarted from its last
saved file and the writes acknowledged since are replayed from the redo log (or, with
wal="ids", reported as lost)."""
from __future__ import annotations

import functools
import operator
import os
import warnings

import numpy as np
import ray

import vidx
from vidx import _check_choice, _check_count, _core, _KINDS, _METRICS

from . import _manifest
from .._capabilities import require, supports
from ._inputs import (INT64_MAX, as_ids, check_unique, for_metric, is_dataset, iter_dataset,
                      path_option, unwrap, validate_options)
from ._merge import merge_ranges, merge_topk
from ._redo_log import RedoLog
from ._routing import check_shard_key, shard_of_ids, split_by_shard
from ._shard import ShardWorker
from .shard_ef import resolve_mode, shard_search_widths

_ROUTINGS = ("hash", "centroids")
_DEFAULT_ACTOR_OPTIONS = {"num_cpus": 0, "scheduling_strategy": "SPREAD"}
_INLINE_BYTES = 64 * 1024


def _per_query(filter):
    """Whether a filter is one per query: a list or tuple of filters (arrays, lists, IdSets or
    None), as vidx.Index reads it; a list of plain ints is one allow-list for every query."""
    return isinstance(filter, (list, tuple)) and any(
        f is None or isinstance(f, (np.ndarray, list, tuple, vidx.IdSet)) for f in filter)


def _open_only(method):
    """Makes a public method refuse a closed index with a ValueError that says so (the type
    Python's closed files raise; vidx.Index has no close()). After close() the actor list is
    empty: calls failed on it with IndexError, some after training centroids or making folders."""
    @functools.wraps(method)
    def checked(self, *args, **kwargs):
        if self.closed:
            raise ValueError("this ShardedIndex is closed (close() stopped its shard actors; "
                             "ShardedIndex.load opens a saved one again)")
        return method(self, *args, **kwargs)
    return checked


class ShardedIndex:
    """A vidx index over `shards` Ray actors (call ray.init() first, or let Ray start a local
    cluster).

    Args:
        dim, metric, kind, **index_options: as vidx.Index; every shard gets the same options.
            SPANN keeps each shard's posting file on its actor's node: `path` gives one file per
            shard beside it (``postings.shard3.bin``; a str or os.PathLike), no `path` a temporary
            folder.
        shards: number of shard actors.
        routing: "hash" (id hash, the default: shards hold random, equal parts) or "centroids"
            (one k-means centroid per shard, trained on the first add() batch or given as
            `centroids`; each vector goes to its nearest centroid, and search(shards_per_query=m)
            asks only the m shards whose centroids are nearest each query).
        wal: what the driver keeps of the writes since the last save: "memory" (ids and vectors;
            a restarted shard replays them), a directory (the same, also appended to a file per
            shard there, fsynced, so ShardedIndex.load(uri, wal=dir) replays them in a new
            driver) or "ids" (only the ids: a restart reports them as lost).
        actor_options: Ray options of the shard actors (default: num_cpus=0, spread over nodes).
        batch_size: rows per add() round (each round sends every shard its part in parallel).
        ef_per_shard: the beam each HNSW shard walks for search(ef=...). "split": about
            ef / sqrt(N) per shard (N the shards a query visits; see shard_ef.py), each
            returning at most that many results, so N shards find what one index with the same
            ef finds (recall@10 within 0.005 on glove6b-50 and fashion-mnist, ef 16-256, 2 and
            4 shards) for about sqrt(N) times its work; "full": every shard walks the whole ef
            (higher recall for N times the work, the behaviour before this option); "auto"
            (default): "split" with hash routing, "full" with centroid or key routing, where
            one shard may hold all of a query's neighbours. search(ef_per_shard=...) overrides
            it per call. Flat shards are exact; SPANN shards and range_search take ef and
            nprobe as given, whatever this says.
    """

    def __init__(self, dim, metric="l2", shards=2, kind="hnsw", *, routing="hash", centroids=None,
                 wal="memory", actor_options=None, batch_size=65536, ef_per_shard="auto", **index_options):
        self.dim = _check_count("dim", dim, 1)
        _check_choice("metric", metric, _METRICS)
        _check_choice("kind", kind, _KINDS)
        _check_choice("routing", routing, _ROUTINGS)
        self.metric, self.kind, self.routing = metric, kind, routing
        self.shards = _check_count("shards", shards, 1)
        self.batch_size = _check_count("batch_size", batch_size, 1)
        self.options = path_option(dict(index_options))
        settings = validate_options(self.dim, metric, kind, self.options)
        self._ef_search, self._quant = settings["ef_search"], settings["quant"]
        resolve_mode(ef_per_shard, True)
        self.ef_per_shard = ef_per_shard
        self.actor_options = {**_DEFAULT_ACTOR_OPTIONS, **(actor_options or {})}
        self.recoveries = []  # one report per restarted shard (see _restart)
        self._log = RedoLog(self.shards, wal)
        self._saved = [None] * self.shards  # manifest entry of each shard's last save
        self._next_id = 0
        self._placed_by_key = False  # a user shard key was used: ids must be looked up
        self._centroids = None
        if centroids is not None:
            if routing != "centroids":  # hash-placed rows, then searches routed by centroids: wrong answers
                raise ValueError("centroids= needs routing='centroids' (this index routes by id hash)")
            self._set_centroids(centroids)
        self._start_actors()

    # ---- actors ------------------------------------------------------------------------
    def _spawn(self, shard):
        remote = ray.remote(ShardWorker).options(**self.actor_options)
        return remote.remote(shard, self.dim, self.metric, self.kind, self.options)

    def _start_actors(self):
        """One actor per shard, each restored from its saved file if any (in parallel); an
        actor that cannot start or load fails here."""
        self._actors = [self._spawn(s) for s in range(self.shards)]
        calls = {s: ("restore", (entry,)) if entry else ("size", ()) for s, entry in enumerate(self._saved)}
        futures = {s: getattr(self._actors[s], m).remote(*a) for s, (m, a) in calls.items()}
        for future in futures.values():
            try:
                ray.get(future)
            except ray.exceptions.RayTaskError as e:
                raise unwrap(e) from None

    @property
    @_open_only
    def shard_actors(self):
        """The actor handles, shard by shard (for diagnostics; restarts replace them)."""
        return list(self._actors)

    def _run(self, calls, on_success=None):
        """Runs {shard: (method, args)} on the shards in parallel; returns {shard: result}. A
        dead actor is restarted (saved file + redo log) and its call retried once. on_success(s)
        runs for each shard that succeeded, even when another failed (then the first error is
        raised afterwards, unwrapped from Ray's)."""
        futures = {s: getattr(self._actors[s], m).remote(*a) for s, (m, a) in calls.items()}
        results, error = {}, None
        for s, future in futures.items():
            try:
                try:
                    results[s] = ray.get(future)
                except ray.exceptions.RayActorError:
                    self._restart(s)
                    method, args = calls[s]
                    results[s] = ray.get(getattr(self._actors[s], method).remote(*args))
            except ray.exceptions.RayTaskError as e:
                error = error or unwrap(e)
                continue
            if on_success:
                on_success(s)
        if error is not None:
            raise error
        return results

    def _restart(self, shard):
        """Replaces shard's actor by a new one restored from its last save, then replays (or
        reports as lost) the writes acknowledged since."""
        try:
            ray.kill(self._actors[shard])
        except Exception:  # already gone
            pass
        self._actors[shard] = self._spawn(shard)
        if self._saved[shard]:
            try:
                ray.get(self._actors[shard].restore.remote(self._saved[shard]))
            except ray.exceptions.RayTaskError as e:
                raise unwrap(e) from None
        self.recoveries.append(self._replay_log(shard))

    def _replay_log(self, shard):
        """Re-applies the writes logged for shard since its save (or reports them as lost)."""
        records = self._log.records[shard]
        report = {"shard": shard, "restored_from": (self._saved[shard] or {}).get("file"),
                  "replayed_writes": 0, "lost_writes": None}
        if self._log.replayable:
            for op, ids, X in records:
                # Adds are replayed as upserts and removes skip missing ids: a log that also
                # reached the save (a crash between the manifest and the log's clearing) replays
                # to the same rows instead of refusing ids the shard holds.
                call = self._actors[shard].remove.remote(ids, True) if op == "remove" else \
                    self._actors[shard].upsert.remote(X, ids)
                try:
                    ray.get(call)
                except ray.exceptions.RayTaskError as e:
                    raise unwrap(e) from None
            report["replayed_writes"] = len(records)
        else:
            report["lost_writes"] = self._log.lost_writes(shard)
            records.clear()  # they are gone from the shard; the next save will not hold them
            lost = sum(len(v) for v in report["lost_writes"].values())
            warnings.warn(f"vidx shard {shard} restarted from its last save: {lost} ids written since "
                          "are lost (wal='ids'; see ShardedIndex.recoveries)", RuntimeWarning, stacklevel=4)
        return report

    @_open_only
    def recover(self):
        """Restarts every shard whose actor is dead; returns their reports."""
        before = len(self.recoveries)
        self._run({s: ("size", ()) for s in range(self.shards)})
        return self.recoveries[before:]

    def close(self):
        """Stops the shard actors (a saved index can be loaded again). Every method but close()
        then raises ValueError; a second close() does nothing."""
        for actor in self._actors:
            ray.kill(actor)
        self._actors = []

    @property
    def closed(self):
        """True once close() has stopped the shard actors."""
        return not self._actors

    @_open_only
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- routing -----------------------------------------------------------------------
    def _set_centroids(self, centroids):
        centroids = np.ascontiguousarray(centroids, dtype=np.float32)
        if centroids.shape != (self.shards, self.dim):
            raise ValueError(f"centroids must have shape ({self.shards}, {self.dim}), got {centroids.shape}")
        self._centroids = centroids
        self._centroid_index = vidx.Index(self.dim, metric=self.metric, kind="flat")
        self._centroid_index.add(centroids, np.arange(self.shards))

    def _nearest_shards(self, X, m):
        return self._centroid_index.search(X, m)[1]

    def _route(self, X, ids, shard_key):
        if shard_key is not None:
            self._placed_by_key = True
            return check_shard_key(shard_key, len(ids), self.shards)
        if self.routing == "centroids":
            if self._centroids is None:
                self._set_centroids(vidx.kmeans(for_metric(X, self.metric), self.shards, seed=0).centroids)
                self._log.note_centroids(self._centroids)  # a new driver replaying the log routes alike
            return self._nearest_shards(X, 1)[:, 0]
        return shard_of_ids(ids, self.shards)

    def _ids_are_hashed(self):
        return self.routing == "hash" and not self._placed_by_key

    def _holders(self, ids):
        """(rows, shards): every (position in ids, shard) whose shard holds that id. Ids not
        placed by hash may sit on more than one shard where a driver died in the middle of a
        move (added on the new shard, not yet removed from the old): writes reach every copy."""
        if self._ids_are_hashed():
            where = self._locate(ids)
            rows = np.flatnonzero(where >= 0)
            return rows, where[rows]
        held = self._run({s: ("contains", (ids,)) for s in range(self.shards)})
        table = np.stack([np.asarray(held[s], bool) for s in range(self.shards)], axis=1)
        return np.nonzero(table)

    def _locate(self, ids):
        """Shard of each id (-1: in no shard)."""
        ids = as_ids(ids)
        if self._ids_are_hashed():
            where = shard_of_ids(ids, self.shards)
            parts = {s: pos for s, pos in enumerate(split_by_shard(where, self.shards)) if len(pos)}
            held = np.zeros(len(ids), bool)
            for s, mask in self._run({s: ("contains", (ids[pos],)) for s, pos in parts.items()}).items():
                held[parts[s]] = mask
            return np.where(held, where, -1)
        where = np.full(len(ids), -1, np.int64)
        held = self._run({s: ("contains", (ids,)) for s in range(self.shards)})
        for s, mask in held.items():
            where[mask] = s
        return where

    # ---- writes ------------------------------------------------------------------------
    @_open_only
    def add(self, X, ids=None, *, shard_key=None, column="vector", id_column=None):
        """Adds vectors: X a (n, dim) array-like (ids: optional int64 ids; default continues
        after the largest id so far) or a ray.data.Dataset (vectors in `column`, ids in
        `id_column` or automatic; shard_key not accepted). Rows are sent in rounds of
        batch_size, every shard receiving its part of a round in parallel."""
        if is_dataset(X):
            if ids is not None or shard_key is not None:
                raise ValueError("with a Ray Dataset give ids as id_column (shard_key is not supported)")
            for batch_X, batch_ids in iter_dataset(X, column, id_column, self.batch_size):
                X, ids = self._checked_rows(batch_X, batch_ids)
                self._add_round(X, ids, None)
            return
        # Checked over the whole call: a later round must not fail on what an earlier one added.
        X, ids = self._checked_rows(X, ids)
        key = None if shard_key is None else check_shard_key(shard_key, len(X), self.shards)
        for start in range(0, len(X), self.batch_size):
            part = slice(start, start + self.batch_size)
            self._add_round(X[part], ids[part], None if key is None else key[part])

    def _new_ids(self, n):
        """n default ids after the largest so far; ValueError, as vidx.Index, where they would
        pass int64 (np.arange raised OverflowError)."""
        if self._next_id + n - 1 > INT64_MAX:
            raise ValueError(f"default ids for {n} vectors would pass 2^63 - 1 (the next default id "
                             f"is {self._next_id}); pass ids= explicitly")
        return np.arange(self._next_id, self._next_id + n, dtype=np.int64)

    def _checked_rows(self, X, ids):
        """(X, ids) as every shard's add() would accept them (vectors, ids given or default, none
        repeated or present), or ValueError before any shard is sent a row."""
        X = self._stored_vectors(X)
        ids = self._new_ids(len(X)) if ids is None else as_ids(ids, len(X))
        check_unique(ids)
        self._check_id_range(ids)
        self._refuse_present(ids)
        return X, ids

    def _check_id_range(self, ids):
        """Ids the shards' kind cannot store (SPANN: 2^56 or more), refused as its add() would,
        before any shard adds a row (a shard refused them after others had added theirs)."""
        _core._check_ids(self.kind, ids)

    def _add_round(self, X, ids, shard_key):
        """Rows checked by _checked_rows, each shard sent its part."""
        where = self._route(X, ids, shard_key)
        parts = {s: pos for s, pos in enumerate(split_by_shard(where, self.shards)) if len(pos)}
        try:
            self._write("add", parts, X, ids)
        finally:  # a shard that failed may leave the others' rows in: default ids never reuse them
            self._next_id = max(self._next_id, int(ids.max()) + 1)

    def _refuse_present(self, ids):
        """ValueError naming an id already stored, before any shard adds anything."""
        if supports("ids") and not (ids.min() >= self._next_id):  # only ids below next_id may exist
            present = self._locate(ids)
            if (present >= 0).any():
                raise ValueError(f"id {int(ids[present >= 0][0])} is already in the index (use upsert)")

    def _write(self, op, parts, X, ids, on_success=None):
        """Sends each shard its rows; logs every acknowledged part (also when another failed),
        then calls on_success(shard)."""
        calls = {s: (op, (X[pos], ids[pos])) for s, pos in parts.items()}

        def acknowledged(s):
            self._log.append(s, op, ids[parts[s]], X[parts[s]])
            if on_success:
                on_success(s)
        self._run(calls, on_success=acknowledged)

    @_open_only
    def upsert(self, X, ids, *, shard_key=None):
        """Adds or replaces vectors by id. An id routed elsewhere than where it lives is moved:
        added on its new shard, then removed from its old one once the new one holds it (a
        search made meanwhile from another thread may find it on both; a refused upsert leaves
        it where it was; the remove is in the redo log first, so a driver dying between the two
        replays to one copy). Removes and upserts reach every shard holding an id."""
        require("upsert")
        X = self._stored_vectors(X)
        ids = as_ids(ids, len(X))
        check_unique(ids)
        self._check_id_range(ids)
        key = None if shard_key is None else check_shard_key(shard_key, len(X), self.shards)
        where = self._route(X, ids, key)
        # Copies of the ids on other shards than they now route to: moved. Each leaves its old
        # shard only once its new shard holds it (removed first, a refused upsert lost the row:
        # a review, 600 rows -> 599). The removes are logged as the new shard acknowledges, so
        # a driver dying between the two steps leaves a log that replays to one copy.
        rows, shards = (np.zeros(0, np.int64),) * 2
        if not self._ids_are_hashed():
            rows, shards = self._holders(ids)
            stale = shards != where[rows]
            rows, shards = rows[stale], shards[stale]
        parts = {s: pos for s, pos in enumerate(split_by_shard(where, self.shards)) if len(pos)}
        took = set()

        def acknowledged(s):
            took.add(s)
            leaving = where[rows] == s
            for old, pos in enumerate(split_by_shard(shards[leaving], self.shards)):
                if len(pos):
                    self._log.append(old, "remove", ids[rows[leaving][pos]])
        error = None
        try:
            self._write("upsert", parts, X, ids, on_success=acknowledged)
        except BaseException as e:  # the moves whose new shard took them still complete
            error = e
        self._next_id = max(self._next_id, int(ids.max()) + 1)  # before anything else may raise
        gone = np.isin(where[rows], list(took))
        if gone.any():
            try:
                self._remove_located(ids[rows[gone]], shards[gone], log=False)  # logged above
            except BaseException as e:
                error = error or e
        if error is not None:
            raise error

    @_open_only
    def remove(self, ids, *, ignore_missing=False):
        """Removes ids; an unknown one raises ValueError naming it and nothing is removed
        (ignore_missing=True skips them). Returns the number removed."""
        require("remove")
        if not isinstance(ignore_missing, (bool, np.bool_)):  # "no" would read as True
            raise TypeError(f"ignore_missing must be True or False, got {type(ignore_missing).__name__}")
        ids = np.unique(as_ids(ids))
        rows, shards = self._holders(ids)  # every copy (see _holders)
        held = np.zeros(len(ids), bool)
        held[rows] = True
        if not ignore_missing and not held.all():
            raise ValueError(f"id {int(ids[~held][0])} is not in the index")
        self._remove_located(ids[rows], shards)
        return int(held.sum())

    def _remove_located(self, ids, where, log=True):
        parts = {s: pos for s, pos in enumerate(split_by_shard(where, self.shards)) if len(pos)}
        calls = {s: ("remove", (ids[pos], True)) for s, pos in parts.items()}
        counts = self._run(calls, on_success=(lambda s: self._log.append(s, "remove", ids[parts[s]])) if log else None)
        return int(sum(counts.values()))

    @_open_only
    def rebuild(self):
        """SPANN: rebuilds every shard at once (vidx.Index.rebuild: each re-clusters its stored
        vectors into a new posting file, and deletes the one it used, which no save names: saves
        copy posting files into their folder). Returns the shards' posting files; empty shards
        are left as they are. A shard's actor runs one call at a time, so searches and writes
        reaching a shard wait for its rebuild. Worth calling once the shards hold about twice the
        rows of their last build. No write is logged: a shard restarted from its last save holds
        the same rows either way."""
        if self.kind != "spann":
            raise ValueError(f"rebuild() applies to kind='spann' (this index is {self.kind!r})")
        paths = self._run({s: ("rebuild", ()) for s in range(self.shards)})
        return [paths[s] for s in range(self.shards)]

    # ---- reads -------------------------------------------------------------------------
    @_open_only
    def search(self, Q, k=10, *, filter=None, shards_per_query=None, ef_per_shard=None, **params):
        """k nearest neighbours over all shards: (D, I) as vidx.Index.search; the shards' answers
        are merged exactly. params (ef, rerank, nprobe, eps) go to every shard, ef (None: the
        index's ef_search) as ef_per_shard says (None: the index's setting; see the class).
        filter: as vidx.Index.search (allowed ids, a bool mask by id, or a list of those per
        query). shards_per_query=m (routing="centroids"): ask only the m shards whose
        centroids are nearest each query."""
        Q = self._vectors(Q, what="queries")
        k = _check_count("k", k, 1)
        if k > _core._max_padded_k:  # as one index: past its rows, up to 65,536 results are padded
            _core._check_k(k, len(self))
        if shards_per_query is not None:
            shards_per_query = _check_count("shards_per_query", shards_per_query, 1)
        params = {name: value for name, value in params.items() if value is not None}
        if filter is not None:
            require("search", "filter")
        # A filter may leave all allowed ids on one shard: the split widths (fewer than k from each
        # shard) then returned fewer than k of them. Every shard is asked for k in full.
        mode = "full" if filter is not None else ef_per_shard
        D, I = self._search_once(Q, k, filter, shards_per_query, mode, params)
        short = (I < 0).any(axis=1)
        if short.any() and min(k_shard for k_shard, _ in self.shard_requests(k, params, mode)) < k:
            # Split widths assume shards of about equal size: one left small (removes, a shard
            # key) returned fewer than its share, and the query fewer than k results where more
            # exist (a review: 82 of 100 from shards of 190 and 10 rows). Asked again in full.
            rows = np.flatnonzero(short)
            part = [filter[r] for r in rows] if _per_query(filter) else filter
            D[rows], I[rows] = self._search_once(Q[rows], k, part, shards_per_query, "full", params)
        return D, I

    def _search_once(self, Q, k, filter, shards_per_query, mode, params):
        plan = self._plan(Q, shards_per_query)
        fan_out = self.shards if shards_per_query is None else min(shards_per_query, self.shards)
        asks = self.shard_requests(k, params, mode, fan_out)
        calls = {s: ("search", (Qs, asks[s][0], self._shard_filter(filter, s, rows), asks[s][1]))
                 for s, (rows, Qs) in plan.items()}
        results = self._run(calls)
        return merge_topk([(plan[s][0], *results[s]) for s in plan], len(Q), k)

    @_open_only
    def shard_requests(self, k, params, ef_per_shard=None, fan_out=None):
        """[(k_shard, params_shard)] by shard: what each shard is asked for a search of k
        results with params (see ef_per_shard in the class); fan_out: the shards each query
        visits (None: all)."""
        mode = resolve_mode(self.ef_per_shard if ef_per_shard is None else ef_per_shard, self._ids_are_hashed())
        if self.kind != "hnsw" or mode == "full":
            return [(k, params)] * self.shards
        ef = self._ef_search if params.get("ef") is None else _check_count("ef", params["ef"], 1)
        widths = shard_search_widths(ef, k, fan_out or self.shards, self.shards)
        return [(k_shard, {**params, "ef": ef_shard}) for k_shard, ef_shard in widths]

    @_open_only
    def range_search(self, Q, radius, *, filter=None, shards_per_query=None, **params):
        """Every id within `radius` of each query (distance < radius), over all shards:
        (lims, D, I) in faiss CSR form, each query's results sorted by distance."""
        require("range_search")
        Q = self._vectors(Q, what="queries")
        params = {name: value for name, value in params.items() if value is not None}
        plan = self._plan(Q, shards_per_query)
        calls = {s: ("range_search", (Qs, float(radius), self._shard_filter(filter, s, rows), params))
                 for s, (rows, Qs) in plan.items()}
        results = self._run(calls)
        lims, D, I = merge_ranges([(plan[s][0], *results[s]) for s in plan], len(Q))
        # float64 distances of a scaled shard may round to the radius in float32: results stay under it
        with np.errstate(over="ignore"):  # a radius past float32 is inf, as the shards read it
            np.minimum(D, np.nextafter(np.float32(radius), np.float32(-np.inf)), out=D)
        return lims, D, I

    def _plan(self, Q, shards_per_query):
        """{shard: (query rows or None for all, queries)} for one fan-out."""
        if shards_per_query is not None:  # 2.5 was taken as "all", "1" raised from a comparison
            shards_per_query = _check_count("shards_per_query", shards_per_query, 1)
        if shards_per_query is None or shards_per_query >= self.shards:
            # a large batch goes to the object store once for every shard; a small one travels inline
            shared = ray.put(Q) if Q.nbytes > _INLINE_BYTES else Q
            return {s: (None, shared) for s in range(self.shards)}
        m = shards_per_query
        if self._centroids is None:
            raise ValueError("shards_per_query needs routing='centroids' (with hash routing every "
                             "neighbourhood is spread over all shards)")
        nearest = self._nearest_shards(Q, m)
        plan = {}
        for s in range(self.shards):
            rows = np.flatnonzero((nearest == s).any(axis=1))
            if len(rows):
                plan[s] = (rows, Q[rows])
        return plan

    def _shard_filter(self, filter, shard, rows):
        """The filter one shard needs: an allow-list of ids is cut to the shard's ids when ids
        are hashed (less to ship); masks go as they are; per-query lists follow the query rows."""
        if filter is None:
            return None
        if _per_query(filter):
            picked = filter if rows is None else [filter[r] for r in rows]
            return [self._shard_filter(f, shard, None) for f in picked]
        allowed = np.asarray(filter)
        if allowed.dtype != bool and self._ids_are_hashed() and allowed.ndim == 1:
            allowed = allowed[shard_of_ids(allowed, self.shards) == shard]
        return allowed

    @_open_only
    def get(self, ids):
        """(vectors, exact) for ids, in the order given (ValueError naming an unknown id)."""
        require("get")
        ids = as_ids(ids)
        where = self._locate(ids)
        if (where < 0).any():
            raise ValueError(f"id {int(ids[where < 0][0])} is not in the index")
        parts = {s: pos for s, pos in enumerate(split_by_shard(where, self.shards)) if len(pos)}
        results = self._run({s: ("get", (ids[pos],)) for s, pos in parts.items()})
        out = np.empty((len(ids), self.dim), np.float32)
        for s, pos in parts.items():
            out[pos] = results[s][0]
        return out, all(bool(results[s][1]) for s in parts)

    @_open_only
    def ids(self):
        """Every id held, sorted."""
        require("ids")
        held = self._run({s: ("ids", ()) for s in range(self.shards)})
        return np.sort(np.concatenate([np.asarray(held[s], np.int64) for s in range(self.shards)]))

    @_open_only
    def __contains__(self, id_):
        """As vidx.Index: False for an id never stored (negative or past int64 included), and
        TypeError only for what is not an integer (a bool included)."""
        if isinstance(id_, bool) or not hasattr(id_, "__index__"):
            raise TypeError(f"ids are integers, got {type(id_).__name__}")
        id_ = operator.index(id_)
        if not 0 <= id_ <= INT64_MAX:
            return False
        return bool(self._locate(np.array([id_], np.int64))[0] >= 0)

    @_open_only
    def shard_sizes(self):
        sizes = self._run({s: ("size", ()) for s in range(self.shards)})
        return [sizes[s] for s in range(self.shards)]

    @_open_only
    def __len__(self):
        return sum(self.shard_sizes())

    def __repr__(self):
        return (f"vidx.distributed.ShardedIndex(dim={self.dim}, metric={self.metric!r}, kind={self.kind!r}, "
                f"shards={self.shards}, routing={self.routing!r})")

    # ---- files -------------------------------------------------------------------------
    @_open_only
    def save(self, uri):
        """Writes one file per shard (SPANN: and its posting file) and manifest.json into the
        shared folder `uri` (a path every node sees, or file://). The manifest is replaced last
        and atomically; files of the previous save there are deleted after it. The redo log
        restarts empty: the files hold every write so far."""
        folder = _manifest.local_path(uri)
        os.makedirs(folder, exist_ok=True)
        try:
            generation = _manifest.read(folder)["generation"] + 1
        except OSError:
            generation = 1
        calls = {s: ("save", (_manifest.shard_file(folder, s, generation),)) for s in range(self.shards)}
        entries = self._run(calls)
        saved = [entries[s] for s in range(self.shards)]
        try:
            _manifest.write(folder, {
                "generation": generation, "dim": self.dim, "metric": self.metric, "kind": self.kind,
                "shards": self.shards, "routing": self.routing, "options": self.options,
                "placed_by_key": self._placed_by_key, "next_id": self._next_id,
                "ef_per_shard": self.ef_per_shard,
                "centroids": None if self._centroids is None else self._centroids.tolist(),
                "files": [_manifest.relative(entry, folder) for entry in saved]})
        except BaseException:
            # No manifest names these files: the last save (and the redo log since it) stays what
            # a restarted shard recovers from, and the files are not left to fill the folder.
            _manifest.remove_generation(folder, generation)
            raise
        self._saved = saved
        _manifest.remove_other_generations(folder, generation)
        self._log.clear()

    @classmethod
    def load(cls, uri, *, wal="memory", actor_options=None, batch_size=65536):
        """Restores a saved index (checksums verified by each shard before loading). With wal a
        directory, the writes logged there since that save are replayed."""
        folder = _manifest.local_path(uri)
        m = _manifest.read(folder)
        self = cls.__new__(cls)
        self.dim, self.metric, self.kind = m["dim"], m["metric"], m["kind"]
        self.shards, self.routing, self.options = m["shards"], m["routing"], m["options"]
        settings = validate_options(self.dim, self.metric, self.kind, self.options)
        self._ef_search, self._quant = settings["ef_search"], settings["quant"]
        self.ef_per_shard = m.get("ef_per_shard", "auto")  # manifests before the option: the default
        self.batch_size = _check_count("batch_size", batch_size, 1)
        self.actor_options = {**_DEFAULT_ACTOR_OPTIONS, **(actor_options or {})}
        self.recoveries = []
        self._log = RedoLog(self.shards, wal)
        self._saved = [_manifest.absolute(entry, folder) for entry in m["files"]]
        self._next_id, self._placed_by_key = m["next_id"], m["placed_by_key"]
        self._centroids = None
        if m["centroids"] is not None:
            self._set_centroids(np.asarray(m["centroids"], np.float32))
        if self._log.directory:
            self._log.read_directory()
            trained = self._log.centroids  # since that save; a file of another index is not ours
            if (self.routing == "centroids" and self._centroids is None and trained is not None
                    and trained.shape == (self.shards, self.dim)):
                self._set_centroids(trained)
        self._start_actors()
        if self._log.directory:
            for s in range(self.shards):
                if self._log.records[s]:  # the writes logged after that save, by an earlier driver
                    self.recoveries.append(self._replay_log(s))
                    self._follow_replayed(s)
        return self

    def _follow_replayed(self, shard):
        """The driver's own record of writes an earlier driver logged: default ids continue after
        the ids written, and ids a shard key placed off their hash shard are looked up (a review:
        after such a reload, `5000 in index` was False and a second 5000 could be added)."""
        for op, ids, _ in self._log.records[shard]:
            if op == "remove" or not len(ids):
                continue
            self._next_id = max(self._next_id, int(ids.max()) + 1)
            if self.routing == "hash" and (shard_of_ids(ids, self.shards) != shard).any():
                self._placed_by_key = True

    # ---- input checks --------------------------------------------------------------------
    def _vectors(self, X, what="vectors"):
        X = np.asarray(X, dtype=np.float32)
        if X.ndim == 1:
            X = X[None, :]
        if X.ndim != 2 or X.shape[1] != self.dim:
            raise ValueError(f"{what} must have shape (n, {self.dim}), got {X.shape}")
        if len(X) == 0:
            raise ValueError(f"no {what} given")
        if not np.isfinite(X).all():
            raise ValueError(f"{what} hold NaN or inf")
        return np.ascontiguousarray(X)

    def _stored_vectors(self, X):
        """_vectors, then every check a shard's add() makes of them (value bounds, the quant's
        included; zero vectors under cosine), before any shard is sent a row."""
        X = self._vectors(X)
        # the kind's default quant when not given; whether the shards keep cosine lengths, the core says
        keeps_lengths = _core._keeps_lengths(self.kind, self.metric)
        _core._check_rows(X, self.dim, self.metric, self._quant, keeps_lengths)
        return X
