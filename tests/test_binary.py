"""Binary codes: Hamming kernels of every SIMD level, recall after re-ranking, files."""
import numpy as np
import pytest

import vidx
from vidx import _core
from conftest import brute_force, clustered, recall

LEVELS = vidx.cpu_features()["available"]


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("words", [1, 3, 8, 13])
def test_hamming_matches_numpy(level, words):
    rng = np.random.default_rng(words)
    bits = rng.integers(0, 2**63, (20, words), dtype=np.uint64) * np.uint64(2) + rng.integers(0, 2, (20, words), dtype=np.uint64)
    want = np.unpackbits((bits[:1] ^ bits).view(np.uint8), axis=1).sum(1)
    np.testing.assert_array_equal(_core._hamming(level, bits), want)


@pytest.fixture(scope="module")
def data():
    both = clustered(3200, 40, seed=2, spread=0.5)
    return both[:3000], both[3000:]


@pytest.mark.parametrize("metric", ["l2", "cosine"])
@pytest.mark.parametrize("keep", [False, True])
def test_recall_after_rerank(data, metric, keep):
    x, q = data
    _, truth = brute_force(x, q, 10, metric)
    idx = vidx.Index(40, metric=metric, quant="binary", keep_vectors=keep, M=12, ef_construction=80)
    idx.add(x)
    assert recall(idx.search(q, 10, ef=64, rerank=200)[1], truth) >= 0.95


def test_save_load(tmp_path, data):
    x, q = data
    idx = vidx.Index(40, quant="binary", rerank=100, M=8, ef_construction=40)
    idx.add(x)
    idx.save(tmp_path / "b.vidx")
    loaded = vidx.load(tmp_path / "b.vidx")
    for a, b in zip(idx.search(q, 5), loaded.search(q, 5)):
        np.testing.assert_array_equal(a, b)
