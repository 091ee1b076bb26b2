import threading

import numpy as np
import pytest

import vidx


def clustered(n, dim, n_clusters=32, seed=0, spread=0.15):
    """Gaussian blobs: realistic neighbourhood structure, cheap to make."""
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((n_clusters, dim)).astype(np.float32)
    labels = rng.integers(0, n_clusters, n)
    x = centers[labels] + spread * rng.standard_normal((n, dim)).astype(np.float32)
    return x.astype(np.float32)


def brute_force(x, q, k, metric):
    """Exact neighbours in float64 (the reference for recall)."""
    x64 = x.astype(np.float64)
    q64 = np.atleast_2d(q).astype(np.float64)
    if metric == "l2":
        d = (q64 ** 2).sum(1)[:, None] - 2 * q64 @ x64.T + (x64 ** 2).sum(1)[None, :]
    elif metric == "ip":
        d = 1 - q64 @ x64.T
    else:
        xn = x64 / np.maximum(np.linalg.norm(x64, axis=1, keepdims=True), 1e-30)
        qn = q64 / np.maximum(np.linalg.norm(q64, axis=1, keepdims=True), 1e-30)
        d = 1 - qn @ xn.T
    ids = np.argsort(d, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(d, ids, 1), ids


def recall(found, truth):
    k = truth.shape[1]
    return float(np.mean([len(set(f[:k]) & set(t)) / k for f, t in zip(found, truth)]))


@pytest.fixture(scope="session")
def blobs():
    """6000 data vectors and 200 held-out queries drawn from the same 32 clusters."""
    both = clustered(6200, 24, seed=1)
    return both[:6000], both[6000:]


def built_recall(x, q, metric, search, k=10, **index_args):
    """Recall@k, against brute force, of an index over x built with index_args and searched
    with the settings in `search` (ef, rerank...)."""
    _, truth = brute_force(x, q, k, metric)
    idx = vidx.Index(x.shape[1], metric=metric, **index_args)
    idx.add(x)
    return recall(idx.search(q, k, **search)[1], truth)


def assert_loaded_alike(idx, loaded, q, k, efs):
    """A loaded index has the saved one's parameters (but its own thread count) and answers
    every query as it does, ids and distances to the bit, at each beam width."""
    assert loaded.params == {**idx.params, "threads": loaded.params["threads"]}
    for ef in efs:
        D1, I1 = idx.search(q, k, ef=ef)
        D2, I2 = loaded.search(q, k, ef=ef)
        np.testing.assert_array_equal(I1, I2)
        np.testing.assert_array_equal(D1, D2)


@pytest.fixture(scope="module")
def wide_blobs():
    """3000 40-d vectors and 200 held-out queries from 32 wide clusters (the codec tests' data)."""
    both = clustered(3200, 40, seed=2, spread=0.5)
    return both[:3000], both[3000:]


def run_in_threads(target, args_per_thread, timeout=120):
    """Starts one thread per argument tuple, all at once, and joins them; fails if one hangs."""
    threads = [threading.Thread(target=target, args=args) for args in args_per_thread]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    assert not any(t.is_alive() for t in threads), "a thread did not finish"


def check_probe_distances(ref, got, key, stored, q, metric):
    """A codec probe's distances (result `key`, and "between" the first stored vector and each)
    at the scalar level (`ref`) and another (`got`), against float64 sums over `stored`, the
    values the kernels read: each within float32 rounding of them, and of each other."""
    xd, q64 = stored.astype(np.float64), q.astype(np.float64)
    want = ((q64[:, None] - xd[None]) ** 2).sum(-1) if metric == "l2" else 1 - q64 @ xd.T
    between = ((xd[:1] - xd) ** 2).sum(-1) if metric == "l2" else 1 - xd[0] @ xd.T
    scale = np.abs(q64) @ np.abs(xd).T + np.abs(want) + 1
    for r in (ref, got):
        assert np.all(np.abs(r[key] - want) <= 1e-5 * scale)
        np.testing.assert_allclose(r["between"], between, rtol=1e-5, atol=1e-5 * (xd ** 2).sum(1).max())
    np.testing.assert_allclose(got[key], ref[key], rtol=1e-5, atol=1e-5 * scale.max())


def check_bounded_probe(probe, key, level, x, q):
    """probe(metric, level, x, q[, bound]) with a bound at the median L2 distance: exact below
    it, at least the bound above it."""
    full = probe("l2", level, x, q)[key]
    bound = float(np.median(full))
    r = probe("l2", level, x, q, bound)
    below = full < bound
    np.testing.assert_array_equal(r["bounded"][below], full[below])  # exact below the bound
    assert np.all(r["bounded"][~below] >= bound)


def writes_during_build(build, writes, fail_in=None):
    """Calls build(progress) (a SPANN rebuild, or an add made by one) while another thread calls
    writes() during the build's "heads" phase: the build waits in its report until they are done,
    so they must not wait for it. fail_in: a later phase whose report raises KeyboardInterrupt.
    Returns (what build returned or the exception it raised, the errors seen)."""
    go, done, errors = threading.Event(), threading.Event(), []

    def writer():
        go.wait()
        try:
            writes()
        except Exception as e:  # reported to the caller
            errors.append(e)
        done.set()

    def report(phase, _done, _total):
        if phase == "heads" and not go.is_set():
            go.set()
            if not done.wait(60):
                errors.append("the writes waited for the build")
        if phase == fail_in:
            raise KeyboardInterrupt

    t = threading.Thread(target=writer)
    t.start()
    try:
        outcome = build(report)
    except (KeyboardInterrupt, Exception) as e:
        outcome = e
    t.join()
    return outcome, errors


def hnsw_graph(idx):
    """Every level's lists, the entry point and the levels, read from the index's bytes (HNSW
    section: count, M, M0, entry; LVLS: a byte a slot; LNK0: 1 + M0 words a slot, the count first;
    LNKU: 1 + M words for each of a slot's upper levels, slot by slot)."""
    import struct
    from test_corruption import section_bytes
    data = idx.to_bytes()
    header = section_bytes(data, b"HNSW")
    count, m, m0 = struct.unpack_from("<QQQ", header)
    entry, _ = struct.unpack_from("<II", header, 24)
    level0 = np.frombuffer(section_bytes(data, b"LNK0"), dtype=np.uint32).reshape(count, -1)
    assert level0.shape[1] >= m0 + 1
    levels = np.frombuffer(section_bytes(data, b"LVLS"), dtype=np.uint8)
    upper_words = np.frombuffer(section_bytes(data, b"LNKU"), dtype=np.uint32)
    upper, offset = {}, 0
    for slot in range(count):
        for level in range(1, levels[slot] + 1):
            words = upper_words[offset:offset + m + 1]
            offset += m + 1
            upper[(level, slot)] = words[1:1 + words[0]]
    return dict(count=count, M=m, entry=entry, levels=levels, upper=upper,
                l0=[level0[s, 1:1 + level0[s, 0]] for s in range(count)])


def reachable_slots(graph):
    """Slots reachable from the entry point along the links of every level."""
    out = {}
    for slot, linked in enumerate(graph["l0"]):
        out.setdefault(slot, []).extend(linked.tolist())
    for (_, slot), linked in graph["upper"].items():
        out.setdefault(slot, []).extend(linked.tolist())
    seen, stack = {graph["entry"]}, [graph["entry"]]
    while stack:
        for v in out.get(stack.pop(), ()):
            if v not in seen:
                seen.add(v)
                stack.append(v)
    return seen
