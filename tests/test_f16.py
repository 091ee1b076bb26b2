"""float16 codec: round trip against numpy's IEEE half, every SIMD level against scalar,
bounded distances, recall in HNSW and flat, files."""
import numpy as np
import pytest

import vidx
from vidx import _core
from conftest import brute_force, check_bounded_probe, check_probe_distances, clustered, recall

LEVELS = vidx.cpu_features()["available"]


def probe_data(dim, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((30, dim)).astype(np.float32) * rng.uniform(1e-3, 300, (30, 1)).astype(np.float32)
    x[0, : min(dim, 4)] = [1e-7, -3e-6, 6.1e-5, 65504.0][: min(dim, 4)]  # subnormal, tiny, smallest normal, max
    q = rng.standard_normal((4, dim)).astype(np.float32) * 10
    return x, q


@pytest.mark.parametrize("dim", [1, 7, 16, 33, 100, 300])
def test_round_trip_matches_numpy_half(dim):
    x, q = probe_data(dim)
    r = _core._f16_probe("l2", "scalar", x, q)
    np.testing.assert_array_equal(r["codes"], x.astype(np.float16).view(np.uint16))
    np.testing.assert_array_equal(r["decoded"], x.astype(np.float16).astype(np.float32))


def test_out_of_range_saturates():
    x = np.array([[1e6, -1e6, 65519.0, 65520.0]], np.float32)
    r = _core._f16_probe("l2", "scalar", x, x)
    np.testing.assert_array_equal(r["decoded"][0], [65504.0, -65504.0, 65504.0, 65504.0])


@pytest.mark.parametrize("kind", ["flat", "hnsw", "spann"])
@pytest.mark.parametrize("metric", ["l2", "ip"])
def test_an_index_refuses_values_float16_would_saturate(kind, metric, tmp_path):
    # The codec saturates (above); an index stored rows 7e4, 1e5 and 1e6 all as 65504, and a
    # query equal to row 1e6 ranked it last of the three. add() now refuses them, naming the row.
    options = {"path": str(tmp_path / "p")} if kind == "spann" else {}
    x = np.ones((50, 4), np.float32)
    x[:, 0] = np.linspace(-65504, 65504, 50, dtype=np.float32)  # the largest float16 itself is fine
    index = vidx.Index(4, metric, kind=kind, quant="f16", **options)
    bad = x.copy()
    bad[7, 2] = 70000.0
    with pytest.raises(ValueError, match=r"row 7 column 2 is 70000\.0+: quant 'f16' stores values within \+-65504"):
        index.add(bad, progress=False)
    assert len(index) == 0
    index.add(x, progress=False)
    assert len(index) == 50
    # Cosine stores unit vectors: any finite scale is fine.
    cosine = vidx.Index(4, "cosine", kind="flat", quant="f16")
    cosine.add(bad, progress=False)
    assert len(cosine) == 50


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("metric", ["l2", "ip"])
@pytest.mark.parametrize("dim", [1, 7, 16, 33, 100, 300])
def test_every_simd_level_matches_scalar_and_decoded(level, metric, dim):
    x, q = probe_data(dim, seed=dim)
    ref = _core._f16_probe(metric, "scalar", x, q)
    got = _core._f16_probe(metric, level, x, q)
    np.testing.assert_array_equal(got["codes"], ref["codes"])
    check_probe_distances(ref, got, "distances", ref["decoded"], q, metric)


@pytest.mark.parametrize("level", LEVELS)
def test_bounded_distances(level):
    x, q = probe_data(300, seed=9)
    check_bounded_probe(_core._f16_probe, "distances", level, x, q)


@pytest.mark.parametrize("metric", ["l2", "ip", "cosine"])
def test_hnsw_and_flat_recall(wide_blobs, metric):
    x, q = wide_blobs
    _, truth = brute_force(x, q, 10, metric)
    h = vidx.Index(40, metric=metric, quant="f16", M=12, ef_construction=80, seed=1)
    h.add(x)
    assert recall(h.search(q, 10, ef=64)[1], truth) >= 0.97
    f = vidx.Index(40, metric=metric, kind="flat", quant="f16")
    f.add(x)
    assert recall(f.search(q, 10)[1], truth) >= 0.99


def test_memory_about_half_of_float32(wide_blobs):
    x, _ = wide_blobs
    sizes = {}
    for quant in ("none", "f16"):
        idx = vidx.Index(40, quant=quant, kind="flat")
        idx.add(x)
        sizes[quant] = idx.memory_usage()
    assert sizes["f16"] < 0.55 * sizes["none"]


@pytest.mark.parametrize("kind", ["hnsw", "flat"])
def test_save_load(tmp_path, wide_blobs, kind):
    x, q = wide_blobs
    idx = vidx.Index(40, kind=kind, quant="f16", M=8, ef_construction=40)
    idx.add(x)
    idx.save(tmp_path / "h.vidx")
    loaded = vidx.load(tmp_path / "h.vidx")
    assert loaded.params["quant"] == "f16"
    for a, b in zip(idx.search(q, 5), loaded.search(q, 5)):
        np.testing.assert_array_equal(a, b)
