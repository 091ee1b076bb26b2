"""The CUDA path: exact flat search (a vidx.Index whose structure runs on the GPU) and k-means.

Without a usable GPU (or in a build without CUDA) only the "unavailable" behaviour is tested and
every GPU test is skipped. On a GPU the results are checked against the CPU flat index and a
float64 numpy reference.
"""
import numpy as np
import pytest

import vidx
from vidx import gpu

from conftest import brute_force, clustered, recall

HAS_CUDA, WHY = gpu.cuda_status()
needs_gpu = pytest.mark.skipif(not HAS_CUDA, reason=f"no usable CUDA GPU: {WHY}")


def cuda_flat(dim, metric="l2", device="cuda", **options):
    """The CUDA flat index: an ordinary vidx.Index whose structure runs on the GPU."""
    return vidx.Index(dim, metric, kind="flat", device=device, **options)


# ---- everywhere -----------------------------------------------------------------------------

def test_status_is_a_bool_and_a_reason():
    ok, why = gpu.cuda_status()
    assert isinstance(ok, bool) and isinstance(why, str) and why
    assert vidx.cuda_available() is ok is gpu.cuda_available()


@pytest.mark.skipif(HAS_CUDA, reason="a CUDA GPU is present")
def test_unavailable_errors_are_clear():
    for make in (lambda: cuda_flat(8), lambda: cuda_flat(8, quant="f16", chunk_rows=100),
                 lambda: gpu.make_flat_index(8)):
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            make()
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        gpu.load_flat_index("/nonexistent.vidx")
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        gpu.kmeans(np.zeros((4, 2), np.float32), 2, device="cuda")
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        gpu.device_info()


@pytest.mark.parametrize("options, exc, match", [
    ({"dim": 0}, ValueError, "dim"),
    ({"dim": 8.0}, TypeError, "dim"),
    ({"dim": 20000}, ValueError, "dim"),
    ({"metric": "hamming"}, ValueError, "metric"),
    ({"device": "cuda:x"}, ValueError, "device"),
    ({"chunk_rows": 0}, ValueError, "chunk_rows"),
    ({"exact": "yes"}, TypeError, "exact"),
    # what an exact GPU search cannot honour is refused, not ignored
    ({"quant": "lvq8"}, ValueError, "quant"),
    ({"quant": "binary"}, ValueError, "quant"),
    ({"quant": "nonsense"}, ValueError, "unknown quant"),
    ({"rerank": 10}, ValueError, "rerank"),
    ({"keep_vectors": True}, ValueError, "keep_vectors"),
    ({"seed": 3}, ValueError, "seed"),
    ({"M": 32}, ValueError, "HNSW"),
    ({"ef_search": 10}, ValueError, "HNSW"),
    ({"nprobe": 4}, (TypeError, ValueError), "nprobe"),  # an option of another kind
])
def test_argument_errors_before_any_device_use(options, exc, match):
    options = dict(options)
    dim = options.pop("dim", 8)
    with pytest.raises(exc, match=match):
        cuda_flat(dim, **options)


def test_device_is_for_flat_only():
    with pytest.raises(ValueError, match="flat"):
        vidx.Index(8, kind="hnsw", device="cuda")


# ---- on a GPU ---------------------------------------------------------------------------------

def assert_same_results(D, I, D_ref, I_ref, rtol=1e-4, atol=1e-5):
    """Equal to a reference exact search: distances equal to float32 rounding, ids equal except
    where two candidates are tied within that rounding (then either order is right)."""
    assert D.shape == D_ref.shape and I.shape == I_ref.shape
    assert D.dtype == np.float32 and I.dtype == np.int64
    np.testing.assert_allclose(D, D_ref, rtol=rtol, atol=atol)
    diff = I != I_ref
    if diff.any():
        scale = np.maximum(np.abs(D_ref), 1.0)
        for q, j in zip(*np.nonzero(diff)):
            # a swap is fine only when the distances at this rank agree within tolerance and
            # the found id is a genuine neighbour of that quality
            assert abs(D[q, j] - D_ref[q, j]) <= 10 * (rtol * scale[q, j] + atol), (q, j)
    assert diff.mean() < 0.01


def assert_distances_of_ids(x, q, D, I, metric, rtol=1e-4, atol=1e-4):
    """The distance reported for each returned id is that id's distance (ids map to the right rows)."""
    x64, q64 = x.astype(np.float64), np.atleast_2d(q).astype(np.float64)
    if metric == "cosine":
        x64 = x64 / np.maximum(np.linalg.norm(x64, axis=1, keepdims=True), 1e-30)
        q64 = q64 / np.maximum(np.linalg.norm(q64, axis=1, keepdims=True), 1e-30)
    rows = x64[I]  # (q, k, d)
    if metric == "l2":
        true = ((rows - q64[:, None, :]) ** 2).sum(-1)
    else:
        true = 1 - (rows * q64[:, None, :]).sum(-1)
    np.testing.assert_allclose(D, true, rtol=rtol, atol=atol)


def numpy_exact(x, q, k, metric):
    D, I = brute_force(x, q, k, metric)
    return D.astype(np.float32), I.astype(np.int64)


@needs_gpu
def test_device_info():
    info = gpu.device_info()
    assert info["multiprocessors"] > 0 and info["total_memory"] > 0
    assert info["compute_capability"][0] >= 8


@needs_gpu
@pytest.mark.parametrize("metric", ["l2", "ip", "cosine"])
@pytest.mark.parametrize("k", [1, 10, 100])
def test_equals_cpu_flat_index(blobs, metric, k):
    x, q = blobs
    g = cuda_flat(x.shape[1], metric)
    g.add(x)
    cpu = vidx.Index(x.shape[1], metric, kind="flat")
    cpu.add(x)
    D, I = g.search(q, k)
    Dc, Ic = cpu.search(q, k)
    assert_same_results(D, I, Dc, Ic)
    Dn, In = numpy_exact(x, q, k, metric)
    assert_same_results(D, I, Dn, In, rtol=1e-4, atol=1e-4)
    assert_distances_of_ids(x, q, D, I, metric)


@needs_gpu
@pytest.mark.parametrize("dim", [1, 7, 32, 100, 128, 300])
def test_dimensions_and_sizes(dim):
    x = clustered(5000, dim, seed=dim)
    q = clustered(300, dim, seed=dim + 1000)
    g = cuda_flat(dim)
    g.add(x)
    D, I = g.search(q, 10)
    Dn, In = numpy_exact(x, q, 10, "l2")
    assert_same_results(D, I, Dn, In, rtol=1e-4, atol=1e-4)
    assert_distances_of_ids(x, q, D, I, "l2")


@needs_gpu
def test_many_rows_few_queries():
    # A single query over many rows: many slices a block, the widest merge.
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200_000, 64)).astype(np.float32)
    q = rng.standard_normal((3, 64)).astype(np.float32)
    g = cuda_flat(64)
    g.add(x)
    for k in (1, 10, 1024):
        D, I = g.search(q, k)
        Dn, In = numpy_exact(x, q, k, "l2")
        assert_same_results(D, I, Dn, In, rtol=1e-4, atol=1e-3)


@needs_gpu
def test_many_queries_several_batches():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3000, 16)).astype(np.float32)
    q = rng.standard_normal((70_000, 16)).astype(np.float32)  # more than one query batch
    g = cuda_flat(16)
    g.add(x)
    D, I = g.search(q, 5)
    sub = np.r_[0:500, 65_000:65_800, 69_500:70_000]
    Dn, In = numpy_exact(x, q[sub], 5, "l2")
    assert_same_results(D[sub], I[sub], Dn, In, rtol=1e-4, atol=1e-4)


@needs_gpu
@pytest.mark.parametrize("quant", ["none", "f16"])
def test_chunked_streaming_equals_resident(quant):
    x = clustered(7000, 40, seed=5)
    q = clustered(200, 40, seed=6)
    whole = cuda_flat(40, quant=quant)
    whole.add(x)
    # 1000-row blocks, 2500 rows on the device: 3 device blocks, 5 blocks streamed from host memory
    chunked = cuda_flat(40, quant=quant, chunk_rows=1000, max_device_rows=2500)
    for part in np.array_split(x, 7):  # several add() calls: blocks fill across calls
        chunked.add(part)
    assert len(chunked) == 7000
    resident, streamed = chunked.memory_breakdown()["codes"], chunked.memory_breakdown()["streamed_codes"]
    assert 0 < resident < streamed  # 2500 of 7000 rows on the device
    assert whole.memory_breakdown()["streamed_codes"] == 0
    for k in (1, 10, 50):
        D1, I1 = whole.search(q, k)
        D2, I2 = chunked.search(q, k)
        np.testing.assert_array_equal(I1, I2)
        np.testing.assert_array_equal(D1, D2)
    Dn, In = numpy_exact(x, q, 10, "l2")
    if quant == "none":
        assert_same_results(*chunked.search(q, 10), Dn, In, rtol=1e-4, atol=1e-4)


@needs_gpu
@pytest.mark.parametrize("metric", ["l2", "ip", "cosine"])
@pytest.mark.parametrize("quant", ["none", "f16"])
@pytest.mark.parametrize("dim", [40, 1000])
def test_few_query_scan_equals_the_tiled_scan(metric, quant, dim):
    # Batches of at most 8 queries with k <= 16 take their own scan (every row read once, scored
    # in the re-rank's own float32 arithmetic); inside a 200-query batch the same queries take
    # the tiled tensor-core scan. Both must give the same ids and the same distances, bit for bit.
    rng = np.random.default_rng(11)
    x = rng.standard_normal((9000 if dim == 40 else 3000, dim)).astype(np.float32)
    q = rng.standard_normal((200, dim)).astype(np.float32)
    g = cuda_flat(dim, metric, quant=quant)
    g.add(x)
    for k in (1, 10, 16, 17):
        D_all, I_all = g.search(q, k)
        for nq in (1, 2, 5, 8, 9):
            D, I = g.search(q[:nq], k)
            np.testing.assert_array_equal(I, I_all[:nq], err_msg=f"k={k} nq={nq}")
            np.testing.assert_array_equal(D, D_all[:nq], err_msg=f"k={k} nq={nq}")
    if quant == "none":
        Dn, In = numpy_exact(x, q[:8], 10, metric)
        assert_same_results(*g.search(q[:8], 10), Dn, In, rtol=1e-4, atol=1e-4)


@needs_gpu
def test_few_query_scan_over_streamed_blocks():
    # Few queries over blocks on the device and blocks streamed from host memory, rows not a
    # multiple of the tile, a single query, and k = 1.
    x = clustered(7013, 40, seed=8)
    q = clustered(5, 40, seed=9)
    chunked = cuda_flat(40, chunk_rows=1000, max_device_rows=2500)
    chunked.add(x)
    whole = cuda_flat(40)
    whole.add(x)
    for nq, k in ((1, 1), (1, 10), (5, 16)):
        D1, I1 = chunked.search(q[:nq], k)
        D2, I2 = whole.search(q[:nq], k)
        np.testing.assert_array_equal(I1, I2)
        np.testing.assert_array_equal(D1, D2)
        Dn, In = numpy_exact(x, q[:nq], k, "l2")
        assert_same_results(D1, I1, Dn, In, rtol=1e-4, atol=1e-4)
    # the 1xTF32 mode's few-query batches take the same exact scan
    fast = cuda_flat(40, exact=False)
    fast.add(x)
    for nq, k in ((1, 10), (5, 16)):
        np.testing.assert_array_equal(fast.search(q[:nq], k)[1], whole.search(q[:nq], k)[1])
        np.testing.assert_array_equal(fast.search(q[:nq], k)[0], whole.search(q[:nq], k)[0])
    # fewer rows than one list holds: empty slots come back as -1
    tiny = cuda_flat(40)
    tiny.add(x[:5])
    D, I = tiny.search(q[:2], 10)
    assert (I[:, :5] >= 0).all() and (I[:, 5:] == -1).all()


@needs_gpu
def test_float16_storage():
    x, q = clustered(6000, 24, seed=1), clustered(200, 24, seed=2)
    g = cuda_flat(24, quant="f16")
    g.add(x)
    assert g.params["quant"] == "f16"
    D, I = g.search(q, 10)
    _, In = numpy_exact(x, q, 10, "l2")
    assert recall(I, In) > 0.97
    # exact for the float16-rounded vectors
    xh = x.astype(np.float16).astype(np.float32)
    Dh, Ih = numpy_exact(xh, q, 10, "l2")
    assert_same_results(D, I, Dh, Ih, rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="float16"):
        g.add(np.full((1, 24), 1e6, np.float32))


@needs_gpu
@pytest.mark.parametrize("metric", ["l2", "ip", "cosine"])
def test_fast_tf32_mode(metric):
    x, q = clustered(6000, 24, seed=3), clustered(200, 24, seed=4)
    g = cuda_flat(24, metric, exact=False)
    g.add(x)
    D, I = g.search(q, 10)
    Dn, In = numpy_exact(x, q, 10, metric)
    assert recall(I, In) > 0.99
    np.testing.assert_allclose(D[:, 0], Dn[:, 0], rtol=1e-4, atol=1e-4)


@needs_gpu
def test_index_protocol(blobs):
    x, q = blobs
    idx = cuda_flat(x.shape[1], "l2")
    assert type(idx) is vidx.Index and type(idx._impl) is vidx._core.Index  # one class for every device
    assert idx._impl.device == "cuda:0"
    ids = np.arange(len(x), dtype=np.int64) * 3 + 7
    idx.add(x, ids)
    assert len(idx) == len(x) and idx.dim == x.shape[1] and idx.metric == "l2" and idx.kind == "flat"
    assert idx.memory_usage() >= x.nbytes
    parts = idx.memory_breakdown()
    assert sum(parts.values()) == idx.memory_usage() and parts["codes"] >= x.nbytes
    D, I = idx.search(q, 10)
    _, In = numpy_exact(x, q, 10, "l2")
    assert recall((I - 7) // 3, In) > 0.999
    # one vector is a query of one
    D1, I1 = idx.search(q[0], 10)
    assert D1.shape == (1, 10) and I1[0, 0] == I[0, 0]
    with pytest.raises(ValueError, match="rerank"):
        idx.search(q, 10, rerank=20)


@needs_gpu
@pytest.mark.parametrize("quant", ["none", "f16"])
@pytest.mark.parametrize("metric", ["l2", "cosine"])
def test_saved_file_loads_as_a_cpu_flat_index(tmp_path, quant, metric):
    x, q = clustered(3000, 20, seed=7), clustered(100, 20, seed=8)
    g = cuda_flat(20, metric, quant=quant, chunk_rows=1000, max_device_rows=1500)  # device and host blocks
    g.add(x, ids=np.arange(3000) + 100)
    g.save(tmp_path / "g.vidx")
    cpu = vidx.load(tmp_path / "g.vidx")
    assert cpu.kind == "flat" and cpu._impl.device == "cpu" and len(cpu) == 3000
    assert cpu.params["quant"] == quant
    D, I = g.search(q, 10)
    Dc, Ic = cpu.search(q, 10)
    assert_same_results(D, I, Dc, Ic, rtol=1e-3, atol=1e-4)


@needs_gpu
def test_saved_flat_file_loads_onto_a_gpu(tmp_path):
    x, q = clustered(3000, 20, seed=9), clustered(100, 20, seed=10)
    cpu = vidx.Index(20, "ip", kind="flat", seed=5, quant="f16")  # the seed stays behind
    cpu.add(x, ids=np.arange(3000) * 2)
    cpu.save(tmp_path / "c.vidx")
    g = vidx.Index._wrap(gpu.load_flat_index(tmp_path / "c.vidx", chunk_rows=1000, max_device_rows=1500))
    assert g._impl.device == "cuda:0" and len(g) == 3000 and g.metric == "ip" and g.params["quant"] == "f16"
    assert_same_results(*g.search(q, 10), *cpu.search(q, 10), rtol=1e-3, atol=1e-4)
    g.add(x[:1])  # it goes on growing: ids continue after the largest loaded one
    assert len(g) == 3001 and 5999 in g.search(x[:1], 1024)[1][0]
    for other in (vidx.Index(20, kind="hnsw"), vidx.Index(20, kind="flat", quant="lvq8")):
        other.add(x[:100])
        other.save(tmp_path / "o.vidx")
        with pytest.raises(ValueError):
            gpu.load_flat_index(tmp_path / "o.vidx")


@needs_gpu
def test_padding_empty_and_ids():
    g = cuda_flat(4)
    D, I = g.search(np.zeros((2, 4), np.float32), 3)
    assert np.all(I == -1) and np.all(np.isinf(D))
    g.add(np.eye(4, dtype=np.float32), ids=[10, 20, 30, 40])
    D, I = g.search(np.eye(4, dtype=np.float32)[:1], 6)
    assert I[0, 0] == 10 and D[0, 0] == 0.0
    assert sorted(I[0, :4].tolist()) == [10, 20, 30, 40]
    assert np.all(I[0, 4:] == -1) and np.all(np.isinf(D[0, 4:]))
    g.add(np.ones((1, 4), np.float32))  # assigned id continues after the largest
    _, I = g.search(np.ones((1, 4), np.float32), 1)
    assert I[0, 0] == 41


@needs_gpu
def test_bad_input_on_gpu_index():
    g = cuda_flat(8)
    g.add(np.zeros((3, 8), np.float32))
    with pytest.raises(ValueError):
        g.add(np.zeros((3, 7), np.float32))
    with pytest.raises(ValueError):
        g.add(np.full((2, 8), np.nan, np.float32))
    with pytest.raises(TypeError):
        g.add([["a"] * 8])
    with pytest.raises(ValueError):
        g.add(np.zeros((2, 8), np.float32), ids=[1, 1])
    with pytest.raises(ValueError):
        g.search(np.zeros((1, 8), np.float32), 0)
    with pytest.raises(ValueError):
        g.search(np.zeros((1, 8), np.float32), 1025)
    with pytest.raises(ValueError):
        g.search(np.full((1, 8), np.inf, np.float32), 1)
    with pytest.raises(ValueError):
        g.search(np.zeros((1, 9), np.float32), 1)
    with pytest.raises(ValueError):
        cuda_flat(8, device=99)
    assert len(g) == 3  # failed adds changed nothing


@needs_gpu
def test_kmeans_cuda_matches_cpu():
    x = clustered(20_000, 32, n_clusters=50, seed=11, spread=0.3)
    cpu = vidx.kmeans(x, 64, iters=20, seed=3)
    dev = vidx.kmeans(x, 64, iters=20, seed=3, device="cuda")
    assert dev.centroids.shape == (64, 32) and dev.assignment.dtype == np.int64
    assert dev.inertia == pytest.approx(cpu.inertia, rel=1e-3)
    assert (dev.assignment == cpu.assignment).mean() > 0.99
    # deterministic on the GPU too
    again = vidx.kmeans(x, 64, iters=20, seed=3, device="cuda")
    np.testing.assert_array_equal(dev.centroids, again.centroids)
    # assignment = nearest centroid, inertia = its distances
    d = ((x[:, None, :].astype(np.float64) - dev.centroids[None].astype(np.float64)) ** 2).sum(-1)
    assert dev.inertia == pytest.approx(d[np.arange(len(x)), dev.assignment].sum(), rel=1e-4)
    assert np.all(d[np.arange(len(x)), dev.assignment] <= d.min(1) * (1 + 1e-4) + 1e-5)


@needs_gpu
def test_kmeans_cuda_small_and_bad_input():
    x = np.random.default_rng(0).standard_normal((50, 3)).astype(np.float32)
    r = vidx.kmeans(x, 50, device="cuda")
    assert r.inertia == pytest.approx(0.0, abs=1e-5)
    r = vidx.kmeans(x, 1, device="cuda:0")
    np.testing.assert_allclose(r.centroids[0], x.astype(np.float64).mean(0), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError):
        vidx.kmeans(x, 51, device="cuda")
    with pytest.raises(ValueError):
        vidx.kmeans(np.full((5, 3), np.nan, np.float32), 2, device="cuda")
    with pytest.raises(ValueError):
        vidx.kmeans(x, 2, device="cuda:99")


@needs_gpu
def test_index_releases_device_memory():
    import gc
    free0 = gpu.device_info()["free_memory"]
    for _ in range(3):
        g = cuda_flat(256)
        g.add(np.random.default_rng(0).standard_normal((100_000, 256)).astype(np.float32))
        g.search(np.zeros((10, 256), np.float32), 10)
        del g
        gc.collect()
    free1 = gpu.device_info()["free_memory"]
    assert free1 > free0 - (64 << 20)
