"""Property-based tests of the public API (hypothesis): random shapes, dtypes, memory orders,
ids, k, ef, metrics, kinds and codecs. Invariants: no crash; a call that fails raises
ValueError/TypeError and changes nothing; results are sorted, hold only known ids, and pad
(-1, +inf) only at the tail; C-ordered, F-ordered and non-contiguous inputs give the same
results."""
import os

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import vidx  # noqa: E402

# VIDX_HYPOTHESIS_EXAMPLES=500 for a deeper (and randomised) search than CI's fixed 40.
EXAMPLES = int(os.environ.get("VIDX_HYPOTHESIS_EXAMPLES", "40"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES == 40,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

QUANTS = ["none", "f16", "f32_split", "f32_sketch", "lvq8", "lvq4x8", "binary", "rabitq"]
DTYPES = [np.float32, np.float64, np.float16, np.int32, np.int8, np.uint8]


def layouts(x):
    """The same matrix as C-ordered, F-ordered and non-contiguous arrays."""
    wide = np.zeros((x.shape[0], 2 * x.shape[1]), x.dtype)
    wide[:, ::2] = x
    return [np.ascontiguousarray(x), np.asfortranarray(x), wide[:, ::2]]


@st.composite
def index_setups(draw):
    dim = draw(st.integers(1, 12))
    n = draw(st.integers(1, 60))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    dtype = draw(st.sampled_from(DTYPES))
    scale = 100 if np.issubdtype(dtype, np.integer) else 1
    x = (rng.standard_normal((n, dim)) * scale).astype(dtype)
    if np.issubdtype(dtype, np.unsignedinteger):
        x = (rng.integers(0, 255, (n, dim))).astype(dtype)
    ids = None
    if draw(st.booleans()):
        ids = rng.choice(2**40, n, replace=False).astype(np.int64)
        if draw(st.booleans()):
            ids[0] = 2**63 - 1
    return dict(dim=dim, x=x, ids=ids,
                metric=draw(st.sampled_from(["l2", "ip", "cosine"])),
                kind=draw(st.sampled_from(["hnsw", "flat"])),
                quant=draw(st.sampled_from(QUANTS)),
                keep_vectors=draw(st.booleans()),
                k=draw(st.integers(1, n + 5)),
                ef=draw(st.one_of(st.none(), st.integers(1, 200), st.just(2**62))),
                q=(rng.standard_normal((draw(st.integers(1, 5)), dim)) * scale).astype(dtype))


def build(s):
    idx = vidx.Index(s["dim"], metric=s["metric"], kind=s["kind"], quant=s["quant"],
                     keep_vectors=s["keep_vectors"], M=4, ef_construction=20, threads=2)
    try:
        idx.add(s["x"], ids=s["ids"])
    except ValueError as e:  # only zero rows under cosine may be refused
        assert s["metric"] == "cosine" and "zero vector" in str(e), e
        assert len(idx) == 0
        return None
    return idx


def check_results(D, I, known, k, nq):
    assert D.shape == I.shape == (nq, k) and D.dtype == np.float32 and I.dtype == np.int64
    for d, i in zip(D, I):
        found = i != -1
        n_found = int(found.sum())
        assert found[:n_found].all(), f"padding before a result: {i}"  # padding only at the tail
        assert np.isinf(d[n_found:]).all() and np.isfinite(d[:n_found]).all()
        assert (np.diff(d[:n_found]) >= 0).all(), f"not sorted: {d}"
        assert set(i[:n_found].tolist()) <= known, "unknown ids"
        assert len(set(i[:n_found].tolist())) == n_found, "repeated ids"


def known_ids(s):
    return set(range(len(s["x"]))) if s["ids"] is None else set(s["ids"].tolist())


@SETTINGS
@given(index_setups())
def test_search_results_keep_their_invariants_for_every_layout(s):
    idx = build(s)
    if idx is None:
        return
    assert len(idx) == len(s["x"])
    results = []
    for q in layouts(s["q"]):
        try:
            D, I = idx.search(q, s["k"], ef=s["ef"])
        except ValueError as e:
            assert "zero vector" in str(e) and s["metric"] == "cosine", e
            return
        check_results(D, I, known_ids(s), s["k"], len(q))
        results.append((D, I))
    for D, I in results[1:]:  # same answer whatever the memory order
        np.testing.assert_array_equal(I, results[0][1])
        np.testing.assert_array_equal(D, results[0][0])
    if s["kind"] == "flat":  # an exhaustive scan fills min(k, n) slots of every row
        assert ((I != -1).sum(axis=1) == min(s["k"], len(s["x"]))).all()


BAD_CALLS = [
    ("nan row", lambda s: ("add", (np.full((1, s["dim"]), np.nan, np.float32),), {}), ValueError),
    # l2/ip refuse values whose squares overflow float32; cosine refuses the zero vector
    ("huge value", lambda s: ("add", (np.full((1, s["dim"]), 0 if s["metric"] == "cosine" else 1e30,
                                              np.float32),), {}), ValueError),
    ("wrong dim", lambda s: ("add", (np.ones((2, s["dim"] + 1), np.float32),), {}), ValueError),
    ("empty", lambda s: ("add", (np.ones((0, s["dim"]), np.float32),), {}), ValueError),
    ("strings", lambda s: ("add", (np.array([["a"] * s["dim"]]),), {}), TypeError),
    ("negative id", lambda s: ("add", (np.ones((1, s["dim"]), np.float32),), {"ids": [-1]}), ValueError),
    ("repeated id", lambda s: ("add", (np.ones((2, s["dim"]), np.float32),), {"ids": [9, 9]}), ValueError),
    ("present id", lambda s: ("add", (np.ones((1, s["dim"]), np.float32),),
                              {"ids": [min(known_ids(s))]}), ValueError),
    ("id count", lambda s: ("add", (np.ones((2, s["dim"]), np.float32),), {"ids": [1]}), ValueError),
    ("float ids", lambda s: ("add", (np.ones((1, s["dim"]), np.float32),), {"ids": [1.5]}), TypeError),
    ("k=0", lambda s: ("search", (s["q"], 0), {}), ValueError),
    ("k huge", lambda s: ("search", (s["q"], 10**12), {}), ValueError),
    ("k float", lambda s: ("search", (s["q"], 2.0), {}), TypeError),
    ("ef=0", lambda s: ("search", (s["q"], 1), {"ef": 0}), ValueError),
    ("ef beyond int64", lambda s: ("search", (s["q"], 1), {"ef": 2**70}), ValueError),
    ("query dim", lambda s: ("search", (np.ones((1, s["dim"] + 2)), 1), {}), ValueError),
    ("query 3-d", lambda s: ("search", (np.ones((1, 1, s["dim"])), 1), {}), ValueError),
    ("query inf", lambda s: ("search", (np.full((1, s["dim"]), np.inf), 1), {}), ValueError),
]


@SETTINGS
@given(index_setups(), st.sampled_from(BAD_CALLS))
def test_a_failed_call_changes_nothing(s, bad):
    idx = build(s)
    if idx is None:
        return
    q = np.ones((1, s["dim"]), np.float32)
    before = (len(idx), idx.search(q, s["k"]))
    name, make, error = bad
    method, args, kwargs = make(s)
    with pytest.raises(error):
        getattr(idx, method)(*args, **kwargs)
    assert len(idx) == before[0], name
    D, I = idx.search(q, s["k"])
    np.testing.assert_array_equal(I, before[1][1])
    np.testing.assert_array_equal(D, before[1][0])


@SETTINGS
@given(index_setups(), st.integers(1, 4))
def test_adding_in_batches_keeps_every_id_findable(s, batches):
    idx = vidx.Index(s["dim"], metric=s["metric"], kind="flat", quant="none")
    x = s["x"].astype(np.float32)
    if s["metric"] == "cosine":
        x[np.linalg.norm(x, axis=1) == 0, 0] = 1  # cosine refuses zero vectors
    ids = np.arange(len(x)) * 7 + 3 if s["ids"] is None else s["ids"]
    for part in np.array_split(np.arange(len(x)), batches):
        if len(part):
            idx.add(x[part], ids=ids[part])
    assert len(idx) == len(x)
    D, I = idx.search(x, 1)
    assert set(I[:, 0].tolist()) <= set(ids.tolist())
    assert np.isfinite(D).all()
    if s["metric"] != "ip":  # every vector finds itself (or a duplicate) at distance ~0
        assert (D[:, 0] <= 1e-4).all(), D[:, 0]
