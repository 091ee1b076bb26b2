"""Indexes made before fork() work in the child (multiprocessing's default start method on Linux):
the child has none of the parent's threads, and searches there waited for them forever; nor
does a fork copy an index lock another thread held (vidx/common/fork_gate.hpp)."""
import multiprocessing
import os
import pickle
import signal
import threading
import time

import numpy as np
import pytest

import vidx

from conftest import run_in_threads

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork() on this platform")

DIM = 16
ROWS = np.random.default_rng(0).standard_normal((3000, DIM)).astype(np.float32)
INDEXES = {}


def _in_child(kind):
    index = INDEXES[kind]
    found = index.search(ROWS[:64], k=5)[1][:, 0]
    if kind != "spann":  # writes in the child too (its own copy)
        index.add(ROWS[:500] + 10.0)
    del INDEXES[kind]  # the index and its threads go away in the child
    return kind, float(np.mean(found == np.arange(64)))


def test_indexes_made_before_fork_search_in_the_child(tmp_path):
    for kind in ("hnsw", "flat", "spann"):
        options = {"path": str(tmp_path / "p.post")} if kind == "spann" else {}
        INDEXES[kind] = vidx.Index(DIM, kind=kind, threads=2, **options)
        INDEXES[kind].add(ROWS, progress=False)
    try:
        with multiprocessing.get_context("fork").Pool(2) as pool:
            results = pool.map_async(_in_child, ["hnsw", "flat", "spann"]).get(timeout=120)
        assert dict(results) == {"hnsw": 1.0, "flat": 1.0, "spann": 1.0}
        assert np.array_equal(INDEXES["hnsw"].search(ROWS[:10], k=1)[1][:, 0], np.arange(10))  # the parent's too
    finally:
        INDEXES.clear()


def _write_in_child(_):
    index = INDEXES["written"]
    found = index.search(ROWS[:16], k=1)[1][:, 0]
    try:
        index.add(ROWS[:10] + 10.0, ids=np.arange(100000, 100010))
        return "wrote", found.tolist()
    except OSError as error:
        return str(error), found.tolist()


def test_a_forked_child_does_not_write_its_parents_spann_posting_file(tmp_path):
    # The child shares the parent's open posting file and its lock: both writing it would place
    # lists in the same pages.
    index = vidx.Index(DIM, kind="spann", threads=2, path=str(tmp_path / "p.post"))
    index.add(ROWS, progress=False)
    index.add(ROWS[:20] + 5.0, ids=np.arange(50000, 50020))  # the parent has written: it holds the file
    INDEXES["written"] = index
    try:
        with multiprocessing.get_context("fork").Pool(1) as pool:
            message, found = pool.map_async(_write_in_child, [0]).get(timeout=120)[0]
        assert "forked" in message and found == list(range(16))
        index.add(ROWS[:20] + 7.0, ids=np.arange(60000, 60020))  # the parent still writes
        assert len(index) == len(ROWS) + 40
    finally:
        INDEXES.clear()


def _save_in_child(path):
    try:
        INDEXES["written"].save(path)
        return "saved"
    except OSError as error:
        return str(error)


def test_a_forked_child_saves_only_what_its_parent_saved(tmp_path):
    # A child's save of writes the parent had not saved was the newest save, stamped, and named
    # pages the parent went on reusing: once the parent wrote again it failed its checksums.
    index = vidx.Index(DIM, kind="spann", threads=2, path=str(tmp_path / "p.post"))
    index.add(ROWS, progress=False)
    index.add(ROWS[:20] + 5.0, ids=np.arange(50000, 50020))
    index.save(tmp_path / "parent.vidx")
    INDEXES["written"] = index
    try:
        with multiprocessing.get_context("fork").Pool(1) as pool:  # nothing unsaved: the child's save is a copy
            assert pool.apply_async(_save_in_child, [str(tmp_path / "copy.vidx")]).get(timeout=120) == "saved"
        index.add(ROWS[:20] + 7.0, ids=np.arange(60000, 60020))  # unsaved in the parent
        with multiprocessing.get_context("fork").Pool(1) as pool:
            message = pool.apply_async(_save_in_child, [str(tmp_path / "child.vidx")]).get(timeout=120)
        assert "has not saved" in message and not (tmp_path / "child.vidx").exists()
        for rows in range(4):  # the parent writes on, and saves
            index.add(ROWS[:20] + 8.0 + rows, ids=np.arange(70000 + 20 * rows, 70020 + 20 * rows))
        index.save(tmp_path / "parent.vidx")
    finally:
        INDEXES.clear()
    del index
    copy = vidx.load(tmp_path / "copy.vidx")
    assert len(copy) == len(ROWS) + 20
    del copy
    parent = vidx.load(tmp_path / "parent.vidx")
    assert len(parent) == len(ROWS) + 120
    assert (parent.search(ROWS[:20] + 11.0, k=1)[1][:, 0] == np.arange(70060, 70080)).all()


def _forked(work, wait=10):
    """Runs work() in a forked child; returns its exit code, or "hung" after `wait` seconds."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os._exit(work())
        except BaseException:
            os._exit(99)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return "hung"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # Python 3.12+: fork() with threads
def test_a_fork_beside_a_searching_thread_leaves_the_child_every_call(tmp_path):
    # A thread searched while the process forked: the child had that thread's locks held by
    # nobody, and its first add, remove or compact hung forever. The fork now waits until no
    # thread is inside an index call.
    index = vidx.Index(DIM, kind="hnsw", threads=1, M=8)
    index.add(ROWS)
    stop = threading.Event()

    def search():
        while not stop.is_set():
            index.search(ROWS[:200], k=10)

    searcher = threading.Thread(target=search)
    searcher.start()
    try:
        time.sleep(0.1)
        calls = {
            "add": lambda: index.add(ROWS[:10] + 5.0),
            "grow": lambda: index.add(np.random.default_rng(1).standard_normal((6000, DIM)).astype(np.float32)),
            "remove": lambda: index.remove([1, 2, 3]),
            "compact": lambda: (index.remove([4]), index.compact()),
            "save": lambda: index.save(str(tmp_path / "child.vidx")),
        }
        for name, call in calls.items():
            assert _forked(lambda: (call(), 0)[1]) == 0, name
    finally:
        stop.set()
        searcher.join()
    assert len(index) == len(ROWS)  # the parent's index is its own


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_a_fork_that_cannot_wait_refuses_the_copied_index_instead_of_hanging():
    # A thread stays inside an add (its progress report sleeps) past the fork's wait: the child's
    # copy may be half-changed, so its calls raise OSError; an index made in the child works.
    index = vidx.Index(DIM, kind="hnsw", threads=1, M=8)
    index.add(ROWS[:1000])
    reporting, forked = threading.Event(), threading.Event()

    def slow_report(*_):  # holds the add (and its locks) until the fork is done
        reporting.set()
        forked.wait(10)

    adder = threading.Thread(target=lambda: index.add(ROWS[1000:2000], progress=slow_report))
    vidx._core._set_fork_wait(0.2)
    try:
        adder.start()
        assert reporting.wait(10)

        def in_child():
            try:
                index.search(ROWS[:5], k=3)
                return 1
            except OSError as error:
                if "fork" not in str(error):
                    return 2
            fresh = vidx.Index(DIM, kind="hnsw", threads=1)
            fresh.add(ROWS[:100])
            return 0 if fresh.search(ROWS[:5], k=1)[1][:, 0].tolist() == [0, 1, 2, 3, 4] else 3

        assert _forked(in_child) == 0
    finally:
        forked.set()
        vidx._core._set_fork_wait(10.0)
        adder.join()
    assert len(index) == 2000  # the parent's add went on


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_a_fork_beside_a_writing_thread_waits_for_the_whole_write(tmp_path):
    # A concurrent add or remove lets its locks go between its steps; a fork in such a gap
    # copied a write half done, and the child's save, pickle or compact then waited for it
    # forever. A fork now waits for the whole write.
    index = vidx.Index(DIM, kind="hnsw", threads=1, M=8)
    index.add(ROWS)
    stop = threading.Event()

    def churn():
        rng = np.random.default_rng(4)
        next_id = 100_000
        while not stop.is_set():
            fresh = np.arange(next_id, next_id + 20)
            next_id += 20
            index.add(ROWS[rng.integers(0, len(ROWS), 20)], fresh)
            index.remove(fresh)

    writer = threading.Thread(target=churn)
    writer.start()
    try:
        time.sleep(0.1)
        for _ in range(4):
            assert _forked(lambda: (pickle.dumps(index), index.compact(), 0)[2]) == 0
    finally:
        stop.set()
        writer.join()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_forks_from_two_threads_at_once_leave_both_children_working():
    index = vidx.Index(DIM, kind="hnsw", threads=1, M=8)
    index.add(ROWS[:500])
    adder = threading.Thread(target=lambda: index.add(np.random.default_rng(6).standard_normal((6000, DIM)).astype(np.float32)))
    adder.start()
    time.sleep(0.05)

    def in_child():
        fresh = vidx.Index(DIM, kind="flat")
        fresh.add(ROWS[:3])
        return 0 if len(fresh) == 3 else 1

    results = {}
    run_in_threads(lambda name: results.__setitem__(name, _forked(in_child)), [("A",), ("B",)])
    adder.join()
    assert results == {"A": 0, "B": 0}
