"""Short rows under "ip" in SPANN (and float16 codes under "l2"): its build multiplies them by a power
of two chosen from an even sample of its source (cpp/src/scaled_source.hpp), and its later adds,
upserts, rebuilds and files keep that factor. Before, SPANN ranked rows of length ~5e-6 at random
(recall@10 0.011 on 32-d Gaussians, 0.006 on glove's unit rows times 2^-20; graph.md section 47):
"ip" compares by 1 - <q, x> in float32, whose spacing near 1 is 6e-8.
Flat and HNSW, which choose from their first add, are tested in test_row_scale.py."""
import numpy as np
import pytest

import vidx
from test_row_scale import exact_ids as exact, recall  # the flat and HNSW tests' own

DIM = 32
SHORT = np.float32(2.0 ** -20)  # Gaussian rows of 32 values: lengths ~5.4e-6


def rows(n, seed, scale=1.0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, DIM)) * scale).astype(np.float32)


def queries_near(x, seed, count=60):
    rng = np.random.default_rng(seed)
    spread = 0.05 * float(np.median(np.linalg.norm(x, axis=1))) / np.sqrt(DIM)
    return (x[:count] + spread * rng.standard_normal((count, DIM))).astype(np.float32)


def spann(tmp_path, name, metric="ip", quant="none", **options):
    return vidx.Index(DIM, metric, kind="spann", quant=quant, path=str(tmp_path / f"{name}.post"), **options)


def flags(index):
    import struct
    return struct.unpack_from("<I", index.to_bytes(), 16)[0]


@pytest.mark.parametrize("metric, quant", [("ip", "none"), ("ip", "lvq8"), ("ip", "binary"), ("l2", "f16")])
def test_short_rows_rank_as_the_same_rows_at_length_one(tmp_path, metric, quant):
    x = rows(3000, 1)
    q = queries_near(x, 2)
    truth, _ = exact(x, q, metric)
    found = {}
    for scale in (np.float32(1), SHORT):
        index = spann(tmp_path, f"{quant}{scale}", metric, quant)
        index.add(x * scale)
        found[scale] = recall(index.search(q * scale, 10, nprobe=64)[1], truth)
    # Before: ip 0.018 at the short length.
    assert found[SHORT] >= found[np.float32(1)] - 0.02, found
    assert found[np.float32(1)] >= 0.9, found


def test_distances_get_and_range_search_are_those_of_the_rows_added(tmp_path):
    x = rows(1500, 3, 0.01)  # lengths ~0.057 < 1/16: scaled by 16
    q = queries_near(x, 4, 10)
    index = spann(tmp_path, "d", nprobe=64)  # range_search reads the index's nprobe
    index.add(x)
    assert flags(index) & 1  # the file says its rows are scaled
    D, I = index.search(q, 10, nprobe=64)
    _, d = exact(x, q, "ip")
    np.testing.assert_allclose(D, np.take_along_axis(d, I, 1), rtol=0, atol=2e-7)
    got, exact_rows = index.get(np.arange(300))
    assert exact_rows and np.array_equal(got, x[:300])  # a power of two in and out: bit for bit
    for i in range(3):
        radius = float(np.float32(np.sort(d[i])[20]))
        lims, RD, RI = index.range_search(q[i:i + 1], radius)
        assert len(RI) >= 15 and (RD < np.float32(radius)).all()
        np.testing.assert_allclose(RD, d[i][RI], rtol=0, atol=2e-7)


def test_adds_upserts_and_rebuilds_after_the_build_keep_its_factor(tmp_path):
    x = rows(4000, 5, SHORT)
    index = spann(tmp_path, "live", rebuild_growth=0)
    index.add(x[:2000])
    index.add(x[2000:3000])  # a living add, scaled by the build's factor
    index.upsert(x[3000:3100], np.arange(100))  # rows 0..99 replaced
    stored = np.concatenate([x[3000:3100], x[100:3000]])
    ids = np.concatenate([np.arange(100), np.arange(100, 3000)])
    assert np.array_equal(index.get(np.arange(100))[0], x[3000:3100])
    assert np.array_equal(index.get(np.arange(2000, 2010))[0], x[2000:2010])
    q = queries_near(x[2000:], 6)
    truth, _ = exact(stored, q, "ip")
    assert recall(index.search(q, 10, nprobe=64)[1], ids[truth]) >= 0.9
    index.rebuild()  # from its stored (scaled) rows: no second scaling
    assert recall(index.search(q, 10, nprobe=64)[1], ids[truth]) >= 0.9
    assert np.array_equal(index.get(np.arange(2000, 2010))[0], x[2000:2010])


def test_an_add_made_by_a_rebuild_is_scaled_once(tmp_path):
    x = rows(3000, 7, SHORT)
    index = spann(tmp_path, "grow")  # rebuild_growth 2: the second add rebuilds with it
    index.add(x[:1000])
    index.add(x[1000:])
    assert np.array_equal(index.get(np.arange(995, 1005))[0], x[995:1005])
    q = queries_near(x[1000:], 8)
    truth, _ = exact(x, q, "ip")
    assert recall(index.search(q, 10, nprobe=64)[1], truth) >= 0.9


def test_the_factor_survives_save_and_load(tmp_path):
    x = rows(2000, 9, SHORT)
    q = queries_near(x, 10)
    index = spann(tmp_path, "saved")
    index.add(x)
    D, I = index.search(q, 10, nprobe=32)
    index.save(tmp_path / "saved.vidx")
    for loaded in (vidx.load(tmp_path / "saved.vidx"), vidx.load(tmp_path / "saved.vidx", mmap=True)):
        D2, I2 = loaded.search(q, 10, nprobe=32)
        np.testing.assert_array_equal(I2, I)
        np.testing.assert_array_equal(D2, D)
        assert np.array_equal(loaded.get(np.arange(5))[0], x[:5])
    again = vidx.load(tmp_path / "saved.vidx")
    again.add(x[:50], np.arange(10_000, 10_050))  # scaled as the build's rows were
    assert np.array_equal(again.get(np.arange(10_000, 10_005))[0], x[:5])


def test_a_source_larger_than_the_sample_in_sorted_order(tmp_path):
    # 12,000 rows (more than the 10,000 sampled, so the largest value takes a pass of its own),
    # ordinary ones first: a factor chosen from the first rows would be 1.
    x = np.concatenate([rows(2000, 11), rows(10_000, 12, SHORT)])
    index = spann(tmp_path, "big", quant="lvq8")
    index.add(x)
    assert flags(index) & 1
    q = queries_near(x[2000:], 13)
    truth, _ = exact(x, q, "ip")
    assert recall(index.search(q, 10, nprobe=64)[1], truth) >= 0.85


def test_ordinary_rows_are_not_scaled(tmp_path):
    for metric, quant in (("ip", "none"), ("l2", "f16"), ("l2", "none")):
        index = spann(tmp_path, f"plain{metric}{quant}", metric, quant)
        index.add(rows(1000, 14))
        assert flags(index) == 0
    short_l2 = spann(tmp_path, "short_l2", "l2", "none")  # float32 keeps short values under l2
    short_l2.add(rows(1000, 14, SHORT))
    assert flags(short_l2) == 0


def test_a_failed_build_leaves_the_next_one_free_to_choose(tmp_path):
    x = rows(1000, 15, SHORT)
    bad = x.copy()
    bad[700, 3] = np.nan
    index = spann(tmp_path, "failed")
    with pytest.raises(ValueError, match="row 700"):
        index.add(bad)
    index.add(rows(1000, 16))  # ordinary rows: no factor left from the refused build
    assert flags(index) == 0


def test_rows_beyond_the_scaled_range_are_refused_by_name(tmp_path):
    index = spann(tmp_path, "bound", "l2", "f16")
    index.add(rows(1000, 17, SHORT))  # float16's range is 65504: rows scaled by about 2^17
    with pytest.raises(ValueError, match=r"row 0 column \d+ is .*multiplies its rows and queries by"):
        index.add(rows(3, 18))
    with pytest.raises(ValueError, match="multiplies its rows and queries by"):
        index.upsert(rows(1, 18), np.array([5]))
    assert len(index) == 1000
    assert 5 in index
