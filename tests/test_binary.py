"""Binary codes: Hamming kernels of every SIMD level, recall after re-ranking, files."""
import numpy as np
import pytest

import vidx
from vidx import _core
from conftest import built_recall, clustered

LEVELS = vidx.cpu_features()["available"]


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("words", [1, 3, 8, 13])
def test_hamming_matches_numpy(level, words):
    rng = np.random.default_rng(words)
    bits = rng.integers(0, 2**63, (20, words), dtype=np.uint64) * np.uint64(2) + rng.integers(0, 2, (20, words), dtype=np.uint64)
    want = np.unpackbits((bits[:1] ^ bits).view(np.uint8), axis=1).sum(1)
    np.testing.assert_array_equal(_core._hamming(level, bits), want)


@pytest.mark.parametrize("metric", ["l2", "cosine"])
@pytest.mark.parametrize("keep", [False, True])
def test_recall_after_rerank(wide_blobs, metric, keep):
    x, q = wide_blobs
    search = dict(ef=64, rerank=200)
    assert built_recall(x, q, metric, search, quant="binary", keep_vectors=keep, M=12, ef_construction=80) >= 0.95


def test_save_load(tmp_path, wide_blobs):
    x, q = wide_blobs
    idx = vidx.Index(40, quant="binary", rerank=100, M=8, ef_construction=40)
    idx.add(x)
    idx.save(tmp_path / "b.vidx")
    loaded = vidx.load(tmp_path / "b.vidx")
    for a, b in zip(idx.search(q, 5), loaded.search(q, 5)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("words", [1, 2, 7, 13])
def test_masked_sum_matches_numpy(level, words):
    rng = np.random.default_rng(words)
    bits = rng.integers(0, 2**63, (9, words), dtype=np.uint64) * np.uint64(2) + rng.integers(0, 2, (9, words), dtype=np.uint64)
    q = rng.standard_normal(64 * words).astype(np.float32)
    mask = np.unpackbits(bits.view(np.uint8), axis=1, bitorder="little").astype(bool)
    want = (q.astype(np.float64)[None] * mask).sum(1)
    np.testing.assert_allclose(_core._masked_sum(level, q, bits), want, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("name", ["binary_rot", "rabitq"])
def test_rotation_is_orthogonal_and_seeded(name):
    x = clustered(300, 50, seed=4)
    a = _core._binary_probe(name, "l2", 7, "scalar", x, x[:3])
    b = _core._binary_probe(name, "l2", 7, "scalar", x, x[:3])
    c = _core._binary_probe(name, "l2", 8, "scalar", x, x[:3])
    for key in ("rotation", "heads", "fast", "between"):  # same seed, same everything
        np.testing.assert_array_equal(a[key], b[key])
    assert not np.array_equal(a["rotation"], c["rotation"])
    p = a["rotation"].reshape(50, 50).astype(np.float64)
    np.testing.assert_allclose(p @ p.T, np.eye(50), atol=1e-5)
    assert _core._binary_probe("binary", "l2", 7, "scalar", x, x[:3])["rotation"].size == 0


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("metric", ["l2", "ip"])
@pytest.mark.parametrize("name", ["binary", "binary_rot", "rabitq"])
def test_every_level_matches_scalar(level, metric, name):
    x = clustered(200, 100, seed=6)
    ref = _core._binary_probe(name, metric, 3, "scalar", x, x[:4] + 0.1)
    got = _core._binary_probe(name, metric, 3, level, x, x[:4] + 0.1)
    np.testing.assert_array_equal(got["heads"], ref["heads"])
    np.testing.assert_allclose(got["fast"], ref["fast"], rtol=1e-4, atol=1e-4 * np.abs(ref["fast"]).max())
    np.testing.assert_allclose(got["between"], ref["between"], rtol=1e-5, atol=1e-5)


def test_estimator_tracks_true_distances():
    """rabitq's traversal distance estimates the squared L2 distance (unbiased-ish, within a
    few percent on average) where Hamming only ranks."""
    x = clustered(400, 128, seed=8, spread=0.5)
    q = x[:5] + 0.3
    r = _core._binary_probe("rabitq", "l2", 1, "scalar", x, q)
    true = ((q[:, None].astype(np.float64) - x[None]) ** 2).sum(-1)
    rel = np.abs(r["fast"] - true) / true
    assert np.median(rel) < 0.1
    corr = [np.corrcoef(r["fast"][i], true[i])[0, 1] for i in range(5)]
    assert min(corr) > 0.9


def test_head_sizes():
    x = clustered(50, 100, seed=1)
    for name, head in (("binary", 16), ("binary_rot", 16), ("rabitq", 16 + 12)):
        r = _core._binary_probe(name, "l2", 0, "scalar", x, x[:1])
        assert r["heads"].shape[1] == head
        assert r["code_size"] == head + 128  # LVQ-8 tail: 100 dims padded to 128, its two f16 in the padding


@pytest.mark.parametrize("name", ["binary_rot", "rabitq"])
@pytest.mark.parametrize("metric", ["l2", "cosine"])
def test_rotated_recall_after_rerank(wide_blobs, name, metric):
    x, q = wide_blobs
    search = dict(ef=64, rerank=200)
    assert built_recall(x, q, metric, search, quant=name, M=12, ef_construction=80, seed=5) >= 0.95


@pytest.mark.parametrize("name", ["binary", "rabitq"])
def test_memory_breakdown_separates_bit_codes(wide_blobs, name):
    x, _ = wide_blobs
    idx = vidx.Index(40, quant=name, M=8, ef_construction=40)
    idx.add(x)
    parts = idx.memory_breakdown()
    assert sum(parts.values()) == idx.memory_usage()
    head = 8 + (12 if name == "rabitq" else 0)  # one 64-bit word of sign bits (+ factors)
    assert parts["codes"] == len(x) * head
    assert parts["rerank_codes"] == len(x) * 64  # LVQ-8: 40 dims padded to 64, its two f16 in the padding
    if name == "rabitq":
        assert parts["codec"] >= 40 * 40 * 4  # the rotation


@pytest.mark.parametrize("name", ["binary_rot", "rabitq"])
def test_rotated_save_load_and_later_adds(tmp_path, wide_blobs, name):
    x, q = wide_blobs
    idx = vidx.Index(40, metric="ip", quant=name, rerank=100, M=8, ef_construction=40, seed=11)
    idx.add(x[:2000])
    idx.save(tmp_path / "r.vidx")
    loaded = vidx.load(tmp_path / "r.vidx")
    for a, b in zip(idx.search(q, 5, ef=20), loaded.search(q, 5, ef=20)):
        np.testing.assert_array_equal(a, b)
    idx.add(x[2000:])
    loaded.add(x[2000:])  # the stored rotation encodes the new rows alike
    for a, b in zip(idx.search(q, 5, ef=20), loaded.search(q, 5, ef=20)):
        np.testing.assert_array_equal(a, b)
