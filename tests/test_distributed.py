"""vidx.distributed: ShardedIndex over Ray actors (one local Ray cluster for the module)."""
import json
import os
import threading
import time

import numpy as np
import pytest

ray = pytest.importorskip("ray")

import vidx  # noqa: E402
from vidx.distributed import ShardedIndex, build_from_dataset, search_dataset  # noqa: E402
from vidx._capabilities import supports  # noqa: E402
from vidx.distributed._merge import merge_ranges, merge_topk  # noqa: E402
from vidx.distributed._routing import shard_of_ids  # noqa: E402
from vidx.distributed.shard_ef import resolve_mode, shard_search_widths  # noqa: E402

from conftest import brute_force, clustered, recall  # noqa: E402

DIM = 16


@pytest.fixture(scope="module", autouse=True)
def ray_cluster():
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    yield
    if started:
        ray.shutdown()


@pytest.fixture(scope="module")
def data():
    both = clustered(3050, DIM, n_clusters=8, seed=3)
    return both[:3000], both[3000:]


@pytest.fixture(scope="module")
def flat3(data):
    """A 3-shard exact index over the data (tests that change it put it back). Every actor
    is a Python process: the tests keep their number small."""
    X, _ = data
    index = ShardedIndex(DIM, "l2", shards=3, kind="flat")
    index.add(X)
    return index


def needs(method, keyword=None):
    what = f"vidx.Index.{method}" + (f"({keyword}=)" if keyword else "")
    return pytest.mark.skipif(not supports(method, keyword), reason=f"{what} is not in this vidx build yet")


# ---- merges (no Ray involved) ----------------------------------------------------------
def test_merge_topk_is_the_topk_of_the_union():
    rng = np.random.default_rng(0)
    D = np.sort(rng.random((5, 12)).astype(np.float32), axis=1)
    I = rng.permutation(60).reshape(5, 12)
    parts = [(None, np.sort(D[:, s::3], 1), I[:, s::3][np.arange(5)[:, None], np.argsort(D[:, s::3], 1)])
             for s in range(3)]
    Dm, Im = merge_topk(parts, 5, 6)
    np.testing.assert_array_equal(Dm, D[:, :6])
    np.testing.assert_array_equal(Im, I[:, :6])
    # a shard asked only some queries, and fewer results than k: padded with -1 / inf
    Dm, Im = merge_topk([(np.array([1]), D[1:2, :2], I[1:2, :2])], 3, 4)
    assert (Im[[0, 2]] == -1).all() and np.isinf(Dm[[0, 2]]).all()
    np.testing.assert_array_equal(Im[1], [I[1, 0], I[1, 1], -1, -1])


def test_merge_topk_ranks_by_float64_distances_where_a_shard_gives_them():
    # Short "ip" rows: every float32 distance reads 1.0, so only the float64 ones rank them.
    a = (None, np.array([[1 - 3e-12, 1 - 1e-12]]), np.array([[10, 11]]))
    b = (None, np.array([[1 - 4e-12, 1 - 2e-12]]), np.array([[20, 21]]))
    D, I = merge_topk([a, b], 1, 3)
    np.testing.assert_array_equal(I, [[20, 10, 21]])
    assert D.dtype == np.float32 and (D == 1.0).all()
    # float32 shards beside a float64 one: each ranked by its own value
    c = (None, np.array([[0.5]], np.float32), np.array([[30]]))
    D, I = merge_topk([a, c], 1, 2)
    np.testing.assert_array_equal(I, [[30, 10]])


def test_merge_ranges_groups_by_query_sorted_by_distance():
    a = (None, np.array([0, 2, 2, 3]), np.array([0.5, 0.1, 0.3], np.float32), np.array([7, 8, 9]))
    b = (np.array([0, 2]), np.array([0, 1, 2]), np.array([0.2, 0.05], np.float32), np.array([1, 2]))
    lims, D, I = merge_ranges([a, b], 3)
    np.testing.assert_array_equal(lims, [0, 3, 3, 5])
    np.testing.assert_array_equal(I, [8, 1, 7, 2, 9])
    assert (np.diff(D[:3]) >= 0).all()


def test_hash_routing_is_stable_and_even():
    ids = np.arange(40000)
    shards = shard_of_ids(ids, 4)
    np.testing.assert_array_equal(shards, shard_of_ids(ids.copy(), 4))
    counts = np.bincount(shards, minlength=4)
    assert counts.min() > 0.95 * 10000 and counts.max() < 1.05 * 10000


# ---- ShardedIndex ----------------------------------------------------------------------
def test_exact_shards_answer_as_one_exact_index(data, flat3):
    X, Q = data
    single = vidx.Index(DIM, "l2", kind="flat")
    single.add(X)
    D1, I1 = single.search(Q, 10)
    D3, I3 = flat3.search(Q, 10)
    np.testing.assert_array_equal(I3, I1)
    np.testing.assert_allclose(D3, D1, rtol=1e-6)
    assert len(flat3) == len(X) and sum(flat3.shard_sizes()) == len(X)
    assert min(flat3.shard_sizes()) > 0.8 * len(X) / 3


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_shards_of_short_ip_rows_merge_in_order(kind):
    """Shards scale short "ip" rows (RowScale) and each ranks them right, but their float32
    distances all read 1.0: the merge ranked by shard order (recall 0.36 on 3 shards)."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3000, DIM)).astype(np.float32)
    q = (x[:50] + 0.05 * rng.standard_normal((50, DIM))).astype(np.float32)
    truth = np.argsort(-(q.astype(np.float64) @ x.T.astype(np.float64)), axis=1)[:, :10]
    short = np.float32(2.0 ** -20)
    with ShardedIndex(DIM, "ip", shards=3, kind=kind, threads=1) as index:
        index.add(x * short)
        D, I = index.search(q * short, 10)
    assert recall(I, truth) > 0.95
    assert D.dtype == np.float32


def test_range_results_over_shards_of_short_ip_rows_come_nearest_first():
    rng = np.random.default_rng(6)
    x = (rng.standard_normal((200, 8)) * 1e-7).astype(np.float32)
    q = rng.standard_normal((5, 8)).astype(np.float32)
    one = vidx.Index(8, "ip", kind="flat")
    one.add(x)
    radius = float(one.search(q, 10)[0][:, 9].max())
    inner = q.astype(np.float64) @ x.astype(np.float64).T
    with ShardedIndex(8, "ip", shards=2, kind="flat") as index:
        index.add(x)
        lims, D, I = index.range_search(q, radius)
    for i in range(len(q)):
        got = I[lims[i]:lims[i + 1]]
        want = one.range_search(q[i:i + 1], radius)[2]
        assert set(got.tolist()) == set(want.tolist())
        np.testing.assert_array_equal(got, got[np.argsort(-inner[i, got], kind="stable")])  # was id order
    assert D.dtype == np.float32 and (D < np.float32(radius)).all()


def test_hnsw_shards_keep_recall(data):
    X, Q = data
    _, truth = brute_force(X, Q, 10, "cosine")
    with ShardedIndex(DIM, "cosine", shards=2, kind="hnsw", M=12, ef_construction=64, threads=1) as index:
        index.add(X, np.arange(len(X)) * 3 + 5)  # user ids
        D, I = index.search(Q, 10, ef=64)
    assert recall((I - 5) // 3, truth) > 0.95
    assert (np.diff(D, axis=1) >= 0).all()


def test_split_widths_spread_one_total_beam():
    for ef, k, n in [(16, 10, 4), (16, 10, 2), (256, 10, 4), (10, 10, 8), (64, 1, 3)]:
        widths = shard_search_widths(ef, k, n, n)
        total = sum(w for _, w in widths)
        assert total == round(max(ef, k) * n ** 0.52)
        assert max(w for _, w in widths) - min(w for _, w in widths) <= 1
        assert all(k_shard == min(k, w) for k_shard, w in widths)
    assert shard_search_widths(40, 10, 1, 3) == [(10, 40)] * 3  # one shard per query: one index's walk
    assert resolve_mode("auto", True) == "split" and resolve_mode("auto", False) == "full"
    with pytest.raises(ValueError, match="ef_per_shard"):
        resolve_mode("half", True)


def test_split_ef_finds_what_one_index_finds_and_full_keeps_the_old_walk():
    """By default 4 hash-routed HNSW shards walk about ef/sqrt(4) each and find what one index
    with the same ef finds; ef_per_shard="full" walks every shard with the whole ef, exactly as
    before the option (more recall, for 4 times the work)."""
    both = clustered(6300, DIM, n_clusters=32, seed=3, spread=1.0)
    X, Q = both[:6000], both[6000:]
    _, truth = brute_force(X, Q, 10, "cosine")
    options = dict(M=16, ef_construction=64, seed=1, threads=1)
    single = vidx.Index(DIM, "cosine", **options)
    single.add(X)
    r_single = recall(single.search(Q, 10, ef=16)[1], truth)
    with ShardedIndex(DIM, "cosine", shards=4, **options) as index:
        index.add(X)
        r_split = recall(index.search(Q, 10, ef=16)[1], truth)
        D_full, I_full = index.search(Q, 10, ef=16, ef_per_shard="full")
        # the walk before the option: every shard asked for k results with the whole ef
        old = ray.get([actor.search.remote(Q, 10, None, {"ef": 16}) for actor in index.shard_actors])
        D_old, I_old = merge_topk([(None, *answer) for answer in old], len(Q), 10)
        np.testing.assert_array_equal(I_full, I_old)
        np.testing.assert_array_equal(D_full, D_old)
        index.ef_per_shard = "full"  # the index-wide setting; search(ef_per_shard=...) overrides it
        np.testing.assert_array_equal(index.search(Q, 10, ef=16)[1], I_old)
        assert recall(index.search(Q, 10, ef=16, ef_per_shard="split")[1], truth) == r_split
        # ef=None: the shards' ef_search (64 here) is split the same way
        index.ef_per_shard = "auto"
        np.testing.assert_array_equal(index.search(Q, 10)[1], index.search(Q, 10, ef=64)[1])
        with pytest.raises(ValueError, match="ef_per_shard"):
            index.search(Q, 10, ef_per_shard="half")
    r_full = recall(I_full, truth)
    assert abs(r_split - r_single) <= 0.02, (r_split, r_single)
    assert r_full - r_single >= 0.02, (r_full, r_single)  # the gap the default closes


def test_centroid_routing_asks_only_near_shards(data):
    X, Q = data
    _, truth = brute_force(X, Q, 10, "l2")
    with ShardedIndex(DIM, "l2", shards=2, kind="flat", routing="centroids") as index:
        index.add(X)
        sizes = index.shard_sizes()
        full = index.search(Q, 10)[1]
        near = index.search(Q, 10, shards_per_query=1)[1]
    assert sum(sizes) == len(X) and min(sizes) > 0
    assert recall(full, truth) == 1.0
    assert recall(near, truth) > 0.9  # each of the 8 clusters falls near one centroid: one shard holds its neighbours


def test_user_shard_key_places_rows(data):
    X, Q = data
    key = np.arange(len(X)) % 3 == 0  # rows 0, 3, 6... on shard 1
    with ShardedIndex(DIM, "l2", shards=2, kind="flat") as index:
        index.add(X, shard_key=key.astype(np.int64))
        assert index.shard_sizes() == [int((~key).sum()), int(key.sum())]
        np.testing.assert_array_equal(index.search(Q, 5)[1], brute_force(X, Q, 5, "l2")[1])


def test_bad_input_names_the_problem(flat3):
    with pytest.raises(ValueError, match="shape"):
        flat3.search(np.zeros((2, DIM + 1)), 3)
    with pytest.raises(ValueError, match="NaN"):
        flat3.add(np.full((1, DIM), np.nan))
    with pytest.raises(ValueError, match="repeated"):
        flat3.add(np.ones((2, DIM)), [10**9, 10**9])
    with pytest.raises(ValueError, match="shard_key"):
        flat3.add(np.ones((1, DIM)), [10**9], shard_key=[7])
    with pytest.raises(ValueError, match="unknown kind"):
        ShardedIndex(DIM, kind="nope")
    with pytest.raises(ValueError, match="routing"):
        flat3.search(np.zeros((1, DIM)), 3, shards_per_query=1)
    with pytest.raises(ValueError, match="uri"):
        flat3.save("s3://bucket/x")
    assert len(flat3) == 3000  # nothing was added


def test_save_writes_manifest_and_load_restores(data, flat3, tmp_path):
    X, Q = data
    flat3.save(tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["shards"] == 3 and manifest["kind"] == "flat" and manifest["vidx_version"] == vidx.__version__
    assert all(len(f["sha256"]) == 64 for f in manifest["files"])
    assert sum(f["rows"] for f in manifest["files"]) == len(X)
    assert manifest["ef_per_shard"] == flat3.ef_per_shard == "auto"
    with ShardedIndex.load(tmp_path) as loaded:
        assert loaded.ef_per_shard == "auto"
        np.testing.assert_array_equal(loaded.search(Q, 10)[1], flat3.search(Q, 10)[1])
    flat3.save(f"file://{tmp_path}")  # a second save replaces the first generation's files
    names = sorted(os.listdir(tmp_path))
    assert names == ["manifest.json"] + [f"shard-{s:05d}-g2.vidx" for s in range(3)]
    with open(tmp_path / names[1], "r+b") as f:  # a damaged shard file is refused by name
        f.seek(100)
        byte = f.read(1)
        f.seek(100)
        f.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(OSError, match="checksum"):
        ShardedIndex.load(tmp_path)


def kill_and_wait(actor, timeout=60.0):
    """ray.kill returns before the actor is gone: a call sent meanwhile may still be answered.
    Waits until the killed handle refuses calls, so the next index call meets a dead shard."""
    ray.kill(actor)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            ray.get(actor.size.remote(), timeout=5)
        except ray.exceptions.RayActorError:
            return
        except ray.exceptions.GetTimeoutError:  # slow, not dead: ask again
            continue
        time.sleep(0.05)
    raise AssertionError("the killed shard actor still answers")


def test_killed_shard_resumes_with_the_same_results(data, tmp_path):
    """Kill a shard actor during a search loop: the next search restarts it from its saved file
    and replays the writes logged since, and answers exactly as before the kill."""
    X, Q = data
    with ShardedIndex(DIM, "l2", shards=3, kind="flat") as index:
        index.add(X[:2000])
        index.save(tmp_path)
        index.add(X[2000:])  # written after the save: comes back from the redo log
        before = index.search(Q, 10)
        victim = index.shard_actors[1]
        for step in range(6):
            if step == 2:
                kill_and_wait(victim)
            D, I = index.search(Q, 10)
            np.testing.assert_array_equal(I, before[1])
            np.testing.assert_array_equal(D, before[0])
        assert index.shard_actors[1] != victim
        [report] = index.recoveries
        assert report["shard"] == 1 and report["replayed_writes"] == 1
        assert report["restored_from"].endswith("shard-00001-g1.vidx")
        # now from another thread, while searches are in flight
        killer = threading.Timer(0.3, ray.kill, args=(index.shard_actors[2],))
        killer.start()
        searches_after = 0
        while searches_after < 3:
            D, I = index.search(Q, 10)
            np.testing.assert_array_equal(I, before[1])
            np.testing.assert_array_equal(D, before[0])
            searches_after += not killer.is_alive()
        assert [r["shard"] for r in index.recoveries] == [1, 2]
        assert len(index) == len(X)


def test_without_replay_the_lost_writes_are_reported(data, tmp_path):
    X, Q = data
    with ShardedIndex(DIM, "l2", shards=2, kind="flat", wal="ids") as index:
        index.add(X[:2000])
        index.save(tmp_path)
        saved = index.search(Q, 10)
        index.add(X[2000:])
        kill_and_wait(index.shard_actors[0])
        with pytest.warns(RuntimeWarning, match="lost"):
            D, I = index.search(Q, 10)
        lost = index.recoveries[0]["lost_writes"]["added"]
        expected = np.arange(2000, 3000)[shard_of_ids(np.arange(2000, 3000), 2) == 0]
        np.testing.assert_array_equal(np.sort(lost), expected)
        # the saved data answers as before; the lost rows are gone, the other shard's stay
        survivors = np.setdiff1d(np.arange(len(X)), lost)
        _, truth = brute_force(X[survivors], Q, 10, "l2")
        np.testing.assert_array_equal(I, survivors[truth])
        assert set(saved[1].ravel()) >= set(I.ravel()) - set(range(2000, 3000))


def test_disk_log_is_replayed_by_a_new_driver(data, tmp_path):
    X, Q = data
    log_dir = tmp_path / "wal"
    with ShardedIndex(DIM, "ip", shards=2, kind="flat", wal=log_dir) as index:
        index.add(X[:1000])
        index.save(tmp_path / "idx")
        index.add(X[1000:1500])
        expected = index.search(Q, 10)
    with ShardedIndex.load(tmp_path / "idx", wal=log_dir) as restored:  # as if the driver had crashed
        assert len(restored) == 1500
        np.testing.assert_array_equal(restored.search(Q, 10)[1], expected[1])
        assert sorted(r["shard"] for r in restored.recoveries) == [0, 1]


def test_dataset_build_and_batch_search(data):
    X, Q = data
    # few blocks: every Ray Data block is a task, and tasks cost seconds on a loaded machine
    ds = ray.data.from_items([{"id": int(i) + 100, "vector": X[i]} for i in range(len(X))], override_num_blocks=2)
    with build_from_dataset(ds, "vector", id_column="id", shards=2, kind="flat", batch_size=1000) as index:
        assert len(index) == len(X)
        queries = ray.data.from_items([{"qid": i, "vector": Q[i]} for i in range(len(Q))], override_num_blocks=2)
        rows = search_dataset(index, queries, "vector", k=5, batch_size=25).take_all()
    rows.sort(key=lambda r: r["qid"])
    found = np.stack([r["neighbors"] for r in rows]) - 100
    np.testing.assert_array_equal(found, brute_force(X, Q, 5, "l2")[1])


def test_spann_shards_keep_their_postings_on_the_node(data, tmp_path):
    X, Q = data
    with ShardedIndex(DIM, "l2", shards=2, kind="spann", threads=1) as index:
        index.add(X)
        _, truth = brute_force(X, Q, 10, "l2")
        assert recall(index.search(Q, 10, nprobe=16)[1], truth) > 0.9
        index.save(tmp_path)
        assert len([n for n in os.listdir(tmp_path) if n.endswith(".postings")]) == 2
        with ShardedIndex.load(tmp_path) as loaded:
            np.testing.assert_array_equal(loaded.search(Q, 10, nprobe=16)[1], index.search(Q, 10, nprobe=16)[1])


def test_spann_shards_rebuild_after_growing(data, tmp_path):
    X, Q = data
    with ShardedIndex(DIM, "l2", shards=2, kind="spann", threads=1, path=tmp_path / "p.bin") as index:
        index.add(X[:300])
        index.add(X[300:], ids=np.arange(300, len(X)))
        index.save(tmp_path / "first")  # names the shards' files: the rebuild writes new ones
        paths = index.rebuild()
        assert [os.path.dirname(p) for p in paths] == [str(tmp_path)] * 2
        # The files the shards used before are gone (saves keep their own copies).
        assert sorted(n for n in os.listdir(tmp_path) if n.startswith("p.")) == sorted(os.path.basename(p) for p in paths)
        assert len(index) == len(X)
        _, truth = brute_force(X, Q, 10, "l2")
        assert recall(index.search(Q, 10, nprobe=16)[1], truth) > 0.9
        index.save(tmp_path / "saved")
        with ShardedIndex.load(tmp_path / "saved") as loaded:
            np.testing.assert_array_equal(loaded.search(Q, 10, nprobe=16)[1], index.search(Q, 10, nprobe=16)[1])
    with ShardedIndex(DIM, "l2", shards=2, kind="flat") as flat, pytest.raises(ValueError, match="spann"):
        flat.rebuild()


def test_a_saved_spann_shard_that_grows_leaves_no_file_behind(data, tmp_path):
    # After a save the index names its posting file, so the rebuild an add's growth makes goes
    # beside it; the shard's saves name their own copies, so the file left is the shard's to delete.
    X, _ = data
    from vidx.distributed._shard import ShardWorker
    worker = ShardWorker(0, DIM, "l2", "spann", {"path": str(tmp_path / "g.bin"), "threads": 1})
    worker.add(X[:200], np.arange(200))
    entry = worker.save(str(tmp_path / "saved.vidx"))
    first = worker.index.posting_path
    worker.add(X[200:], np.arange(200, len(X)))  # past rebuild_growth (2x): rebuilt with the add
    assert worker.index.posting_path != first and not os.path.exists(first)
    assert sorted(n for n in os.listdir(tmp_path) if n.startswith("g.")) == [os.path.basename(worker.index.posting_path)]
    assert worker.size() == len(X)
    restored = ShardWorker(0, DIM, "l2", "spann", {"path": str(tmp_path / "r.bin"), "threads": 1})
    assert restored.restore(entry) == 200  # the save keeps its own copy


def test_an_empty_spann_shard_is_left_as_it_is(data, tmp_path):
    X, _ = data
    from vidx.distributed._shard import ShardWorker
    empty = ShardWorker(0, DIM, "l2", "spann", {"path": str(tmp_path / "e.bin")})
    assert empty.rebuild() == str(tmp_path / "e.shard0.bin") and empty.size() == 0
    emptied = ShardWorker(1, DIM, "l2", "spann", {"path": str(tmp_path / "e.bin")})
    emptied.add(X[:500], np.arange(500))
    emptied.remove(np.arange(500))
    assert emptied.rebuild() == str(tmp_path / "e.shard1.bin")


# ---- living-index pass-throughs (run once vidx.Index has them) -------------------------
@needs("remove")
def test_remove_passes_through_and_refuses_unknown_ids(data, flat3):
    X, Q = data
    nearest = flat3.search(Q[:1], 3)[1][0]
    with pytest.raises(ValueError, match="not in the index"):
        flat3.remove([int(nearest[0]), 10**12])
    assert int(nearest[0]) in flat3
    assert flat3.remove(nearest[:2]) == 2
    assert int(nearest[0]) not in flat3
    assert flat3.search(Q[:1], 1)[1][0, 0] == nearest[2]
    flat3.add(X[nearest[:2]], nearest[:2])  # put back


@needs("upsert")
@needs("get")
def test_upsert_and_get(data, flat3):
    X, _ = data
    ids = np.array([5, 17, 2999])
    V, exact = flat3.get(ids)
    np.testing.assert_array_equal(V, X[ids])
    assert exact
    flat3.upsert(X[ids] + 1, ids)
    np.testing.assert_array_equal(flat3.get(ids)[0], X[ids] + 1)
    flat3.upsert(X[ids], ids)
    assert len(flat3) == len(X)


@needs("search", "filter")
def test_filters_pass_through(data, flat3):
    X, Q = data
    allowed = np.arange(0, len(X), 7)
    _, truth = brute_force(X[allowed], Q, 5, "l2")
    np.testing.assert_array_equal(flat3.search(Q, 5, filter=allowed)[1], allowed[truth])
    mask = np.zeros(len(X), bool)
    mask[allowed] = True
    np.testing.assert_array_equal(flat3.search(Q, 5, filter=mask)[1], allowed[truth])
    per_query = [allowed if i % 2 else mask for i in range(len(Q))]
    np.testing.assert_array_equal(flat3.search(Q, 5, filter=per_query)[1], allowed[truth])


@needs("range_search")
def test_range_search_passes_through(data, flat3):
    X, Q = data
    D, I = brute_force(X, Q, len(X), "l2")  # every distance, sorted
    radius = float(np.median(D[:, 10]))
    lims, Dr, Ir = flat3.range_search(Q, radius)
    assert len(lims) == len(Q) + 1 and lims[-1] == len(Ir) == len(Dr)
    for q in range(len(Q)):
        expected, found = set(I[q][D[q] < radius]), set(Ir[lims[q]:lims[q + 1]])
        borderline = set(I[q][np.abs(D[q] - radius) < 1e-4])  # float32 vs float64 at the edge
        assert not (expected ^ found) - borderline
        assert (np.diff(Dr[lims[q]:lims[q + 1]]) >= 0).all()


def test_an_add_a_shard_would_refuse_changes_no_shard():
    # The driver checked only NaN/inf; a value past the float32 bound was refused by one shard
    # while the other kept its rows, and the next default ids collided with them.
    X = np.random.default_rng(0).standard_normal((10, 8)).astype(np.float32)
    X[0, 0] = 1e30
    s = ShardedIndex(8, "l2", shards=2)
    with pytest.raises(ValueError, match="row 0 column 0"):
        s.add(X)
    assert len(s) == 0
    s.add(X[1:4] * 0)
    assert s.ids().tolist() == [0, 1, 2]
    lvq = ShardedIndex(8, "l2", shards=2, quant="lvq8")
    with pytest.raises(ValueError, match="quant 'lvq8' stores values within"):
        lvq.add(X[1:] * 1e5)
    assert len(lvq) == 0


def test_a_repeated_id_in_a_later_round_adds_nothing():
    s = ShardedIndex(8, "l2", shards=2, batch_size=2)
    with pytest.raises(ValueError):
        s.add(np.ones((3, 8), np.float32), ids=[0, 1, 0])
    assert len(s) == 0


def test_filtered_search_finds_k_allowed_ids_on_one_shard(data):
    # The split widths asked each shard for fewer than k: allowed ids all on one shard came back
    # short of k (6 of 10 found).
    X, Q = data
    with ShardedIndex(DIM, "l2", shards=2, kind="hnsw", threads=1) as index:
        index.add(X)
        on_one = np.flatnonzero(shard_of_ids(np.arange(len(X)), 2) == 0)[:10]
        found = index.search(Q[:5], 10, ef=10, filter=on_one)[1]
        assert all(sorted(row) == sorted(on_one) for row in found)


def test_loading_a_spann_save_leaves_the_open_index_files_alone(data, tmp_path):
    # The load copied the saved posting file over the path the open index was using.
    X, _ = data
    with ShardedIndex(DIM, "l2", shards=2, kind="spann", threads=1, path=str(tmp_path / "p.bin")) as live:
        live.add(X[:2000])
        live.save(tmp_path / "saved")
        live.add(X[2000:2100], ids=np.arange(2000, 2100))
        with ShardedIndex.load(tmp_path / "saved") as loaded:
            assert len(loaded) == 2000
        assert len(live) == 2100
        assert (live.search(X[2000:2040], 1, nprobe=16)[1][:, 0] == np.arange(2000, 2040)).all()


def test_ids_past_int64_are_named():
    # Default ids past 2**63 - 1 raised OverflowError (np.arange), and an id of 2**63 given as
    # uint64 was cast to int64 first: the error named -9223372036854775808.
    X = np.ones((3, DIM), np.float32)
    with ShardedIndex(DIM, "l2", shards=2, kind="flat") as s:
        s.add(X[:2], [2**63 - 2, 2**63 - 1])
        with pytest.raises(ValueError, match=r"would pass 2\^63 - 1 \(the next default id is 9223372036854775808\)"):
            s.add(X[:1])
        with pytest.raises(ValueError, match="id 9223372036854775808 does not fit"):
            s.add(X[:1], np.array([2**63], np.uint64))
        with pytest.raises(ValueError, match="id 9223372036854775808 does not fit"):
            s.add(X[:2], [5, 2**63])
        with pytest.raises(ValueError, match="id 18446744073709551616 does not fit"):
            s.add(X[:1], [2**64])
        if supports("remove"):
            with pytest.raises(ValueError, match="id 18446744073709551615 does not fit"):
                s.remove(np.array([2**64 - 1], np.uint64))
        assert s.ids().tolist() == [2**63 - 2, 2**63 - 1]


def test_contains_answers_as_vidx_index(data, flat3):
    # `-1 in s` raised ValueError (and 2**64 a TypeError about dtype object): an id never
    # stored is simply not in the index; only a non-integer is a TypeError.
    one = vidx.Index(DIM, "l2", kind="flat")
    one.add(data[0])
    for id_ in (0, 2999, np.int64(7), np.uint64(7), 3000, -1, np.int64(-1), 2**63 - 1, 2**63,
                np.uint64(2**63), 2**64):
        assert (id_ in flat3) == (id_ in one) == (0 <= id_ < 3000), id_
    for not_an_id in (1.5, np.float32(1), "1", None, True, np.True_):
        with pytest.raises(TypeError, match="ids are integers"):
            not_an_id in flat3  # noqa: B015


def test_a_closed_index_says_so(tmp_path):
    # After close() every call failed with IndexError (an empty actor list) or OverflowError.
    s = ShardedIndex(DIM, "l2", shards=2, kind="flat")
    s.add(np.ones((2, DIM), np.float32))
    s.close()
    s.close()  # a second close does nothing
    Q = np.ones((1, DIM), np.float32)
    calls = [lambda: len(s), lambda: 0 in s, lambda: s.add(Q), lambda: s.add(Q, [9]),
             lambda: s.upsert(Q, [0]), lambda: s.remove([0]), lambda: s.search(Q, 1),
             lambda: s.range_search(Q, 1.0), lambda: s.get([0]), s.ids, s.shard_sizes,
             s.recover, lambda: s.save(tmp_path / "x"), lambda: s.shard_actors,
             lambda: s.shard_requests(10, {}), lambda: s.__enter__()]
    for call in calls:
        with pytest.raises(ValueError, match="ShardedIndex is closed"):
            call()
    assert not (tmp_path / "x").exists()
    assert s.closed and "ShardedIndex" in repr(s)


def test_a_path_like_posting_path_saves_and_loads(data, tmp_path):
    # A pathlib.Path `path` went into the manifest as is: json.dump raised TypeError at save.
    X, Q = data
    with ShardedIndex(DIM, "l2", shards=2, kind="spann", threads=1, path=tmp_path / "p.bin") as index:
        index.add(X[:1000])
        index.save(tmp_path / "saved")
        manifest = json.loads((tmp_path / "saved" / "manifest.json").read_text())
        assert manifest["options"]["path"] == str(tmp_path / "p.bin")
        assert sorted(n for n in os.listdir(tmp_path) if n.startswith("p.")) == ["p.shard0.bin", "p.shard1.bin"]
        with ShardedIndex.load(tmp_path / "saved") as loaded:
            np.testing.assert_array_equal(loaded.search(Q, 5, nprobe=16)[1], index.search(Q, 5, nprobe=16)[1])
    with pytest.raises(TypeError, match="path must be a str or os.PathLike, got bytes"):
        ShardedIndex(DIM, "l2", shards=2, kind="spann", path=b"p.bin")
    with pytest.raises(TypeError, match="uri must be a str or os.PathLike, got bytes"):
        ShardedIndex.load(b"saved")


def test_a_save_whose_manifest_fails_keeps_the_last_save(data, tmp_path, monkeypatch):
    # The shard files were written and counted as the last save before the manifest: a failed
    # manifest left a shard restart to load files no manifest names, then replay writes they held.
    X, Q = data
    folder = tmp_path / "saved"
    with ShardedIndex(DIM, "l2", shards=2, kind="flat", threads=1) as index:
        index.add(X[:500])
        index.save(folder)
        index.add(X[500:800])
        before = sorted(os.listdir(folder))

        def full_disk(*args, **kwargs):
            raise OSError(28, "No space left on device")

        from vidx.distributed import _manifest
        monkeypatch.setattr(_manifest, "write", full_disk)
        with pytest.raises(OSError, match="No space left"):
            index.save(folder)
        monkeypatch.undo()
        assert sorted(os.listdir(folder)) == before  # no shard file of the failed save is left
        with ShardedIndex.load(folder) as loaded:
            assert len(loaded) == 500
        ray.kill(index.shard_actors[0])  # a restart recovers from the last save and the redo log
        index.recover()
        assert len(index) == 800
        np.testing.assert_array_equal(index.search(Q, 5)[1], brute_force(X[:800], Q, 5, "l2")[1])


# ---- the forty-seventh session's review (graph.md section 47) --------------------------
def test_a_reload_that_replays_its_log_keeps_the_drivers_bookkeeping(tmp_path):
    """load(wal=dir) replayed the writes into the shards but not what the driver knew of them:
    an id placed off its hash shard by a key read as absent (and could be added twice), default
    ids restarted at the save's, and centroids trained after the save were lost."""
    x = np.random.default_rng(8).standard_normal((100, 4)).astype(np.float32)
    with ShardedIndex(4, shards=2, kind="flat", wal=tmp_path / "wal_a") as index:
        index.add(x[:50])
        index.save(tmp_path / "a")
        other = 1 - int(shard_of_ids([5000], 2)[0])
        index.add(x[50:51], [5000], shard_key=[other])
        index.add(x[51:60])  # default ids 5001..5009
    with ShardedIndex.load(tmp_path / "a", wal=tmp_path / "wal_a") as again:
        assert 5000 in again
        with pytest.raises(ValueError, match="id 5000 is already in the index"):
            again.add(x[60:61], [5000])
        again.add(x[61:63])
        assert list(again.ids()[-2:]) == [5010, 5011] and len(again) == 62
    two = np.concatenate([x[:50] + 10, x[50:] - 10])
    with ShardedIndex(4, shards=2, kind="flat", routing="centroids", wal=tmp_path / "wal_c") as index:
        index.save(tmp_path / "c")
        index.add(two)
        D, I = index.search(two[:5], 3, shards_per_query=1)
    with ShardedIndex.load(tmp_path / "c", wal=tmp_path / "wal_c") as again:
        D2, I2 = again.search(two[:5], 3, shards_per_query=1)
    np.testing.assert_array_equal(I2, I)


def test_a_log_the_save_already_holds_replays_to_the_same_rows(tmp_path):
    """A driver that died between writing the manifest and clearing its log left a log whose
    adds the save holds: replaying them refused the ids, and the index would not load."""
    x = np.random.default_rng(0).standard_normal((80, 4)).astype(np.float32)
    with ShardedIndex(4, shards=2, kind="flat", wal=tmp_path / "wal") as index:
        index.add(x[:50])
        index.save(tmp_path / "idx")
        index.add(x[50:80])
        index.remove([3, 55])
        logs = {p: p.read_bytes() for p in (tmp_path / "wal").glob("*.log")}
        index.save(tmp_path / "idx")
    for path, data in logs.items():
        path.write_bytes(data)
    with ShardedIndex.load(tmp_path / "idx", wal=tmp_path / "wal") as again:
        assert len(again) == 78 and 3 not in again and 55 not in again
        np.testing.assert_array_equal(again.get([79])[0], x[79:80])


def test_writes_are_refused_whole_before_any_shard_gets_a_row(tmp_path):
    x = np.random.default_rng(2).standard_normal((300, 8)).astype(np.float32)
    with ShardedIndex(8, shards=3, kind="flat", batch_size=10) as index:
        for key, words in ((np.arange(25) % 3, "one shard number per row"), (np.r_[np.zeros(25, int), [7] * 5], "7")):
            with pytest.raises(ValueError, match=words):
                index.add(x[:30], shard_key=key)  # a bad key in a later round: earlier rounds went in
            assert len(index) == 0
    with ShardedIndex(8, shards=2, kind="spann", routing="centroids", path=tmp_path / "p.bin") as index:
        index.add(x)
        for write in (index.add, index.upsert):
            with pytest.raises(ValueError, match="SPANN ids must be below 2"):
                write(x[:2], [0 if write is index.upsert else 10**6, 2**60])
        assert len(index) == 300 and 0 in index  # the upsert moved id 0 off its shard first: lost


def test_split_widths_still_give_k_from_shards_left_unequal():
    x = np.random.default_rng(4).standard_normal((400, 16)).astype(np.float32)
    ids = np.arange(400)
    with ShardedIndex(16, shards=2, kind="hnsw", M=8) as index:
        index.add(x)
        index.remove(ids[shard_of_ids(ids, 2) == 1][10:])  # shards of 190 and 10 rows
        assert index.shard_requests(100, {})[0][0] < 100
        D, I = index.search(x[:3], 100)
    assert (I >= 0).all() and len({tuple(sorted(r)) for r in I}) == 3  # 82 of 100 before


def test_arguments_the_review_found_unchecked(tmp_path):
    x = np.random.default_rng(1).standard_normal((60, 4)).astype(np.float32)
    with pytest.raises(ValueError, match="centroids= needs routing='centroids'"):
        ShardedIndex(4, shards=2, kind="flat", centroids=x[:2])  # shards_per_query then answered wrong
    with ShardedIndex(4, shards=2, kind="flat", routing="centroids") as index:
        index.add(x)
        index.save(tmp_path / "saved")
        for bad, error in ((1.5, TypeError), ("1", TypeError), (0, ValueError)):
            with pytest.raises(error, match="shards_per_query"):
                index.search(x[:1], 3, shards_per_query=bad)
        with pytest.raises(TypeError, match="ignore_missing must be True or False"):
            index.remove([10**6], ignore_missing="no")  # read as True
        # a list of plain ints is one allow-list, as vidx.Index reads it
        D, I = index.search(x[:2], 3, filter=[5, 7, 9])
        assert set(I.ravel()) <= {5, 7, 9}
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        ShardedIndex.load(tmp_path / "saved", batch_size=-1)
    manifest = json.loads((tmp_path / "saved" / "manifest.json").read_text())
    for broken in ({k: v for k, v in manifest.items() if k != "next_id"}, {**manifest, "shards": 3}):
        (tmp_path / "saved" / "manifest.json").write_text(json.dumps(broken))
        with pytest.raises(OSError, match="missing next_id|names 2 shard files for 3 shards"):
            ShardedIndex.load(tmp_path / "saved")


def test_k_past_65536_is_taken_up_to_the_rows_of_all_shards():
    """One index pads k past its rows up to 65,536; a shard holding fewer rows than such a k
    refused it, naming its own size as the index's."""
    x = np.random.default_rng(3).standard_normal((70_000, 2)).astype(np.float32)
    with ShardedIndex(2, shards=3, kind="flat") as index:
        index.add(x)
        D, I = index.search(x[:1], 69_000)
        assert (I >= 0).all() and len(set(I[0].tolist())) == 69_000 and (np.diff(D[0]) >= 0).all()
        with pytest.raises(ValueError, match="k=70001 is larger than the index .70000 vectors"):
            index.search(x[:1], 70_001)


def test_a_move_cut_short_by_the_driver_replays_to_one_copy(tmp_path, monkeypatch):
    """An upsert moving an id adds it on its new shard, then removes it from the old one; a
    driver dying between the two left the id on both shards for good (the re-review)."""
    rng = np.random.default_rng(5)
    two = np.concatenate([rng.standard_normal((300, 4)) + 10, rng.standard_normal((300, 4)) - 10]).astype(np.float32)
    with ShardedIndex(4, shards=2, kind="flat", routing="centroids", wal=tmp_path / "wal") as index:
        index.add(two)
        index.save(tmp_path / "idx")
        monkeypatch.setattr(index, "_remove_located", lambda ids, where, log=True: 0)  # the driver "dies" here
        index.upsert(two[400:401], [0])  # id 0 moves to the other cluster's shard
        assert len(index) == 601  # both copies, in the dying driver's index
    with ShardedIndex.load(tmp_path / "idx", wal=tmp_path / "wal") as again:
        assert len(again) == 600 and (again.ids() == 0).sum() == 1
        np.testing.assert_array_equal(again.get([0])[0], two[400:401])
    with ShardedIndex.load(tmp_path / "idx") as saved:  # and a remove reaches every copy of an id
        monkeypatch.setattr(saved, "_remove_located", lambda ids, where, log=True: 0)
        saved.upsert(two[400:401], [0])
        monkeypatch.undo()
        assert saved.remove([0]) == 1 and 0 not in saved and len(saved) == 599


def test_a_reused_log_folders_centroids_are_not_taken_by_another_index(tmp_path):
    x = np.random.default_rng(9).standard_normal((200, 4)).astype(np.float32)
    with ShardedIndex(4, shards=2, kind="flat", wal=tmp_path / "wal") as index:
        index.add(x)
        index.save(tmp_path / "b")
    (tmp_path / "wal" / "centroids.json").write_text(json.dumps(  # another index's, left in the folder
        {"format": "vidx.sharded.centroids/1", "centroids": [[10.0] * 4, [-10.0] * 4]}))
    with ShardedIndex.load(tmp_path / "b", wal=tmp_path / "wal") as again:
        with pytest.raises(ValueError, match="shards_per_query needs routing='centroids'"):
            again.search(x[:3], 5, shards_per_query=1)  # answered from one shard: wrong


def test_split_widths_ask_again_when_the_narrowest_shard_comes_short():
    x = np.random.default_rng(0).standard_normal((400, 8)).astype(np.float32)
    with ShardedIndex(8, shards=2, kind="hnsw") as index:
        index.add(x)
        index.remove(np.flatnonzero(shard_of_ids(np.arange(400), 2) == 0))  # the widest shard emptied
        assert [k for k, _ in index.shard_requests(10, {"ef": 13})] == [10, 9]
        D, I = index.search(x[:5], 10, ef=13)
    assert (I >= 0).all()  # 9 of 10 before
