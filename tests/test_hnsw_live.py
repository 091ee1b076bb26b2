"""HNSW as a living index (issue 10): removal with neighbourhood repair, slot reuse, compaction,
decode, concurrent writers.

Two layers. The structure's hooks are driven from C++ (cpp/tests/hnsw_live_check.cpp and the
living stress of cpp/tests/stress_concurrent.cpp, built here against the C++ library): they
run whatever state the base is in. The public Python API (remove / add into freed slots /
compact / get) is tested on top; those tests skip while the base's remove() still refuses."""
import os
import re
import shutil
import subprocess

import numpy as np
import pytest

import vidx

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir))


def _library():
    """(include dir, libvidx_core.a) of the vidx imported here: installed, or this checkout's build."""
    package = os.path.dirname(vidx.__file__)
    installed = os.path.join(package, "cpp", "lib", "libvidx_core.a")
    if os.path.exists(installed):
        return os.path.join(package, "cpp", "include"), installed
    for build in ("build/dev", "build/release", "build"):
        lib = os.path.join(ROOT, build, "libvidx_core.a")
        if os.path.exists(lib):
            return os.path.join(ROOT, "cpp", "include"), lib
    pytest.skip("no libvidx_core.a found (neither installed with vidx nor in build/dev)")


def _compile(tmp_path_factory, source):
    if shutil.which("g++") is None:
        pytest.skip("g++ is not installed")
    include, lib = _library()
    exe = tmp_path_factory.mktemp("hnsw_live") / os.path.splitext(source)[0]
    cmd = ["g++", "-std=c++17", "-O1", "-I", include, "-I", os.path.join(ROOT, "cpp", "tests"),
           os.path.join(ROOT, "cpp", "tests", source), lib, "-lpthread", "-o", str(exe)]
    out = subprocess.run(cmd, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    return exe


@pytest.fixture(scope="module")
def check_output(tmp_path_factory):
    exe = _compile(tmp_path_factory, "hnsw_live_check.cpp")
    out = subprocess.run([str(exe)], capture_output=True, text=True, timeout=300)
    return out.returncode, out.stdout + out.stderr


def _figure(output, name):
    m = re.search(rf"^{name} ([0-9.]+)", output, re.M)
    assert m, f"{name} missing from:\n{output}"
    return float(m.group(1))


def test_hooks_check_passes(check_output):
    code, output = check_output
    assert code == 0 and output.rstrip().endswith("ok"), output


def test_remove_half_keeps_recall_of_fresh_build(check_output):
    _, output = check_output
    assert _figure(output, "removed_returned") == 0
    assert _figure(output, "recall_after_remove") >= _figure(output, "recall_fresh_survivors") - 0.01
    assert _figure(output, "recall_readded") >= _figure(output, "recall_fresh_all") - 0.01
    assert _figure(output, "recall_lvq_after_remove") >= _figure(output, "recall_lvq_fresh") - 0.02


def test_compact_returns_memory(check_output):
    _, output = check_output
    assert _figure(output, "memory_compacted_over_fresh") <= 1.10
    assert _figure(output, "recall_compacted") >= _figure(output, "recall_fresh_survivors") - 0.01


def test_concurrent_writers_and_searches(tmp_path_factory):
    exe = _compile(tmp_path_factory, "stress_concurrent.cpp")
    out = subprocess.run([str(exe), "2", str(tmp_path_factory.mktemp("stress")), "living"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    # flat writes run beside searches too; hnsw/f32_split is HNSW's default codec
    for kind in ("hnsw/none", "hnsw/f32_split", "flat/none", "flat/lvq8"):
        m = re.search(kind + r": (\d+) searches, (\d+) removed, (\d+) added, 0 failures", out.stdout)
        assert m and all(int(g) > 0 for g in m.groups()), out.stdout


def test_adds_stopped_beside_removes_and_other_adds(tmp_path_factory):
    # A remove that took out the entry point could move it onto a row of an add that was then
    # stopped: later searches started from an empty slot, a save did not load, compact() read
    # past its arrays (cpp/tests/stress_concurrent.cpp, "stopped").
    exe = _compile(tmp_path_factory, "stress_concurrent.cpp")
    out = subprocess.run([str(exe), "1", str(tmp_path_factory.mktemp("stopped")), "stopped"],
                         capture_output=True, text=True, timeout=240)
    assert out.returncode == 0 and out.stdout.rstrip().endswith("ok"), out.stdout + out.stderr


def test_removed_slots_wait_for_the_search_calls_that_could_name_them(tmp_path_factory):
    # RetiredSlots step by step (cpp/tests/retired_slots_check.cpp); test_living.py races it.
    exe = _compile(tmp_path_factory, "retired_slots_check.cpp")
    out = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.rstrip().endswith("ok"), out.stdout + out.stderr


def test_the_cpp_api_refuses_null_pointers(tmp_path_factory):
    exe = _compile(tmp_path_factory, "null_inputs.cpp")
    out = subprocess.run([str(exe), str(tmp_path_factory.mktemp("null"))], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.rstrip().endswith("ok"), out.stdout + out.stderr


# ---- the public API (needs the base's remove/compact/get: skips while they refuse) ----

def _clustered(n, dim, seed):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 1.5, (50, dim)).astype(np.float32)
    return (centres[rng.integers(0, 50, n)] + rng.normal(0, 1, (n, dim))).astype(np.float32)


def _recall(found, truth):
    return np.mean([len(set(a) & set(b)) / len(b) for a, b in zip(found, truth)])


def _exact(X, ids, Q, k=10):
    d = ((Q[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    return ids[np.argsort(d, axis=1)[:, :k]]


def _living_index(X, ids):
    idx = vidx.Index(X.shape[1], metric="l2", M=12, ef_construction=64, threads=2)
    idx.add(X, ids)
    try:
        idx.remove(ids[:1])
    except (AttributeError, ValueError, NotImplementedError) as e:
        if "not supported" in str(e) or isinstance(e, AttributeError):
            pytest.skip(f"the base's remove() has not landed: {e}")
        raise
    idx.add(X[:1], ids[:1])
    return idx


def test_python_remove_readd_compact_get():
    X = _clustered(3000, 24, 1)
    Q = _clustered(100, 24, 1)[-100:] + np.float32(0.1)
    ids = np.arange(10_000, 13_000, dtype=np.int64)
    idx = _living_index(X, ids)
    rng = np.random.default_rng(2)
    gone = rng.permutation(len(ids))[:1500]
    keep = np.setdiff1d(np.arange(len(ids)), gone)
    assert idx.remove(ids[gone]) == len(gone)
    _, I = idx.search(Q, 10, ef=16)
    assert not np.isin(I, ids[gone]).any()
    assert not any(int(i) in idx for i in ids[gone[:20]])
    fresh = vidx.Index(24, metric="l2", M=12, ef_construction=64, threads=2)
    fresh.add(X[keep], ids[keep])
    truth = _exact(X[keep], ids[keep], Q)
    assert _recall(idx.search(Q, 10, ef=16)[1], truth) >= _recall(fresh.search(Q, 10, ef=16)[1], truth) - 0.01
    V, exact = idx.get(ids[keep[:5]])
    assert exact and np.array_equal(V, X[keep[:5]])
    idx.compact()
    assert idx.memory_usage() <= 1.10 * fresh.memory_usage()
    assert sorted(idx.ids()) == sorted(ids[keep])
    idx.add(X[gone], ids[gone])  # into freed slots (or appended after compaction)
    truth_all = _exact(X, ids, Q)
    assert _recall(idx.search(Q, 10, ef=32)[1], truth_all) >= 0.95


def _skewed_clusters(n, dim, seed):
    """Rows around 50 centres of Zipf-skewed sizes (like word vectors: a few dense regions, many
    sparse ones), where a removal's repair from the old neighbourhood alone falls short."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 1.5, (50, dim)).astype(np.float32)
    weight = rng.zipf(1.5, 50).astype(float)
    return (centres[rng.choice(50, n, p=weight / weight.sum())] + rng.normal(0, 1, (n, dim))).astype(np.float32)


def _removed_half(X, threads, calls=1):
    n = len(X)
    ids = np.arange(n, dtype=np.int64)
    idx = vidx.Index(X.shape[1], metric="l2", M=8, ef_construction=64, threads=threads, seed=1)
    idx.add(X, ids)
    gone = np.random.default_rng(2).permutation(n)[: n // 2]
    for part in np.array_split(gone, calls):
        idx.remove(part)
    return idx, np.setdiff1d(ids, gone)


@pytest.mark.parametrize("calls", [1, 10])
def test_remove_half_of_skewed_clusters_matches_fresh_build(calls):
    # Repairing each list from its old neighbourhood alone left this graph below a fresh build
    # at ef 10 by 0.10 (one call) and 0.03 (ten calls); the refine's beam search around each
    # node brings it level, and in ten calls the losses that add up trigger it too.
    # Compared as a mean over three data sets: one set's difference moves by +-0.02 from set to
    # set (measured from -0.019 to +0.029 at ef 10), more than the margin this checks.
    differences = {10: [], 16: [], 32: []}
    for seed in (1, 2, 3):
        X = _skewed_clusters(5200, 32, seed)
        Q, X = X[5000:], X[:5000]
        idx, keep = _removed_half(X, threads=2, calls=calls)
        fresh = vidx.Index(32, metric="l2", M=8, ef_construction=64, threads=2, seed=1)
        fresh.add(X[keep], keep)
        truth = _exact(X[keep], keep, Q)
        after = {ef: _recall(idx.search(Q, 10, ef=ef)[1], truth) for ef in differences}
        for ef, recall in after.items():
            differences[ef].append(recall - _recall(fresh.search(Q, 10, ef=ef)[1], truth))
        idx.compact()  # renumbers the same graph: the same answers
        assert {ef: _recall(idx.search(Q, 10, ef=ef)[1], truth) for ef in after} == after
    for ef, d in differences.items():
        assert np.mean(d) >= -0.01, (ef, d)


def test_remove_repair_is_deterministic_across_thread_counts():
    X = _skewed_clusters(3000, 16, 3)
    one, _ = _removed_half(X, threads=1)
    two, _ = _removed_half(X, threads=2)
    Q = X[:200] + np.float32(0.05)
    assert np.array_equal(one.search(Q, 10, ef=16)[1], two.search(Q, 10, ef=16)[1])
