"""The "f32_split" codec: float32 values stored as upper and lower 16-bit halves apart. Walks
read the upper halves (with zero lower halves); results are re-scored with both halves joined, which must
be float32's vectors and distances exactly, at every SIMD level."""
import numpy as np
import pytest

import vidx
from vidx import _core
from conftest import brute_force, check_bounded_probe, check_probe_distances, clustered, recall

LEVELS = vidx.cpu_features()["available"]


def probe_data(dim, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((30, dim)).astype(np.float32) * rng.uniform(1e-3, 300, (30, 1)).astype(np.float32)
    x[0, : min(dim, 4)] = [1e-40, -3e-6, 0.0, -0.0][: min(dim, 4)]  # subnormal, tiny, both zeros
    q = rng.standard_normal((4, dim)).astype(np.float32) * 10
    return x, q


@pytest.mark.parametrize("dim", [1, 7, 16, 33, 100, 300])
def test_halves_are_the_float32_bits_and_decode_exactly(dim):
    x, q = probe_data(dim)
    r = _core._split_probe("l2", "scalar", x, q)
    bits = x.view(np.uint32)
    np.testing.assert_array_equal(r["upper"], (bits >> 16).astype(np.uint16))
    np.testing.assert_array_equal(r["lower"], (bits & 0xFFFF).astype(np.uint16))
    np.testing.assert_array_equal(r["decoded"].view(np.uint32), bits)  # -0.0 and subnormals too


def upper_values(upper):
    return (upper.astype(np.uint32) << 16).view(np.float32)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("metric", ["l2", "ip"])
@pytest.mark.parametrize("dim", [1, 7, 16, 33, 100, 300])
def test_every_simd_level_walks_upper_halves_and_reranks_exactly(level, metric, dim):
    x, q = probe_data(dim, seed=dim)
    ref = _core._split_probe(metric, "scalar", x, q)
    got = _core._split_probe(metric, level, x, q)
    # Re-ranking distances are the float32 codec's of the same level, bit for bit.
    np.testing.assert_array_equal(got["precise"], got["f32"])
    # The walk compares the upper halves' values: truncated, so within 2^-7 of each value and never
    # farther from zero (within 2^-133 of zeros and subnormals, whose steps are absolute).
    walked = upper_values(got["upper"]).astype(np.float64)
    assert np.all(np.abs(walked - x) <= np.maximum(np.abs(x) * 2.0 ** -7, 2.0 ** -133))
    assert np.all(np.abs(walked) <= np.abs(x))
    np.testing.assert_array_equal(ref["walk_query"], q)  # scalar: the float32 query
    if np.array_equal(got["walk_query"], q):
        check_probe_distances(ref, got, "walk", walked, q, metric)
    else:
        # AVX512-BF16 inner products: the query rounded to the nearest bfloat16, within 2^-8 of
        # each value; the walk's distances are float32 sums of that query's products.
        assert metric == "ip" and level == "avx512"
        rounded = got["walk_query"].astype(np.float64)
        assert np.all(np.abs(rounded - q) <= np.abs(q) * 2.0 ** -8)
        np.testing.assert_array_equal(upper_values((got["walk_query"].view(np.uint32) >> 16).astype(np.uint16)),
                                      got["walk_query"])
        check_probe_distances(got, got, "walk", walked, rounded.astype(np.float32), metric)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("metric", ["l2", "ip"])
@pytest.mark.parametrize("dim", [7, 33, 300, 784])
def test_values_exact_in_bfloat16_are_walked_at_float32_precision(level, metric, dim):
    # Zero lower halves: the walk's distances (plain and bounded) are the re-rank's bit for bit,
    # which is what lets HNSW skip re-reading such codes (walks_exactly_with_zero_tails).
    rng = np.random.default_rng(dim)
    x = rng.integers(0, 256, (30, dim)).astype(np.float32)
    x[1] = (rng.standard_normal(dim).astype(np.float32).view(np.uint32) & 0xFFFF0000).view(np.float32)  # any bfloat16
    q = rng.standard_normal((4, dim)).astype(np.float32) * 100
    got = _core._split_probe(metric, level, x, q)
    assert not got["lower"].any()
    # A walk that rounds the query (AVX512-BF16 inner products) is not float32's, and says so:
    # HNSW then re-ranks such codes as any other.
    assert got["walks_exactly_with_zero_tails"] == np.array_equal(got["walk_query"], q)
    if not got["walks_exactly_with_zero_tails"]:
        return
    np.testing.assert_array_equal(got["walk"], got["precise"])
    if metric == "l2":
        bound = float(np.median(got["walk"]))
        bounded = _core._split_probe("l2", level, x, q, bound)["bounded"]
        below = got["walk"] < bound
        np.testing.assert_array_equal(bounded[below], got["precise"][below])


@pytest.mark.parametrize("level", LEVELS)
def test_bounded_walk_distances(level):
    x, q = probe_data(300, seed=9)
    check_bounded_probe(_core._split_probe, "walk", level, x, q)


@pytest.mark.parametrize("metric", ["l2", "ip", "cosine"])
def test_results_are_float32_results(wide_blobs, metric):
    """Same recall as float32 at equal ef, and every returned distance is float32's exactly."""
    x, q = wide_blobs
    _, truth = brute_force(x, q, 10, metric)
    exact = vidx.Index(40, metric=metric, kind="flat")
    exact.add(x)
    built = {}
    for quant in ("f32", "f32_split"):
        idx = vidx.Index(40, metric=metric, quant=quant, M=12, ef_construction=80, seed=1)
        idx.add(x)
        built[quant] = idx
    for ef in (16, 48):
        r_plain = recall(built["f32"].search(q, 10, ef=ef)[1], truth)
        D, I = built["f32_split"].search(q, 10, ef=ef)
        assert recall(I, truth) >= r_plain - 0.02, (ef, recall(I, truth), r_plain)
        assert np.all(np.diff(D, axis=1) >= 0)
    D, I = built["f32_split"].search(q, 10, ef=64)
    assert recall(I, truth) >= 0.97
    # The flat float32 index's distance to each returned id, computed by the same kernels.
    for row in range(len(q)):
        flat_d, flat_i = exact.search(q[row], k=len(x))
        by_id = dict(zip(flat_i[0].tolist(), flat_d[0].tolist()))
        np.testing.assert_array_equal(D[row], np.array([by_id[i] for i in I[row]], np.float32))
    V, is_exact = built["f32_split"].get(np.arange(len(x)))
    assert is_exact
    np.testing.assert_array_equal(V, built["f32"].get(np.arange(len(x)))[0])
    # Cosine stores unit vectors and keeps their lengths: get() gives the rows back as added.
    np.testing.assert_allclose(V, x, rtol=1e-6, atol=1e-6)


def test_flat_scan_is_exact(wide_blobs):
    x, q = wide_blobs
    plain = vidx.Index(40, kind="flat")
    split = vidx.Index(40, kind="flat", quant="f32_split")
    plain.add(x)
    split.add(x)
    for a, b in zip(plain.search(q, 10), split.search(q, 10, rerank=100)):
        np.testing.assert_array_equal(a, b)


def test_memory_is_float32s(wide_blobs):
    x, _ = wide_blobs
    sizes = {}
    for quant in ("f32", "f32_split"):
        idx = vidx.Index(40, quant=quant, M=12)
        idx.add(x)
        sizes[quant] = idx.memory_usage()
    assert 0.95 * sizes["f32"] <= sizes["f32_split"] <= 1.1 * sizes["f32"], sizes


@pytest.mark.parametrize("order", ["natural", "sorted", "shuffled"])
def test_row_order_keeps_recall(order):
    """Rows sorted by cluster or shuffled build as good a graph as float32's in that order."""
    x = clustered(4200, 24, n_clusters=60, seed=5, spread=0.2)
    x, q = x[:4000], x[4000:]
    if order == "sorted":
        x = x[np.argsort(np.argmin(((x[:, None, :8] - x[None, :60, :8]) ** 2).sum(-1), axis=1), kind="stable")]
    elif order == "shuffled":
        x = x[np.random.default_rng(3).permutation(len(x))]
    _, truth = brute_force(x, q, 10, "l2")
    got = {}
    for quant in ("f32", "f32_split"):
        idx = vidx.Index(24, quant=quant, M=12, ef_construction=64, seed=2)
        idx.add(x)
        got[quant] = recall(idx.search(q, 10, ef=16)[1], truth)
    assert got["f32_split"] >= got["f32"] - 0.02, got


@pytest.mark.parametrize("kind", ["hnsw", "flat"])
def test_save_load(tmp_path, wide_blobs, kind):
    x, q = wide_blobs
    idx = vidx.Index(40, kind=kind, quant="f32_split", M=8, ef_construction=40)
    idx.add(x)
    idx.save(tmp_path / "s.vidx")
    loaded = vidx.load(tmp_path / "s.vidx")
    assert loaded.params["quant"] == "f32_split"
    for a, b in zip(idx.search(q, 5), loaded.search(q, 5)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(loaded.get(np.arange(10))[0], x[:10])


@pytest.mark.parametrize("share", [0.02, 0.3])
def test_filtered_results_are_float32_distances(wide_blobs, share):
    """Filtered walks and scans of the allowed rows re-score what they keep with both halves."""
    x, q = wide_blobs
    idx = vidx.Index(40, quant="f32_split", M=12, ef_construction=80, seed=1)
    idx.add(x)
    allowed = np.flatnonzero(np.random.default_rng(4).random(len(x)) < share)
    D, I = idx.search(q, 10, filter=allowed, ef=48)
    assert np.isin(I, allowed).all()
    want = ((q[:, None, :].astype(np.float64) - x[I].astype(np.float64)) ** 2).sum(-1)
    np.testing.assert_allclose(D, want, rtol=1e-5, atol=1e-4)
    exact = vidx.Index(40, kind="flat")
    exact.add(x)
    _, truth = exact.search(q, 10, filter=allowed)
    assert recall(I, truth) >= 0.95


def test_removes_repairs_and_compaction_keep_float32_results(wide_blobs):
    x, q = wide_blobs
    idx = vidx.Index(40, quant="f32_split", M=12, ef_construction=80, seed=1)
    idx.add(x)
    gone = np.arange(0, len(x), 2)
    idx.remove(gone)
    idx.add(x[gone[:200]] + 0.01, ids=np.arange(len(x), len(x) + 200))  # reuses freed slots
    idx.compact()
    ids = np.concatenate([np.arange(1, len(x), 2), np.arange(len(x), len(x) + 200)])
    rows = np.concatenate([x[1::2], x[gone[:200]] + 0.01]).astype(np.float32)
    V, is_exact = idx.get(ids)
    assert is_exact
    np.testing.assert_array_equal(V, rows)
    D, I = idx.search(q, 10, ef=64)
    d = ((q[:, None, :].astype(np.float64) - rows[None].astype(np.float64)) ** 2).sum(-1)
    truth = ids[np.argsort(d, axis=1)[:, :10]]
    assert recall(I, truth) >= 0.95
    row_of = {int(i): r for r, i in enumerate(ids)}
    want = d[np.arange(len(q))[:, None], np.vectorize(row_of.get)(I)]
    np.testing.assert_allclose(D, want, rtol=1e-5, atol=1e-4)


def test_data_exact_in_bfloat16_is_not_reread_and_gives_the_same_results(tmp_path):
    """Integer pixels (as fashion-mnist's) have zero lower halves: the walk's distances are the
    precise ones, so the adaptive re-rank takes them as they are. Results must equal a forced
    re-rank's (rerank=ef re-scores from both halves) bit for bit, before and after a save, from
    a mapped file (whose tails are not read at load, so it re-ranks), and once a row with a
    non-zero lower half arrives (which turns the shortcut off for good)."""
    rng = np.random.default_rng(5)
    centres = rng.integers(0, 256, (12, 64))
    x = np.clip(centres[rng.integers(0, 12, 3000)] + rng.integers(-30, 31, (3000, 64)), 0, 255).astype(np.float32)
    q = np.clip(centres[rng.integers(0, 12, 100)] + rng.integers(-30, 31, (100, 64)), 0, 255).astype(np.float32)
    idx = vidx.Index(64, quant="f32_split", M=12, ef_construction=80, seed=1)
    idx.add(x)
    exact = vidx.Index(64, kind="flat")
    exact.add(x)
    _, truth = exact.search(q, 10)

    def same_as_forced_rerank(index, ef):
        D, I = index.search(q, 10, ef=ef)
        Df, If = index.search(q, 10, ef=ef, rerank=ef)
        np.testing.assert_array_equal(I, If)
        np.testing.assert_array_equal(D, Df)
        return D, I

    for ef in (10, 12, 40):
        D, I = same_as_forced_rerank(idx, ef)
    assert recall(I, truth) >= 0.97
    for row in range(0, len(q), 10):  # float32's distances, as the flat index computes them
        flat_d, flat_i = exact.search(q[row], k=len(x))
        by_id = dict(zip(flat_i[0].tolist(), flat_d[0].tolist()))
        np.testing.assert_array_equal(D[row], np.array([by_id[i] for i in I[row]], np.float32))
    idx.save(tmp_path / "pixels.vidx")
    for loaded in (vidx.load(tmp_path / "pixels.vidx"), vidx.load(tmp_path / "pixels.vidx", mmap=True)):
        for a, b in zip(same_as_forced_rerank(loaded, 12), idx.search(q, 10, ef=12)):
            np.testing.assert_array_equal(a, b)
    odd = x[:5] + np.float32(0.1)  # 0.1 steps need the lower halves
    idx.add(odd, ids=np.arange(len(x), len(x) + 5))
    D, I = same_as_forced_rerank(idx, 40)
    hit = I[:, 0] >= len(x)
    d_odd = ((q[:, None, :].astype(np.float64) - odd[None].astype(np.float64)) ** 2).sum(-1)
    np.testing.assert_allclose(D[hit, 0], d_odd[hit, I[hit, 0] - len(x)], rtol=1e-6)


def test_hnsw_defaults_to_f32_split_and_other_kinds_to_float32(tmp_path, wide_blobs):
    """Left out, quant is the kind's default, which params names and a save keeps; HNSW's is
    f32_split (float32's vectors and distances), flat's and SPANN's plain float32 (a flat scan of
    f32_split would not be exact). Given, "none" and "f32" stay plain float32 on HNSW."""
    x, q = wide_blobs
    default = vidx.Index(40, M=8, ef_construction=40)
    default.add(x)
    assert default.params["quant"] == "f32_split"
    split = vidx.Index(40, quant="f32_split", M=8, ef_construction=40)
    split.add(x)
    for a, b in zip(default.search(q, 5), split.search(q, 5)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(default.get(np.arange(len(x)))[0], x)
    default.save(tmp_path / "d.vidx")
    assert vidx.load(tmp_path / "d.vidx").params["quant"] == "f32_split"
    for quant in ("none", "f32"):
        assert vidx.Index(40, quant=quant).params["quant"] == quant
    assert vidx.Index(40, kind="flat").params["quant"] == "none"
    assert vidx.Index(40, kind="spann", path=str(tmp_path / "p.postings")).params["quant"] == "none"
    with pytest.raises(ValueError, match="unknown quant ''"):
        vidx.Index(40, quant="")
