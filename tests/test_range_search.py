"""range_search(Q, radius): every vector with distance < radius, faiss-style (lims, D, I)."""
import numpy as np
import pytest

import vidx
from conftest import clustered

N, DIM, NQ = 3000, 16, 40


@pytest.fixture(scope="module")
def data():
    both = clustered(N + NQ, DIM, n_clusters=30, seed=21)
    return both[:N], both[N:]


def exact_range(x, q, radius, metric="l2", allowed=None):
    x64, q64 = x.astype(np.float64), q.astype(np.float64)
    if metric == "l2":
        d = ((q64[:, None, :] - x64[None, :, :]) ** 2).sum(-1)
    else:
        xn = x64 / np.linalg.norm(x64, axis=1, keepdims=True)
        qn = q64 / np.linalg.norm(q64, axis=1, keepdims=True)
        d = 1 - qn @ xn.T
    if allowed is not None:
        d[:, np.setdiff1d(np.arange(len(x)), allowed)] = np.inf
    return [np.flatnonzero(row < radius) for row in d], d


def radius_for(x, q, count):
    """A radius holding about `count` rows around each query (the median query)."""
    d = ((q[:, None, :] - x[None, :, :]) ** 2).sum(-1)
    return float(np.median(np.sort(d, axis=1)[:, count]))


def check_csr(lims, D, I, nq):
    assert lims.dtype == np.int64 and D.dtype == np.float32 and I.dtype == np.int64
    assert lims.shape == (nq + 1,) and lims[0] == 0 and np.all(np.diff(lims) >= 0)
    assert len(D) == len(I) == lims[-1]
    for i in range(nq):
        assert np.all(np.diff(D[lims[i]:lims[i + 1]]) >= 0)  # nearest first


@pytest.mark.parametrize("metric", ["l2", "cosine"])
def test_flat_equals_brute_force(data, metric):
    x, q = data
    idx = vidx.Index(DIM, metric=metric, kind="flat")
    idx.add(x)
    radius = radius_for(x, q, 40) if metric == "l2" else 0.02
    lims, D, I = idx.range_search(q, radius)
    check_csr(lims, D, I, NQ)
    truth, d = exact_range(x, q, radius, metric)
    for i in range(NQ):
        got = I[lims[i]:lims[i + 1]]
        # rows within float32 rounding of the radius may fall either way
        borderline = set(np.flatnonzero(np.abs(d[i] - radius) < 1e-4 * max(1.0, radius)).tolist())
        assert set(got.tolist()) ^ set(truth[i].tolist()) <= borderline
        np.testing.assert_allclose(D[lims[i]:lims[i + 1]], d[i, got], rtol=1e-4, atol=1e-5)
    assert lims[-1] > NQ  # the radius found something


@pytest.mark.parametrize("count", [20, 300])
def test_hnsw_recall(data, count):
    """300 rows per query is past ef (64): the walk has to widen to find them."""
    x, q = data
    idx = vidx.Index(DIM, kind="hnsw")
    idx.add(x)
    radius = radius_for(x, q, count)
    lims, D, I = idx.range_search(q, radius)
    check_csr(lims, D, I, NQ)
    truth, _ = exact_range(x, q, radius)
    found = sum(len(set(I[lims[i]:lims[i + 1]].tolist()) & set(truth[i].tolist())) for i in range(NQ))
    assert found / sum(len(t) for t in truth) >= 0.95
    assert np.all(D < radius)


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_filters_apply(data, kind):
    x, q = data
    idx = vidx.Index(DIM, kind=kind)
    ids = np.arange(N) * 2 + 1
    idx.add(x, ids)
    allowed_rows = np.flatnonzero(np.arange(N) % 3 == 0)
    radius = radius_for(x, q, 60)
    lims, D, I = idx.range_search(q, radius, filter=ids[allowed_rows])
    truth, _ = exact_range(x, q, radius, allowed=allowed_rows)
    assert np.isin(I, ids[allowed_rows]).all()
    found = sum(len(set(I[lims[i]:lims[i + 1]].tolist()) & set(ids[truth[i]].tolist())) for i in range(NQ))
    assert found / max(1, sum(len(t) for t in truth)) >= (1.0 if kind == "flat" else 0.95)
    # one filter per query, as a list: query i allows only its own exact results' first id
    per_query = [ids[t[:1]] for t in truth]
    lims2, _, I2 = idx.range_search(q, radius, filter=per_query)
    for i in range(NQ):
        assert set(I2[lims2[i]:lims2[i + 1]].tolist()) <= set(per_query[i].tolist())


def test_small_radius_finds_nothing_and_ef_is_accepted(data):
    x, q = data
    idx = vidx.Index(DIM, kind="hnsw")
    idx.add(x)
    lims, D, I = idx.range_search(q, 0.0, ef=16)
    assert lims.tolist() == [0] * (NQ + 1) and len(D) == len(I) == 0
    lims, _, I = idx.range_search(x[:5], 1e-6)  # stored rows find themselves (distance 0)
    assert lims.tolist() == list(range(6)) and I.tolist() == list(range(5))


@pytest.mark.parametrize("radius, error", [(float("nan"), ValueError), ("1.0", TypeError), (True, TypeError)])
def test_bad_radius(data, radius, error):
    x, q = data
    idx = vidx.Index(DIM, kind="flat")
    idx.add(x[:100])
    with pytest.raises(error, match="radius"):
        idx.range_search(q, radius)


def test_bad_ef(data):
    x, q = data
    idx = vidx.Index(DIM, kind="hnsw")
    idx.add(x[:100])
    with pytest.raises(ValueError, match="ef"):
        idx.range_search(q, 1.0, ef=0)
    with pytest.raises(TypeError, match="ef"):
        idx.range_search(q, 1.0, ef=2.5)


@pytest.mark.parametrize("quant", ["none", "f32_split", "lvq8"])
def test_hnsw_returns_rows_its_walk_cannot_reach(quant):
    # Under "ip" some rows of small norm are nobody's neighbour and have no way in: 34 of these
    # 1,500 were never returned, so a search of every row padded with -1 (rows that exist) and
    # range search with an infinite radius stopped at 1,466. A walk as wide as the index scans.
    rng = np.random.default_rng(5)
    centres = rng.standard_normal((20, 16)).astype(np.float32)
    x = (centres[rng.integers(0, 20, 1500)] + 0.15 * rng.standard_normal((1500, 16))).astype(np.float32)
    q = rng.standard_normal((3, 16)).astype(np.float32)
    idx = vidx.Index(16, metric="ip", kind="hnsw", quant=quant)
    idx.add(x)
    D, I = idx.search(q, k=1500, ef=1500)
    assert (np.sort(I, axis=1) == np.arange(1500)).all() and np.isfinite(D).all()
    assert (np.diff(D, axis=1) >= 0).all()
    lims, _, ids = idx.range_search(q, float("inf"))
    assert np.diff(lims).tolist() == [1500] * 3 and len(np.unique(ids[:1500])) == 1500
    allowed = np.arange(0, 1500, 3)  # the same under a filter that the walk serves
    D, I = idx.search(q, k=500, ef=1500, filter=allowed)
    assert (np.sort(I, axis=1) == allowed).all()
    if quant == "none":  # exact values: the scan's order is float32's
        truth = np.argsort(-(q.astype(np.float64) @ x.T.astype(np.float64)), axis=1, kind="stable")
        found = idx.search(q, k=1500, ef=1500)[1]
        assert all(set(found[i, :100]) == set(truth[i, :100]) for i in range(3))
