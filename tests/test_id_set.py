"""vidx.IdSet: an allow-list prepared once. Searches with it must return exactly what the same
ids passed as an array return (HNSW, flat, SPANN; dense ids with its bitset, sparse ids
without), follow adds and removes by id, work per query and in range searches, and refuse bad
ids at construction."""
import pickle

import numpy as np
import pytest

import vidx
from conftest import clustered

N, DIM, NQ, K = 3000, 16, 40, 10


@pytest.fixture(scope="module")
def data():
    both = clustered(N + NQ, DIM, n_clusters=30, seed=21)
    return both[:N], both[N:]


def same_results(idx, q, ids, **params):
    D1, I1 = idx.search(q, K, filter=ids, **params)
    D2, I2 = idx.search(q, K, filter=vidx.IdSet(ids), **params)
    np.testing.assert_array_equal(I1, I2)
    np.testing.assert_array_equal(D1, D2)
    return I2


@pytest.mark.parametrize("kind,quant", [("hnsw", "f32"), ("hnsw", "lvq4x4"), ("flat", "f32")])
@pytest.mark.parametrize("share", [0.5, 0.1, 0.005])
def test_same_results_as_the_id_array(data, kind, quant, share):
    x, q = data
    idx = vidx.Index(DIM, kind=kind, quant=quant, seed=3)
    idx.add(x)
    rows = np.flatnonzero(np.random.default_rng(int(share * 1000)).random(N) < share)
    I = same_results(idx, q, rows)
    assert np.isin(I[I >= 0], rows).all()
    assert vidx.IdSet(rows)._bits is not None  # dense ids: the bitset is what the search read


@pytest.mark.parametrize("kind", ["hnsw", "flat"])
def test_sparse_user_ids_have_no_bitset_and_still_match(data, kind):
    x, q = data
    ids = np.arange(N, dtype=np.int64) * 10**9 + 5
    idx = vidx.Index(DIM, kind=kind, seed=3)
    idx.add(x, ids)
    allowed = ids[np.random.default_rng(1).random(N) < 0.3]
    s = vidx.IdSet(allowed)
    assert s._bits is None
    I = same_results(idx, q, allowed)
    assert np.isin(I[I >= 0], allowed).all()


def test_spann_filters_postings_with_an_id_set(data, tmp_path):
    x, q = data
    idx = vidx.Index(DIM, kind="spann", path=str(tmp_path / "p.spann"), seed=3)
    idx.add(x, progress=False)
    rows = np.flatnonzero(np.random.default_rng(2).random(N) < 0.2)
    I = same_results(idx, q, rows, nprobe=16)
    assert np.isin(I[I >= 0], rows).all()


def test_follows_adds_and_removes_by_id(data):
    x, q = data
    idx = vidx.Index(DIM, seed=3)
    idx.add(x[: N // 2])
    listed = vidx.IdSet(np.arange(0, N, 2))  # half of them not in the index yet
    before = idx.search(q, K, filter=listed)[1]
    assert np.isin(before[before >= 0], np.arange(0, N // 2, 2)).all()
    idx.add(x[N // 2:])
    idx.remove(np.arange(0, 200))
    _, I = idx.search(q, K, filter=listed)
    allowed_now = np.arange(200, N, 2)
    assert np.isin(I[I >= 0], allowed_now).all()
    I_array = idx.search(q, K, filter=np.arange(0, N, 2))[1]
    np.testing.assert_array_equal(I, I_array)


def test_one_id_set_per_query_and_range_search(data):
    x, q = data
    idx = vidx.Index(DIM, seed=3)
    idx.add(x)
    rng = np.random.default_rng(4)
    lists = [np.flatnonzero(rng.random(N) < s) for s in (0.5, 0.05, 0.01, 0.3)]
    flts = [vidx.IdSet(lists[0]), lists[1], None, vidx.IdSet(lists[3])]
    _, I = idx.search(q[:4], K, filter=flts)
    for j, flt in enumerate(flts):
        np.testing.assert_array_equal(I[j], idx.search(q[j:j + 1], K, filter=flt)[1][0])
    assert np.isin(I[0][I[0] >= 0], lists[0]).all() and np.isin(I[3][I[3] >= 0], lists[3]).all()
    radius = float(np.median(idx.search(q, K)[0][:, -1]))
    lims1, D1, I1 = idx.range_search(q, radius, filter=lists[0])
    lims2, D2, I2 = idx.range_search(q, radius, filter=vidx.IdSet(lists[0]))
    np.testing.assert_array_equal(lims1, lims2)
    np.testing.assert_array_equal(I1, I2)


def test_the_set_itself():
    s = vidx.IdSet(np.array([9, 3, 3, 7, 0], dtype=np.uint32))
    assert len(s) == 4 and 7 in s and 5 not in s and list(s) == [0, 3, 7, 9]
    np.testing.assert_array_equal(np.asarray(s), [0, 3, 7, 9])
    assert np.asarray(s).dtype == np.int64 and not np.asarray(s).flags.writeable
    assert pickle.loads(pickle.dumps(s)) == s
    assert len(vidx.IdSet([])) == 0 and len(vidx.IdSet([2**62])) == 1
    # Membership takes an integer id, as `id in index` does (3.0 read as 3 before).
    assert np.int32(7) in s and np.uint64(3) in s and -1 not in s and 2**70 not in s
    assert np.array(7) in s and np.array(5, np.uint8) not in s
    for not_an_id in (7.0, True, "7", None):
        with pytest.raises(TypeError, match="ids are integers"):
            not_an_id in s  # noqa: B015
    assert vidx.IdSet([2**62])._bits is None  # a bitset that far out would not fit
    bits = vidx.IdSet([0, 63, 64, 130])._bits
    np.testing.assert_array_equal(bits, np.array([1 | (1 << 63), 1, 4], dtype=np.uint64))


@pytest.mark.parametrize(
    "bad,error,words",
    [
        (np.array([1, -2, 3]), ValueError, "-2 is negative"),
        (np.zeros((2, 2), dtype=np.int64), ValueError, "1-d"),
        (np.array([1.5, 2.0]), TypeError, "integer"),
        (np.array([2**63], dtype=np.uint64), ValueError, "int64"),
        ({1, 2}, TypeError, "got set"),  # was ValueError "got 0 dimensions"
        (None, TypeError, "got NoneType"),
    ],
)
def test_bad_ids_refused_at_construction(bad, error, words):
    with pytest.raises(error, match=words):
        vidx.IdSet(bad)


def test_empty_id_set_allows_nothing(data):
    x, q = data
    idx = vidx.Index(DIM, seed=3)
    idx.add(x)
    D, I = idx.search(q[:3], K, filter=vidx.IdSet([]))
    assert (I == -1).all() and np.isinf(D).all()


def test_its_ids_cannot_be_made_writeable():
    # setflags(write=False) can be undone; a search trusts an IdSet's ids to stay sorted and >= 0
    # (a mutated sparse set made a flat search read outside the index).
    for s in (vidx.IdSet([1, 2, 3, 2**40]), vidx.IdSet(range(100))):
        a = np.asarray(s)
        with pytest.raises(ValueError):
            a.setflags(write=True)
        with pytest.raises(ValueError):
            a[0] = -5


@pytest.mark.parametrize("ids", [np.arange(0, 300_000, 3), np.random.default_rng(5).integers(0, 10**6, 50_000),
                                 np.array([63, 64, 0, 0, 127, 128, 5]), np.array([9])])
def test_the_bitset_holds_exactly_the_ids(ids):
    # Built from sums of each word's bits (distinct ids: their sum is their OR), not from a byte
    # per id of the range.
    s = vidx.IdSet(ids)
    unique = np.unique(ids)
    np.testing.assert_array_equal(np.asarray(s), unique)
    flags = np.zeros(len(s._bits) * 64, bool)
    flags[unique] = True
    np.testing.assert_array_equal(s._bits, np.packbits(flags, bitorder="little").view("<u8").astype(np.uint64))

