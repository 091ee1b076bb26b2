"""Every installed benchmark adapter builds, sweeps and finds the true neighbours on a small
clustered set; a peer that is not installed is skipped, so CI needs none of them."""
import numpy as np
import pytest

from conftest import brute_force, clustered, recall
from vidx.bench import peers

# (adapter, variant): every adapter head_to_head can run, compressed variants included.
CASES = [("vidx", None), ("vidx", "lvq8"), ("hnswlib", None), ("faiss", None), ("faiss", "sq8"),
         ("usearch", None), ("glass", None), ("glass", "sq8"), ("scann", None), ("vsag", None), ("ngt", None)]


@pytest.mark.parametrize("metric", ["l2", "cosine"])
@pytest.mark.parametrize("name,variant", CASES, ids=[f"{n}:{v}" if v else n for n, v in CASES])
def test_adapter_finds_true_neighbours(name, variant, metric):
    cls = peers.ADAPTERS[name]
    if not cls.available():
        pytest.skip(f"{cls.module} is not installed")
    # 32 Gaussian blobs whose noise is a quarter of the spread between their centres.
    train, queries, k = clustered(3000, 24, seed=0, spread=0.25), clustered(50, 24, seed=1, spread=0.25), 10
    _, truth = brute_force(train, queries, k, metric)
    adapter = cls(variant)
    try:
        assert adapter.build(train, metric, 16, 100, 2) > 0
        adapter.set_ef(256)
        single = np.vstack([adapter.query_one(q, k) for q in queries])
        batch = adapter.query_batch(queries, k, 2)
        assert single.shape == batch.shape == (len(queries), k)
        assert recall(single, truth) >= 0.8 and recall(batch, truth) >= 0.8
        memory = adapter.memory_bytes()
        assert memory is None or memory > 0
    finally:
        adapter.close()


def test_unknown_variant_is_refused():
    with pytest.raises(ValueError, match="variant"):
        peers.ADAPTERS["hnswlib"]("sq8")


def test_head_to_head_reads_name_variant_and_m():
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "head_to_head.py"
    spec = importlib.util.spec_from_file_location("head_to_head", path)
    h2h = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(h2h)
    assert h2h.parse_spec("vidx", 16) == ("vidx", None, 16)
    assert h2h.parse_spec("vidx:lvq4x8@32", 16) == ("vidx", "lvq4x8", 32)
    assert h2h.parse_spec("faiss:sq8", 16) == ("faiss", "sq8", 16)
    with pytest.raises(ValueError, match="NAME"):
        h2h.parse_spec("hnswlib@x", 16)
    # QPS read at exactly the target recall, between the efs that straddle it
    assert h2h.qps_at_recall([(0.90, 120.0), (0.94, 100.0), (0.96, 80.0)], 0.95) == pytest.approx(90.0)
    assert h2h.qps_at_recall([(0.97, 50.0), (0.99, 30.0)], 0.95) == 50.0
    assert h2h.qps_at_recall([(0.90, 50.0), (0.93, 30.0)], 0.95) is None
