"""Every installed benchmark adapter builds, sweeps and finds the true neighbours on a small
clustered set; a peer that is not installed is skipped, so CI needs none of them."""
import numpy as np
import pytest

from conftest import brute_force, clustered, recall
from vidx.bench import peers

# (adapter, variant): every adapter head_to_head can run, compressed variants included.
CASES = [("vidx", None), ("vidx", "lvq8"), ("hnswlib", None), ("faiss", None), ("faiss", "sq8"),
         ("usearch", None), ("glass", None), ("glass", "sq8"), ("scann", None), ("svs", None), ("svs", "lvq4x8"), ("vsag", None), ("ngt", None)]


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
        try:
            seconds = adapter.build(train, metric, 16, 100, 2)
        except Exception as refusal:  # SVS's LVQ refuses some CPUs (AMD ones, in earlier sessions)
            if name == "svs" and variant:
                pytest.skip(f"SVS LVQ is unavailable on this CPU: {refusal}")
            raise
        assert seconds > 0
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


def load_benchmark(name):
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parents[1] / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_head_to_head_reads_name_variant_and_m():
    h2h = load_benchmark("head_to_head")
    assert h2h.parse_spec("vidx", 16) == ("vidx", None, 16)
    assert h2h.parse_spec("vidx:lvq4x8@32", 16) == ("vidx", "lvq4x8", 32)
    assert h2h.parse_spec("faiss:sq8", 16) == ("faiss", "sq8", 16)
    with pytest.raises(ValueError, match="NAME"):
        h2h.parse_spec("hnswlib@x", 16)
    with pytest.raises(ValueError, match="M must be between 2 and 2048"):
        h2h.parse_spec("faiss@1", 16)  # faiss's HNSW at M=1 ends the process
    assert h2h.parse_spec("vidx:lvq8@0", 16) == ("vidx", "lvq8", 0)  # vidx's automatic M
    # Without --M: the peers at 16, vidx at its automatic M (as its users get it)
    assert h2h.parse_spec("vidx:lvq8", None) == ("vidx", "lvq8", 0)
    assert h2h.parse_spec("hnswlib", None) == ("hnswlib", None, 16)
    assert h2h.parse_spec("vidx@24", None) == ("vidx", None, 24)
    with pytest.raises(ValueError, match="M must be between 2 and 2048"):
        h2h.parse_spec("hnswlib@0", 16)
    with pytest.raises(ValueError, match="given twice"):
        h2h.parse_specs("vidx,hnswlib,vidx", 16)
    # QPS read at exactly the target recall, between the efs that straddle it
    assert h2h.qps_at_recall([(0.90, 120.0), (0.94, 100.0), (0.96, 80.0)], 0.95) == pytest.approx(90.0)
    assert h2h.qps_at_recall([(0.97, 50.0), (0.99, 30.0)], 0.95) == 50.0
    assert h2h.qps_at_recall([(0.90, 50.0), (0.93, 30.0)], 0.95) is None


@pytest.mark.parametrize("argv,message", [
    (["--rounds", "0"], "argument --rounds: expected a positive integer"),  # statistics.median([]) after the builds
    (["--M", "1"], "argument --M: M must be between 2 and 2048"),
    (["--ef", "16,0"], "argument --ef: expected positive integers"),
    (["--ef", "16,99999999999"], "argument --ef: expected values from 1 to 1,000,000"),
    (["--algorithms", "vidx@x"], "bad algorithm 'vidx@x'"),
])
def test_head_to_head_refuses_what_it_could_not_run_before_loading_anything(argv, message, capsys):
    h2h = load_benchmark("head_to_head")
    with pytest.raises(SystemExit) as exit_:
        h2h.parse_args(["fashion-mnist-784-euclidean"] + argv)
    assert exit_.value.code == 2 and message in capsys.readouterr().err


def test_h2h_medians_takes_the_median_of_same_run_ratios():
    medians = load_benchmark("h2h_medians")

    def run(ours, theirs, build):  # two efs straddling every target; QPS scaled per library
        rows = []
        for name, scale in (("vidx", ours), ("hnswlib", theirs)):
            rows += [{"algorithm": name, "ef": ef, "recall": r, "qps_median": q * scale, "batch_qps_median": q}
                     for ef, r, q in ((16, 0.89, 200.0), (64, 0.995, 100.0))]
        return {"dataset": "d", "rows": rows, "builds": {"vidx": [build], "hnswlib": [10.0]},
                "memory": {"vidx": 2**20, "hnswlib": 2**21}}

    runs = [run(3.0, 1.0, 5.0), run(2.0, 1.0, 4.0), run(8.0, 2.0, 6.0)]
    ratios, build = medians.same_run_ratios(runs[2], "vidx", "hnswlib")
    assert ratios[("single", 0.95)] == pytest.approx(4.0) and ratios[("batch", 0.99)] == pytest.approx(1.0)
    assert build == pytest.approx(0.6)
    text = medians.table(runs, "hnswlib")
    # single-thread ratios 3, 2, 4 per run: median 3; builds 0.5, 0.4, 0.6: median 0.5
    assert "**3.00x** (3.00, 2.00, 4.00)" in text and "**0.50x** (0.50, 0.40, 0.60)" in text
