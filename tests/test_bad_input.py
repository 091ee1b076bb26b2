"""Bad input raises a clear Python exception and leaves the index as it was."""
import numpy as np
import pytest

import vidx


@pytest.fixture(params=["hnsw", "flat"])
def filled(request):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, 8)).astype(np.float32)
    idx = vidx.Index(8, kind=request.param)
    idx.add(x)
    return idx, x


def snapshot(idx, x):
    return len(idx), idx.search(x[:20], 5, ef=50)


def assert_unchanged(idx, x, before):
    n, (D, I) = before
    assert len(idx) == n
    D2, I2 = idx.search(x[:20], 5, ef=50)
    np.testing.assert_array_equal(I, I2)
    np.testing.assert_array_equal(D, D2)


@pytest.mark.parametrize("bad, error, words", [
    (np.zeros((3, 7), np.float32), ValueError, "dimension"),
    (np.zeros((3, 9)), ValueError, "dimension"),
    (np.zeros((0, 8), np.float32), ValueError, "empty"),
    (np.zeros((2, 2, 8), np.float32), ValueError, "dimensions"),
    (np.array([["a"] * 8]), TypeError, "dtype"),
    (np.array([[object()] * 8]), TypeError, "dtype"),
    (np.ones((2, 8), dtype=bool), TypeError, "dtype"),
    (np.ones((2, 8), dtype=np.complex64), TypeError, "dtype"),
    (None, TypeError, "None"),
])
def test_add_rejects_bad_vectors(filled, bad, error, words):
    idx, x = filled
    before = snapshot(idx, x)
    with pytest.raises(error, match=words):
        idx.add(bad)
    assert_unchanged(idx, x, before)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf, 1e39])
def test_add_rejects_non_finite_values(filled, value):
    idx, x = filled
    before = snapshot(idx, x)
    bad = np.ones((5, 8))
    bad[3, 2] = value  # 1e39: beyond float32 (test_float64_values_beyond_float32_are_named)
    with pytest.raises(ValueError, match="row 3"):
        idx.add(bad)
    assert_unchanged(idx, x, before)


@pytest.mark.filterwarnings("error")  # numpy's "overflow encountered in cast" leaked before
@pytest.mark.parametrize("value", [1e39, -1e300])
def test_float64_values_beyond_float32_are_named(filled, value):
    idx, x = filled
    before = snapshot(idx, x)
    bad = np.ones((5, 8))
    bad[3, 2] = value  # finite in float64; the cast made it inf, refused as "NaN or infinite"
    with pytest.raises(ValueError, match=r"vector row 3 column 2 is -?1e\+(39|300): beyond float32's range"):
        idx.add(bad)
    with pytest.raises(ValueError, match=r"query row 3 column 2 is .*beyond float32's range"):
        idx.search(bad, 3)
    assert_unchanged(idx, x, before)


def test_duplicate_ids_in_one_call(filled):
    idx, x = filled
    before = snapshot(idx, x)
    with pytest.raises(ValueError, match="duplicate id 1007"):
        idx.add(np.ones((3, 8)), ids=[1000, 1007, 1007])
    assert_unchanged(idx, x, before)


def test_id_already_present(filled):
    idx, x = filled
    before = snapshot(idx, x)
    with pytest.raises(ValueError, match="already in the index"):
        idx.add(np.ones((2, 8)), ids=[5000, 12])
    assert_unchanged(idx, x, before)


@pytest.mark.parametrize("ids, error", [
    ([1, 2], ValueError),                       # wrong length
    (np.array([1.0, 2.0, 3.0]), TypeError),     # not integers
    (np.array([[1, 2, 3]]), ValueError),        # not 1-d
    (np.array([2**63, 1, 2], dtype=np.uint64), ValueError),  # does not fit int64
])
def test_bad_ids(filled, ids, error):
    idx, x = filled
    before = snapshot(idx, x)
    with pytest.raises(error):
        idx.add(np.ones((3, 8)), ids=ids)
    assert_unchanged(idx, x, before)


@pytest.mark.parametrize("k, error", [(0, ValueError), (-3, ValueError), (2.5, TypeError), ("10", TypeError),
                                      (True, TypeError), (None, TypeError)])
def test_bad_k(filled, k, error):
    idx, x = filled
    with pytest.raises(error, match="k"):
        idx.search(x[0], k=k)


@pytest.mark.parametrize("ef, error", [(0, ValueError), (-1, ValueError), (3.0, TypeError)])
def test_bad_ef(filled, ef, error):
    idx, x = filled
    with pytest.raises(error, match="ef"):
        idx.search(x[0], k=5, ef=ef)


@pytest.mark.parametrize("q, error", [
    (np.zeros(7), ValueError), (np.zeros((0, 8)), ValueError), (np.full(8, np.nan), ValueError),
    (np.array(["x"] * 8), TypeError), ("abc", TypeError),
])
def test_bad_queries(filled, q, error):
    idx, _ = filled
    with pytest.raises(error):
        idx.search(q, k=3)


def test_numpy_integer_k_is_fine(filled):
    idx, x = filled
    D, I = idx.search(x[:2], k=np.int64(4))
    assert I.shape == (2, 4)


@pytest.mark.parametrize("kwargs, error", [
    (dict(dim=0), ValueError), (dict(dim=-4), ValueError), (dict(dim=4.0), TypeError),
    (dict(dim=4, metric="hamming"), ValueError), (dict(dim=4, metric=3), TypeError),
    (dict(dim=4, kind="ivf"), ValueError), (dict(dim=4, M=1), ValueError), (dict(dim=4, M=100000), ValueError),
    (dict(dim=4, ef_construction=0), ValueError), (dict(dim=4, threads=-1), ValueError),
    (dict(dim=4, seed=-1), ValueError), (dict(dim=4, quant="pq"), ValueError),
    (dict(dim=4, device="tpu"), ValueError), (dict(dim=4, bogus=1), TypeError),
])
def test_bad_construction(kwargs, error):
    with pytest.raises(error):
        vidx.Index(**kwargs)


def test_integer_input_is_converted(filled):
    idx, _ = filled
    n = len(idx)
    idx.add(np.arange(16, dtype=np.int32).reshape(2, 8))
    assert len(idx) == n + 2


def test_option_names_by_kind():
    # The kind-independent way to ask "does this kind keep files at `path`" (sharded indexes ask it).
    assert "path" in vidx._core.option_names("spann")
    assert "path" not in vidx._core.option_names("hnsw")
    assert set(vidx._core.option_names("flat")) <= set(vidx._core.option_names())
    with pytest.raises(ValueError, match="unknown index kind 'nope'"):
        vidx._core.option_names("nope")


def test_one_id_for_one_vector(filled):
    # remove(7) and get(7) took one id; add and upsert wanted a 1-d array even for one vector.
    idx, x = filled
    idx.add(x[0], ids=1000)
    idx.upsert(x[1:2], np.int64(1001))
    np.testing.assert_array_equal(idx.get([1000, 1001])[0], x[:2])
    with pytest.raises(ValueError, match="a single id only for a single vector"):
        idx.add(x[:2], ids=1002)
    with pytest.raises(TypeError, match="integers"):
        idx.add(x[0], ids=True)


@pytest.mark.parametrize("flag", [None, "yes", 1])
def test_ignore_missing_must_be_a_bool(filled, flag):
    idx, x = filled
    with pytest.raises(TypeError, match="ignore_missing must be True or False"):
        idx.remove([0, 10**6], ignore_missing=flag)  # None read as False, "yes" as pybind11's dump
    assert 0 in idx
    assert idx.remove([0, 10**6], ignore_missing=np.True_) == 1



@pytest.mark.parametrize("call", [
    lambda idx, q: idx.search(q, k=2, eps=np.array([3.0])),
    lambda idx, q: idx.range_search(q, np.array([1.0])),
    lambda idx, q: idx.range_search(q, "1.0"),
])
def test_array_or_string_where_a_number_goes(filled, call):
    # A one-element array made pybind11 raise RuntimeError("Unable to cast ...").
    idx, x = filled
    with pytest.raises(TypeError, match="must be a number"):
        call(idx, x[:1])


def test_numpy_scalars_where_a_number_goes(filled):
    idx, x = filled
    lims, D, I = idx.range_search(x[:1], np.float32(1e9))
    assert lims[-1] == len(idx)
    assert idx.range_search(x[:1], np.array(1e9))[0][-1] == len(idx)  # a 0-d array is a number


def test_npy_file_claiming_more_rows_than_any_file_holds(tmp_path):
    # rows * row bytes wrapped around 2^64: the "truncated" check passed and add() crashed.
    path = tmp_path / "huge.npy"
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 8), }"
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode())
        f.write(np.zeros((10, 8), np.float32).tobytes())
    for kind in ("hnsw", "flat"):
        with pytest.raises(OSError, match="more than any file holds"):
            vidx.Index(8, kind=kind).add(str(path))


@pytest.mark.parametrize("kind", ["hnsw", "flat"])
@pytest.mark.parametrize("quant", ["lvq8", "lvq4x8", "binary"])
def test_values_a_codec_cannot_store_are_refused(kind, quant):
    # LVQ keeps float16 constants: values of ~3e5 made NaN distances and lost every self-match.
    rng = np.random.default_rng(0)
    X = (rng.standard_normal((50, 8)) * 1e5).astype(np.float32)
    idx = vidx.Index(8, "l2", kind=kind, quant=quant)
    with pytest.raises(ValueError, match=f"quant '{quant}' stores values within"):
        idx.add(X)
    assert len(idx) == 0
    idx.add(X / 100)  # within the bound: stored, and found again
    assert (idx.search(X[:10] / 100, k=1, ef=50)[1][:, 0] == np.arange(10)).all()
    with pytest.raises(ValueError, match="stores values within"):
        idx.upsert(X[:1], ids=[0])
    cos = vidx.Index(8, "cosine", kind=kind, quant=quant)  # unit vectors: no bound
    cos.add(X)
    assert len(cos) == 50


def test_spann_refuses_values_its_codec_cannot_store(tmp_path):
    X = (np.random.default_rng(0).standard_normal((400, 8)) * 1e5).astype(np.float32)
    idx = vidx.Index(8, "l2", kind="spann", quant="lvq8", path=tmp_path / "p.post")
    with pytest.raises(ValueError, match="vector row 0 column .* quant 'lvq8' stores values within"):
        idx.add(X, progress=False)


@pytest.mark.parametrize("quant", ["lvq4", "lvq4x8", "lvq4x4"])
def test_a_subnormal_query_is_a_zero_query(quant):
    # Its 8-bit rounding step was subnormal, its inverse infinite (UB under UBSan).
    X = np.random.default_rng(0).standard_normal((100, 8)).astype(np.float32)
    idx = vidx.Index(8, "ip", quant=quant)
    idx.add(X)
    tiny = idx.search(np.full(8, 1e-40, np.float32), k=5, ef=100)
    zero = idx.search(np.zeros(8, np.float32), k=5, ef=100)
    np.testing.assert_allclose(tiny[0], zero[0], atol=1e-6)


@pytest.mark.parametrize("make", [
    lambda: vidx.Index(8, seed=2**64),
    lambda: vidx.Index(8, M=2**64),
    lambda: vidx.Index(8, ef_construction=2**70),
    lambda: vidx.Index(2**64),
])
def test_integers_past_64_bits_name_the_option(make):
    # pybind11's own cast error ("Unable to cast Python instance ... to C++ type '?'") named nothing.
    with pytest.raises(ValueError, match="must be below 2\\*\\*64"):
        make()


def test_threads_past_64_bits(filled):
    idx, _ = filled
    with pytest.raises(ValueError, match="threads must be below 2\\*\\*64"):
        idx.threads = 2**64


def test_vecs_rows_of_other_dimensions(filled, tmp_path):
    # Rows of 7 and 9 values after one of 8 add up to a multiple of the first row's size; they
    # were read misaligned, each next row's header taken for a value.
    import struct
    idx, x = filled
    before = snapshot(idx, x)
    rows = [np.arange(8, dtype=np.float32)] + [np.ones(7 if i % 2 == 0 else 9, np.float32) for i in range(10)]
    path = tmp_path / "mixed.fvecs"
    path.write_bytes(b"".join(struct.pack("<i", len(r)) + r.tobytes() for r in rows))
    with pytest.raises(OSError, match="row 1 declares dimension 7"):
        idx.add(str(path))
    assert_unchanged(idx, x, before)


@pytest.mark.parametrize("big", [2**63, 2**64])
def test_a_list_id_past_int64_is_named(filled, big):
    # numpy turns such a list into float64 or object: the error named that dtype, not the id.
    idx, x = filled
    before = snapshot(idx, x)
    with pytest.raises(ValueError, match=f"id {big} does not fit"):
        idx.add(x[:3] + 1, ids=[10**6, 10**6 + 1, big])
    assert_unchanged(idx, x, before)


def test_npy_with_a_negative_shape(filled, tmp_path):
    idx, x = filled
    path = tmp_path / "negative.npy"
    np.save(path, np.ones((5, 8), np.float32))
    path.write_bytes(path.read_bytes().replace(b"(5, 8)", b"(-5, 8)"))
    with pytest.raises(OSError, match="negative shape"):
        idx.add(str(path))


def test_spann_sample_too_small_names_sample(tmp_path):
    idx = vidx.Index(8, kind="spann", path=tmp_path / "p.post", sample=1)
    with pytest.raises(ValueError, match="sample=1 clusters fewer rows"):
        idx.add(np.random.default_rng(0).random((500, 8), dtype=np.float32), progress=False)


def test_a_progress_callback_that_raises_leaves_the_index_unchanged(filled, tmp_path):
    # Adding from a file reported its only progress after the rows went in: the add raised and
    # the rows stayed (a retry added them twice).
    idx, x = filled
    before = snapshot(idx, x)
    path = tmp_path / "rows.npy"
    np.save(path, x[:50] + 1)

    def stop(phase, done, total):
        raise RuntimeError("stopped")
    with pytest.raises(RuntimeError, match="stopped"):
        idx.add(str(path), progress=stop)
    assert_unchanged(idx, x, before)


@pytest.fixture
def h5_file(tmp_path):
    """An HDF5 file holding a 2-d dataset "train" (rows that fit `filled`) and a group "grp"."""
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "rows.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("train", data=np.random.default_rng(1).standard_normal((20, 8)).astype(np.float32))
        f.create_group("grp")
    return h5py, path


def test_hdf5_dataset_naming_a_group(filled, h5_file):
    # It raised AttributeError ('Group' object has no attribute 'ndim').
    idx, x = filled
    h5py, path = h5_file
    before = snapshot(idx, x)
    with pytest.raises(ValueError, match=r"rows\.h5: '/grp' is an HDF5 group, not a dataset.*train"):
        idx.add(str(path), dataset="grp")
    with h5py.File(path, "r") as f, pytest.raises(ValueError, match="'/grp' is an HDF5 group"):
        idx.add(f["grp"])
    assert_unchanged(idx, x, before)


def test_hdf5_dataset_must_be_a_name(filled, h5_file):
    # An h5py object as dataset= raised h5py's own "A name should be string or bytes".
    idx, x = filled
    h5py, path = h5_file
    before = snapshot(idx, x)
    with h5py.File(path, "r") as f:
        for bad in (f["grp"], f["train"], 3):
            with pytest.raises(TypeError, match="dataset must be a str naming a dataset"):
                idx.add(str(path), dataset=bad)
        # The h5py Dataset passed as X with a name as well: which rows were meant is unclear.
        with pytest.raises(ValueError, match="dataset='train' applies only to an HDF5 file path"):
            idx.add(f["train"], dataset="train")
    assert_unchanged(idx, x, before)


def test_dataset_outside_hdf5_is_refused_not_ignored(filled, tmp_path):
    # dataset= was silently ignored for other files and for arrays: the rows added were not the
    # ones the caller named.
    idx, x = filled
    before = snapshot(idx, x)
    path = tmp_path / "rows.npy"
    np.save(path, x[:5] + 1)
    with pytest.raises(ValueError, match=r"applies only to HDF5 files \(\.hdf5, \.h5\), not .*rows\.npy"):
        idx.add(str(path), dataset="train")
    with pytest.raises(ValueError, match="applies only to HDF5 files; X is a ndarray"):
        idx.add(x[:5] + 1, dataset="train")
    assert_unchanged(idx, x, before)


def test_hdf5_dataset_by_name_still_adds(filled, h5_file):
    idx, x = filled
    _, path = h5_file
    idx.add(str(path), dataset="train", ids=np.arange(1000, 1020))
    assert len(idx) == len(x) + 20


def test_messages_name_what_was_given(tmp_path):
    # from_bytes(None) dumped pybind11's signature; a broken .hdf5 gave h5py's message without
    # the file; an empty dataset said "vectors is empty"; datasets.load(None) looked for
    # None.hdf5; counts past an option's bound printed as doubles and without the bound.
    with pytest.raises(TypeError, match="from_bytes needs bytes .* got NoneType"):
        vidx.from_bytes(None)
    broken = tmp_path / "broken.hdf5"
    broken.write_bytes(b"not an hdf5 file at all")
    with pytest.raises(OSError, match="cannot read .*broken.hdf5 as an HDF5 file"):
        vidx.Index(4).add(broken)
    h5py = pytest.importorskip("h5py")
    with h5py.File(tmp_path / "empty.hdf5", "w") as f:
        f.create_dataset("train", shape=(0, 4), dtype="f4")
    with pytest.raises(ValueError, match="empty.hdf5: dataset /train holds no rows"):
        vidx.Index(4).add(tmp_path / "empty.hdf5")
    with pytest.raises(TypeError, match="dataset name is a str, got NoneType"):
        vidx.datasets.load(None, cache_dir=tmp_path, download=False)
    with pytest.raises(ValueError, match="threads must be between 0 and 4096, got 9223372036854775808"):
        vidx.Index(4, threads=2 ** 63)
    with pytest.raises(ValueError, match="ef_construction must be between 1 and 1000000000, got 1099511627776"):
        vidx.Index(4, ef_construction=2 ** 40)
