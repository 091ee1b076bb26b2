"""search(filter=...): allow-lists, boolean masks, one filter per query, for hnsw and flat."""
import numpy as np
import pytest

import vidx
from conftest import clustered

N, DIM, NQ, K = 4000, 24, 60, 10
SELECTIVITIES = [0.5, 0.1, 0.01, 0.001]


@pytest.fixture(scope="module")
def data():
    both = clustered(N + NQ, DIM, n_clusters=40, seed=11)
    return both[:N], both[N:]


@pytest.fixture(scope="module", params=["hnsw", "flat"])
def index(request, data):
    x, _ = data
    idx = vidx.Index(DIM, kind=request.param)
    idx.add(x)
    return idx


def exact_filtered(x, q, allowed, k):
    """The k nearest allowed ids of each query (squared L2, float64)."""
    allowed = np.asarray(allowed)
    d = ((q[:, None, :].astype(np.float64) - x[None, allowed, :]) ** 2).sum(-1)
    order = np.argsort(d, axis=1, kind="stable")[:, :k]
    return allowed[order]


def filtered_recall(found, truth):
    hits = [len(set(f) & set(t)) / len(t) for f, t in zip(found, truth) if len(t)]
    return float(np.mean(hits)) if hits else 1.0


@pytest.mark.parametrize("selectivity", SELECTIVITIES)
def test_filtered_top10_matches_exact_filtered_search(index, data, selectivity):
    x, q = data
    rng = np.random.default_rng(int(selectivity * 1000))
    allowed = np.flatnonzero(rng.random(N) < selectivity)
    D, I = index.search(q, K, filter=allowed)
    truth = exact_filtered(x, q, allowed, K)
    assert np.isin(I[I >= 0], allowed).all()
    assert filtered_recall(I, truth) >= (0.95 if index.kind == "hnsw" else 1.0)
    # fewer allowed ids than k: the tail is padded, never an error
    assert (I >= 0).sum(axis=1).min() == min(K, len(allowed))
    assert np.all(np.isinf(D[I < 0]))


def test_filter_on_a_cluster_far_from_the_queries(index, data):
    """Allowed ids all around one row far from query 0: the walk (600 allowed rows at ef 16 is
    past the exact-scan threshold) must cross disallowed regions to reach them."""
    x, q = data
    far_row = np.argsort(((x - q[0]) ** 2).sum(1))[-1]
    allowed = np.sort(np.argsort(((x - x[far_row]) ** 2).sum(1))[:600])
    _, I = index.search(q, K, filter=allowed, ef=16) if index.kind == "hnsw" else index.search(q, K, filter=allowed)
    assert filtered_recall(I, exact_filtered(x, q, allowed, K)) >= 0.95


def test_mask_and_allow_list_give_the_same_results(data):
    x, q = data
    ids = np.arange(N, dtype=np.int64) * 3 + 7  # not the slots: filters go through the id map
    idx = vidx.Index(DIM, kind="hnsw")
    idx.add(x, ids)
    rng = np.random.default_rng(5)
    allowed = np.sort(rng.choice(ids, 300, replace=False))
    mask = np.zeros(ids.max() + 1, dtype=bool)
    mask[allowed] = True
    D1, I1 = idx.search(q, K, filter=allowed)
    D2, I2 = idx.search(q, K, filter=mask)
    D3, I3 = idx.search(q, K, filter=list(allowed))  # a plain list of ints is an allow-list
    np.testing.assert_array_equal(I1, I2)
    np.testing.assert_array_equal(I1, I3)
    np.testing.assert_allclose(D1, D2)
    assert np.isin(I1, allowed).all()
    truth = ids[exact_filtered(x, q, (allowed - 7) // 3, K)]
    assert filtered_recall(I1, truth) >= 0.95


def test_one_filter_per_query_equals_each_query_alone(index, data):
    x, q = data
    rng = np.random.default_rng(3)
    filters = []
    for i in range(len(q)):
        sel = [0.5, 0.1, 0.01][i % 3]
        allowed = np.flatnonzero(rng.random(N) < sel)
        filters.append(allowed if i % 2 else np.isin(np.arange(N), allowed))  # lists and masks mixed
    filters[4] = None  # an unfiltered query inside a filtered batch
    D, I = index.search(q, K, filter=filters)
    for i in range(len(q)):
        Di, Ii = index.search(q[i], K, filter=filters[i])
        np.testing.assert_array_equal(I[i], Ii[0])
        np.testing.assert_allclose(D[i], Di[0])
    np.testing.assert_array_equal(I[4], index.search(q[4], K)[1][0])


def test_ids_not_in_the_index_are_not_allowed(index, data):
    _, q = data
    allowed = np.array([5, 17, 10**12, N + 3], dtype=np.int64)
    _, I = index.search(q[:3], K, filter=allowed)
    assert set(I[I >= 0].tolist()) <= {5, 17}
    assert (I >= 0).sum(axis=1).tolist() == [2, 2, 2]
    _, I = index.search(q[:3], K, filter=np.array([], dtype=np.int64))
    assert (I == -1).all()
    _, I = index.search(q[:3], K, filter=np.zeros(N, dtype=bool))
    assert (I == -1).all()


def test_short_mask_allows_nothing_past_its_end(index, data):
    _, q = data
    mask = np.ones(100, dtype=bool)
    _, I = index.search(q[:5], K, filter=mask)
    assert (I >= 0).all() and (I < 100).all()


@pytest.mark.parametrize("quant", ["lvq4x8", "f16", "f32_split"])
def test_compressed_codes_rerank_among_allowed(data, quant):
    x, q = data
    idx = vidx.Index(DIM, kind="hnsw", quant=quant)
    idx.add(x)
    allowed = np.flatnonzero(np.random.default_rng(9).random(N) < 0.1)
    _, I = idx.search(q, K, filter=allowed)
    assert np.isin(I, allowed).all()
    assert filtered_recall(I, exact_filtered(x, q, allowed, K)) >= 0.9


@pytest.mark.parametrize("quant", ["lvq4", "lvq8"])
@pytest.mark.parametrize("selectivity", [0.05, 0.01])
def test_scans_with_kept_vectors_are_exact(data, quant, selectivity):
    """Where HNSW scans the allowed rows (here 200 or 40 of 4000 at ef 10), an index that keeps
    float32 vectors scans those: its top-k and distances are the exact ones, however coarse
    the codes it walks (a scan of the walk's codes kept the ef best by their distances, which
    missed a true neighbour in 30 of these 60 queries with 4-bit codes, 2-3 with 8-bit)."""
    x, q = data
    idx = vidx.Index(DIM, kind="hnsw", quant=quant, keep_vectors=True)
    idx.add(x)
    allowed = np.flatnonzero(np.random.default_rng(5).random(N) < selectivity)
    D, I = idx.search(q, K, filter=allowed, ef=10)
    truth = exact_filtered(x, q, allowed, K)
    np.testing.assert_array_equal(I, truth)
    want = ((q[:, None, :].astype(np.float64) - x[truth].astype(np.float64)) ** 2).sum(-1)
    np.testing.assert_allclose(D, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("metric", ["l2", "cosine"])
@pytest.mark.parametrize("selectivity", [0.05, 0.01])
def test_f32_split_scans_give_float32s_answer(data, selectivity, metric):
    """Where HNSW scans the allowed rows, f32_split ranks them by the joined halves (the stored
    float32): its top-k and distances are a float32 index's, bit for bit. Ranked by the upper
    halves, the scan kept the ef best by a distance within 2^-8 and missed true neighbours."""
    x, q = data
    allowed = np.flatnonzero(np.random.default_rng(5).random(N) < selectivity)
    found = {}
    for quant in ("none", "f32_split"):
        idx = vidx.Index(DIM, metric=metric, kind="hnsw", quant=quant)
        idx.add(x)
        found[quant] = idx.search(q, K, filter=allowed, ef=10)
    if metric == "l2":
        np.testing.assert_array_equal(found["f32_split"][1], exact_filtered(x, q, allowed, K))
    np.testing.assert_array_equal(found["f32_split"][1], found["none"][1])
    np.testing.assert_array_equal(found["f32_split"][0], found["none"][0])


def test_cosine_filtered(data):
    x, q = data
    idx = vidx.Index(DIM, metric="cosine", kind="hnsw")
    idx.add(x)
    allowed = np.flatnonzero(np.arange(N) % 7 == 0)
    D, I = idx.search(q, K, filter=allowed)
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    qn = q / np.linalg.norm(q, axis=1, keepdims=True)
    sims = qn @ xn[allowed].T
    truth = allowed[np.argsort(-sims, axis=1)[:, :K]]
    assert filtered_recall(I, truth) >= 0.95


@pytest.mark.parametrize(
    "bad, error, words",
    [
        (np.array([1.5, 2.0]), TypeError, "integer ids or booleans"),
        (np.array(["a", "b"]), TypeError, "integer ids or booleans"),
        (np.zeros((2, 3), dtype=np.int64), ValueError, "1-d"),
        (np.array([3, -1]), ValueError, ">= 0"),
        (np.array([2**63 + 5], dtype=np.uint64), ValueError, "int64"),
        ([np.array([1])] * 3, ValueError, "3 filters for 4 queries"),
        ([np.array([1]), np.array([0.5]), None, None], TypeError, "filter[1]"),
        ({1, 2}, TypeError, "got set"),  # was ValueError "got 0 dimensions"
        ("12", TypeError, "got str"),
        ([{1}, None, None, None], TypeError, "filter[0] must be an array"),
    ],
)
def test_bad_filters_raise(index, data, bad, error, words):
    _, q = data
    with pytest.raises(error, match=words.replace("[", r"\[").replace("]", r"\]")):
        index.search(q[:4], K, filter=bad)


def test_filtered_search_releases_the_gil(data):
    """A long filtered batch in one thread does not stop another Python thread."""
    import threading

    x, q = data
    idx = vidx.Index(DIM, kind="flat")
    idx.add(x)
    big_q = np.repeat(q, 200, axis=0)  # ~0.2 s of search: long enough for a busy host to tick
    allowed = np.arange(0, N, 2)
    ticks = []
    started, done = threading.Event(), threading.Event()

    def tick():
        while not done.is_set():
            ticks.append(1)
            started.set()
            done.wait(0.001)

    t = threading.Thread(target=tick)
    t.start()
    started.wait()
    before = len(ticks)
    idx.search(big_q, K, filter=allowed)
    during = len(ticks) - before
    done.set()
    t.join()
    assert during >= 1  # the other thread ran while the search held no GIL


def test_unsorted_repeated_allow_list_equals_sorted(index, data):
    _, q = data
    allowed = np.flatnonzero(np.random.default_rng(8).random(N) < 0.3)
    shuffled = np.random.default_rng(9).permutation(np.concatenate([allowed, allowed[:50], [N + 10]]))
    D1, I1 = index.search(q, K, filter=allowed)
    D2, I2 = index.search(q, K, filter=shuffled)
    np.testing.assert_array_equal(I1, I2)
    np.testing.assert_allclose(D1, D2)


@pytest.mark.parametrize("kind", ["hnsw", "flat"])
def test_removed_ids_never_appear(kind, data):
    """Removed rows are hidden through the same row filter: unfiltered, allow-list (naming
    removed ids), mask, per-query lists and range search."""
    x, q = data
    idx = vidx.Index(DIM, kind=kind)
    idx.add(x)
    removed = np.arange(0, N, 2)
    idx.remove(removed)
    allowed = np.arange(0, N, 3)  # half of them removed
    mask = np.zeros(N, dtype=bool)
    mask[allowed] = True
    for flt in [None, allowed, mask, [allowed, None] * (len(q) // 2)]:
        _, I = idx.search(q, K, filter=flt)
        assert not np.isin(I, removed).any()
    _, I = idx.search(q, K, filter=allowed)
    live_allowed = np.setdiff1d(allowed, removed)
    assert filtered_recall(I, exact_filtered(x, q, live_allowed, K)) >= 0.95
    lims, _, I = idx.range_search(q, 1e9, filter=allowed)
    assert not np.isin(I, removed).any() and lims[1] == len(live_allowed)


@pytest.mark.parametrize("kind", ["hnsw", "flat"])
@pytest.mark.parametrize("spacing", [3, 10**9])  # user ids within a few times n (a bitset over ids), or sparse
def test_allow_lists_over_user_ids(kind, spacing, data):
    """Allow-lists over user-given ids, increasing or shuffled with repeats, long (read in
    place by binary search) or short (a bitset), before and after removals: the same top-k
    as an exact search of the allowed rows."""
    x, q = data
    ids = np.arange(N, dtype=np.int64) * spacing + 7
    idx = vidx.Index(DIM, kind=kind)
    idx.add(x, ids)
    rng = np.random.default_rng(spacing % 97)
    for removed_rows in [np.array([], dtype=np.int64), np.arange(0, N, 4)]:
        idx.remove(ids[removed_rows])
        for share in [0.6, 0.1, 0.01]:
            rows = np.flatnonzero(rng.random(N) < share)
            live = np.setdiff1d(rows, removed_rows)
            truth = ids[exact_filtered(x, q, live, K)]
            shuffled = rng.permutation(np.concatenate([ids[rows], ids[rows[:5]], [ids[-1] + 1]]))
            for flt in [ids[rows], shuffled]:
                _, I = idx.search(q, K, filter=flt)
                assert np.isin(I[I >= 0], ids[live]).all()
                assert filtered_recall(I, truth) >= (0.95 if kind == "hnsw" else 1.0)


def test_negative_id_in_one_of_the_per_query_filters_is_named(index, data):
    _, q = data
    flts = [np.arange(10), np.arange(20), np.array([4, 5, -3]), None]
    with pytest.raises(ValueError, match=r"filter 2 allows id -3"):
        index.search(q[:4], K, filter=flts)
    with pytest.raises(ValueError, match=r"the filter allows id -9"):
        index.search(q[:4], K, filter=np.array([9, 1, -9]))


@pytest.mark.parametrize("selectivity", [0.1, 0.2])
@pytest.mark.parametrize("ef", [10, 32])
def test_two_hop_walk_between_8_and_25_percent(data, selectivity, ef):
    """At 8-25% allowed (past the exact-scan threshold at these ef) HNSW walks the allowed
    nodes only, through one disallowed node at most: its top-10 matches the exact filtered
    search, also with removed rows hidden and with a different filter per query."""
    x, q = data
    idx = vidx.Index(DIM, M=16)
    idx.add(x)
    rng = np.random.default_rng(int(selectivity * 100) + ef)
    allowed = np.flatnonzero(rng.random(N) < selectivity)
    _, I = idx.search(q, K, ef=ef, filter=allowed)
    assert np.isin(I, allowed).all()
    assert filtered_recall(I, exact_filtered(x, q, allowed, K)) >= 0.95
    per_query = [np.flatnonzero(rng.random(N) < selectivity) for _ in range(len(q))]
    _, I = idx.search(q, K, ef=ef, filter=per_query)
    truth = np.vstack([exact_filtered(x, q[i : i + 1], f, K) for i, f in enumerate(per_query)])
    assert all(np.isin(I[i], f).all() for i, f in enumerate(per_query))
    assert filtered_recall(I, truth) >= 0.95
    removed = allowed[::3]
    idx.remove(removed)
    _, I = idx.search(q, K, ef=ef, filter=allowed)
    live = np.setdiff1d(allowed, removed)
    assert np.isin(I, live).all()
    assert filtered_recall(I, exact_filtered(x, q, live, K)) >= 0.95


@pytest.mark.parametrize("shape", ["dense_head", "dense_tail", "two_blocks", "every_other"])
def test_long_increasing_lists_searched_in_place_equal_the_mask(index, data, shape):
    # A sorted list holding more than a quarter of the ids is searched in place (binary search
    # per tested node): skewed spreads must answer exactly as the same set as a mask.
    x, q = data
    rng = np.random.default_rng(len(shape))
    if shape == "dense_head":
        allowed = np.concatenate([np.arange(1200), np.sort(rng.choice(np.arange(1200, N), 200, replace=False))])
    elif shape == "dense_tail":
        allowed = np.concatenate([np.sort(rng.choice(np.arange(0, N - 1200), 200, replace=False)), np.arange(N - 1200, N)])
    elif shape == "two_blocks":
        allowed = np.concatenate([np.arange(0, 700), np.arange(N - 700, N)])
    else:
        allowed = np.arange(0, N, 2)
    mask = np.zeros(N, dtype=bool)
    mask[allowed] = True
    D1, I1 = index.search(q, K, filter=allowed)
    D2, I2 = index.search(q, K, filter=mask)
    np.testing.assert_array_equal(I1, I2)
    np.testing.assert_array_equal(D1, D2)
    assert np.isin(I1[I1 >= 0], allowed).all()
