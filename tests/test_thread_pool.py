"""Every index of a process shares one crew of helper threads (cpp/src/common/thread_pool.cpp):
the C++ check in tests/cpp/thread_pool_check.cpp calls it from many threads, inside its own
calls, across an exception and a fork; the Python tests below check what an index does with it."""
import threading

import numpy as np

import vidx
from conftest import clustered
from cpp_checks import needs_compiler, run_check


@needs_compiler
def test_the_crew_under_concurrent_nested_and_forked_calls(tmp_path):
    out = run_check(tmp_path, "thread_pool_check", library_sources=["common/thread_pool.cpp"])
    assert int(out.split("helpers=")[1]) <= 7


def test_batch_searches_from_several_threads_find_what_one_thread_finds():
    # Batch searches on one index used to take turns on its pool; now they run at once and share
    # the helpers: each must still get exactly the answers of a search made alone.
    x = clustered(4000, 24, seed=5)
    q = x[::7][:400] + 0.01
    for kind in ("hnsw", "flat"):
        idx = vidx.Index(24, kind=kind, threads=3, seed=2)
        idx.add(x)
        alone_D, alone_I = idx.search(q, 10)
        results, errors = [], []

        def searcher():
            try:
                for _ in range(8):
                    results.append(idx.search(q, 10))
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)
        threads = [threading.Thread(target=searcher) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert len(results) == 32
        for D, I in results:
            np.testing.assert_array_equal(I, alone_I)
            np.testing.assert_array_equal(D, alone_D)
