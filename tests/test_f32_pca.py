"""The "f32_pca" codec: float32 vectors in a principal-component basis. Its searches must
find what "f32" finds (the basis is orthogonal; the walk's calibrated checks may drop a rare
candidate), get() must give the vectors back, and it must keep the identity (and be exactly
f32) where rotating would not pay."""
import numpy as np
import pytest

import vidx

from conftest import brute_force, recall


def low_rank(n, dim, rank=12, seed=0):
    """Rows whose variance sits in a few directions (like images): the case the codec rotates for."""
    rng = np.random.default_rng(seed)
    basis = rng.standard_normal((rank, dim)).astype(np.float32)
    scales = np.linspace(3.0, 0.5, rank, dtype=np.float32)
    x = (rng.standard_normal((n, rank)).astype(np.float32) * scales) @ basis
    return (x + 0.05 * rng.standard_normal((n, dim)).astype(np.float32)).astype(np.float32)


@pytest.fixture(scope="module")
def concentrated():
    x = low_rank(3200, 160, seed=1)
    return x[:3000], x[3000:]


def build(x, quant, metric="l2", kind="hnsw", **kw):
    idx = vidx.Index(x.shape[1], metric=metric, kind=kind, quant=quant, M=12, ef_construction=80, seed=3, **kw)
    idx.add(x)
    return idx


@pytest.mark.parametrize("metric", ["l2", "cosine", "ip"])
def test_searches_like_f32(concentrated, metric):
    x, q = concentrated
    if metric == "ip":
        x = x / np.linalg.norm(x, axis=1, keepdims=True)  # ip on bounded norms, as users run it
    plain, rotated = build(x, "f32", metric), build(x, "f32_pca", metric)
    _, exact_ids = brute_force(x, q, 10, metric)
    D0, I0 = plain.search(q, 10, ef=64)
    D1, I1 = rotated.search(q, 10, ef=64)
    assert recall(I1, exact_ids) >= recall(I0, exact_ids) - 0.01
    assert recall(I1, exact_ids) > 0.95
    # Same distances for the ids both return, up to the rotation's rounding.
    for d0, i0, d1, i1 in zip(D0, I0, D1, I1):
        common = np.intersect1d(i0, i1)
        a = {i: d for i, d in zip(i0, d0)}
        b = {i: d for i, d in zip(i1, d1)}
        np.testing.assert_allclose([b[i] for i in common], [a[i] for i in common], rtol=2e-4, atol=2e-5)


def test_get_rotates_back_and_says_it_is_decoded(concentrated):
    x, _ = concentrated
    idx = build(x, "f32_pca")
    V, exact = idx.get(np.arange(50))
    assert not exact
    np.testing.assert_allclose(V, x[:50], atol=1e-5 * np.abs(x).max())


def test_flat_spectrum_keeps_the_identity():
    # Isotropic noise: no 64 directions (the most at 160 dimensions) hold 70% of the variance,
    # so the codec stays f32.
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2000, 160)).astype(np.float32)
    q = rng.standard_normal((20, 160)).astype(np.float32)
    plain, kept = build(x, "f32"), build(x, "f32_pca")
    V, exact = kept.get(np.arange(10))
    assert exact
    np.testing.assert_array_equal(V, x[:10])
    D0, I0 = plain.search(q, 10, ef=40)
    D1, I1 = kept.search(q, 10, ef=40)
    np.testing.assert_array_equal(I0, I1)
    np.testing.assert_array_equal(D0, D1)


def rotation_components(idx, dim):
    """Reflections the codec keeps: its parameters are r reflectors of dim floats plus r scales,
    and one check scale per whole 64-coordinate block (fewer than dim + 1)."""
    return idx.memory_breakdown()["codec"] // 4 // (dim + 1)


def check_scales(idx, dim):
    """The check scales the codec learnt (see rotation_components)."""
    return idx.memory_breakdown()["codec"] // 4 - rotation_components(idx, dim) * (dim + 1)


@pytest.mark.parametrize("metric, scaled", [("l2", True), ("cosine", True), ("ip", False)])
def test_check_scales_are_learnt_and_kept_in_the_file(tmp_path, concentrated, metric, scaled):
    # One scale per whole block of 64 coordinates where the walk can be bounded (L2, and cosine
    # compared as half the squared distance of unit vectors); inner product has no bound.
    x, q = concentrated
    idx = build(x, "f32_pca", metric)
    assert check_scales(idx, 160) == (160 // 64 if scaled else 0)
    idx.save(tmp_path / "s.vidx")
    again = vidx.load(tmp_path / "s.vidx")
    assert again.memory_breakdown()["codec"] == idx.memory_breakdown()["codec"]
    np.testing.assert_array_equal(again.search(q, 10)[1], idx.search(q, 10)[1])


def test_learns_as_many_components_as_the_spectrum_needs(concentrated):
    # Twelve strong directions: 64 components hold nearly all the variance, so one step is learnt.
    x, _ = concentrated
    assert rotation_components(build(x, "f32_pca"), 160) == 64
    # A hundred directions of equal weight in 256 dimensions: 64 components hold ~64% of the
    # variance, 128 nearly all, so the codec learns 128 (a text embedding's spectrum is this
    # flat: wordnet-minilm needs 192 of its 384). Results stay those of f32.
    rng = np.random.default_rng(11)
    basis = np.linalg.qr(rng.standard_normal((256, 100)))[0].T.astype(np.float32)
    wide = (rng.standard_normal((2200, 100)).astype(np.float32) @ basis
            + 0.02 * rng.standard_normal((2200, 256)).astype(np.float32))
    x, q = wide[:2000], wide[2000:]
    plain, rotated = build(x, "f32"), build(x, "f32_pca")
    assert rotation_components(rotated, 256) == 128
    _, exact_ids = brute_force(x, q, 10, "l2")
    I0, I1 = plain.search(q, 10, ef=64)[1], rotated.search(q, 10, ef=64)[1]
    assert recall(I1, exact_ids) >= recall(I0, exact_ids) - 0.01


@pytest.mark.parametrize("rows, dim", [(1500, 48), (500, 160)])
def test_few_dimensions_or_rows_keep_the_identity(rows, dim):
    # Under 128 dimensions no bound is checked before the end; a first add of under 1000 rows
    # is too little to learn the basis the whole index will keep.
    x = low_rank(rows, dim, seed=2)
    idx = build(x, "f32_pca")
    V, exact = idx.get(np.arange(5))
    assert exact
    np.testing.assert_array_equal(V, x[:5])
    idx.add(low_rank(2000, dim, seed=4), ids=np.arange(10_000, 12_000))  # learnt once: stays f32
    assert idx.get(np.arange(5))[1]


@pytest.mark.parametrize("kind", ["hnsw", "flat", "spann"])
def test_round_trip_through_a_file(tmp_path, concentrated, kind):
    x, q = concentrated
    extra = {"path": tmp_path / "lists", "head_ratio": 0.05} if kind == "spann" else {}
    idx = build(x, "f32_pca", kind=kind, **extra)
    D, I = idx.search(q, 10)
    _, exact_ids = brute_force(x, q, 10, "l2")
    assert recall(I, exact_ids) > 0.8
    idx.save(tmp_path / "r.vidx")
    again = vidx.load(tmp_path / "r.vidx")
    D2, I2 = again.search(q, 10)
    np.testing.assert_array_equal(I, I2)
    np.testing.assert_array_equal(D, D2)
    # Adding after the load encodes in the same basis: the added rows find themselves (rows coded
    # in another basis would not). They lie in a region of their own (another basis), which a graph
    # reaches through its first few links, so a search on it is wide and one miss in 100 is the graph's.
    more = low_rank(100, 160, seed=9)
    again.add(more, ids=np.arange(10_000, 10_100))
    _, I3 = again.search(more, 1, ef=None if kind == "flat" else 64)
    assert np.mean(I3[:, 0] == np.arange(10_000, 10_100)) >= 0.97


def test_same_seed_same_index(concentrated):
    x, q = concentrated
    a, b = build(x, "f32_pca"), build(x, "f32_pca")
    np.testing.assert_array_equal(a.search(q, 10)[1], b.search(q, 10)[1])
    np.testing.assert_array_equal(a.to_bytes(), b.to_bytes())


@pytest.mark.parametrize("chunk", [8000, 100])
def test_later_adds_unlike_the_first_widen_the_early_exits(chunk):
    # The early-exit shares are learnt from the first add. Rows added later that sit in a few of
    # its leading directions hold more of their near pairs' distances in the first coordinates
    # than the first add's rows did, so those shares alone would abandon some of their true
    # neighbours (recall@10 at ef 10 fell from 0.887 to 0.868 here in one add); an add of 1000
    # rows or more widens the shares to cover its own near pairs, and smaller adds are pooled
    # until they make 1000 rows (in adds of 100 rows recall fell to 0.873, f32 0.896, before they were).
    rng = np.random.default_rng(0)
    dim = 256
    basis = np.linalg.qr(rng.standard_normal((dim, dim)))[0]

    def rows(n, directions, scales):
        x = (rng.standard_normal((n, directions)) * scales) @ basis[:directions]
        return (x + 0.02 * rng.standard_normal((n, dim))).astype(np.float32)

    first = rows(1500, 100, np.linspace(1.3, 0.7, 100))
    later = rows(8000, 12, np.linspace(3, 1, 12))
    q = rows(200, 12, np.linspace(3, 1, 12))
    _, exact_ids = brute_force(np.concatenate([first, later]), q, 10, "l2")
    found = {}
    for quant in ("f32", "f32_pca"):
        idx = build(first, quant)
        for start in range(0, len(later), chunk):
            part = later[start:start + chunk]
            idx.add(part, ids=np.arange(1500 + start, 1500 + start + len(part)))
        found[quant] = recall(idx.search(q, 10, ef=10)[1], exact_ids)
    assert found["f32_pca"] >= found["f32"] - 0.005


@pytest.mark.parametrize("metric", ["l2", "cosine"])
def test_flat_search_stays_exact(concentrated, metric):
    # A flat scan stops reading a row once its partial distance passes the k-th best so far
    # (in the rotated basis that is after a few dozen coordinates), but only then: its results
    # are the exact ones, with no calibrated early exits.
    x, q = concentrated
    idx = vidx.Index(x.shape[1], metric=metric, kind="flat", quant="f32_pca")
    idx.add(x)
    D, I = idx.search(q, 10)
    exact_d, exact_ids = brute_force(x, q, 10, metric)
    assert recall(I, exact_ids) == 1.0
    np.testing.assert_allclose(D, exact_d, rtol=1e-4, atol=1e-5)
