"""Every index of a process shares one crew of helper threads (cpp/src/common/thread_pool.cpp),
and every SPANN index one crew of posting readers (cpp/src/spann/async_reader.cpp): the C++ check
in tests/cpp/thread_pool_check.cpp calls the helpers from many threads, inside their own calls,
across an exception and a fork; the Python tests below check what indexes do with both."""
import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import vidx
from conftest import clustered
from cpp_checks import needs_compiler, run_check

PYTHON_ENV = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))


def run_python(code, timeout=120):
    """Runs `code` in a fresh interpreter (a crash there cannot take pytest down)."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout, env=PYTHON_ENV)


@needs_compiler
@pytest.mark.skipif(os.name != "posix", reason="the check forks")
def test_the_crew_under_concurrent_nested_and_forked_calls(tmp_path):
    out = run_check(tmp_path, "thread_pool_check", library_sources=["common/thread_pool.cpp", "common/lazy_threads.cpp"])
    assert int(out.split("helpers=")[1]) <= max(7, (os.cpu_count() or 1) - 1)


def test_batch_searches_from_several_threads_find_what_one_thread_finds():
    # Batch searches on one index used to take turns on its pool; now they run at once and share
    # the helpers: each must still get exactly the answers of a search made alone. (A guard for
    # the overlap, which it does not time: it passes on the code before too.)
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


# Prepended to the SPANN scripts below (a fresh interpreter each: thread counts and address-space
# limits are per process): `x` (3,000 x 16 rows), spann(name, **options) -> an added SPANN index,
# threads() -> the process's thread count.
SPANN_PRELUDE = textwrap.dedent("""
    import os, resource, tempfile
    import numpy as np
    import vidx
    x = np.random.default_rng(0).standard_normal((3000, 16)).astype(np.float32)
    folder = tempfile.mkdtemp()
    def spann(name, **options):
        idx = vidx.Index(16, kind="spann", path=os.path.join(folder, name), head_ratio=0.05, seed=1, **options)
        idx.add(x)
        return idx
    def threads():
        return len(os.listdir('/proc/self/task'))
""")


def spann_script(body):
    return SPANN_PRELUDE + textwrap.dedent(body)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc, RLIMIT_AS")
def test_spann_readers_the_system_refuses_are_no_error():
    # A SPANN index started its 16 (io_threads) pread threads when it was made, and one the system
    # refused aborted the process (std::terminate: the started threads were never joined).
    out = run_python(spann_script("""
        alone = spann("alone", io_threads=0)
        vm_kb = next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmSize'))
        limit = vm_kb * 1024 + (256 << 20)  # room for a few dozen thread stacks, not 1,000
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        idx = spann("many", io_threads=1000)
        D, I = idx.search(x[:100], k=10, nprobe=16)
        D0, I0 = alone.search(x[:100], k=10, nprobe=16)
        print("SAME", np.array_equal(I, I0) and np.array_equal(D, D0))
    """))
    assert out.returncode == 0, out.stderr[-2000:]
    assert "SAME True" in out.stdout, out.stdout


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc")
def test_spann_indexes_share_one_crew_of_readers():
    out = run_python(spann_script("""
        before = threads()
        indexes = [vidx.Index(16, kind="spann", path=os.path.join(folder, f"p{i}"), io_threads=16)
                   for i in range(50)]
        print("EMPTY", threads() - before)
        idx = spann("used", threads=1)
        for _ in range(3):
            idx.search(x[:50], k=10, nprobe=32)
        print("USED", threads() - before)
    """))
    assert out.returncode == 0, out.stderr[-2000:]
    assert "EMPTY 0" in out.stdout, out.stdout  # was 850: 16 readers and a helper each
    used = int(out.stdout.split("USED")[1].split()[0])
    assert 1 <= used <= 16, out.stdout


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity") or (os.cpu_count() or 1) < 2,
                    reason="needs sched_setaffinity and two CPUs")
def test_helpers_take_the_main_threads_cpus_not_their_starters():
    # A new thread inherits the CPU mask of the thread that starts it: a thread that pinned itself
    # to one CPU and made the process's first call pinned every helper, for every index, there.
    out = run_python("""
        import os, threading
        import numpy as np
        import vidx
        x = np.random.default_rng(0).standard_normal((20000, 16)).astype(np.float32)
        def pinned_first_call():
            os.sched_setaffinity(0, {0})  # this thread only (Linux: 0 is the calling thread)
            idx = vidx.Index(16, kind="flat", threads=2)
            idx.add(x[:3000])
            idx.search(x[:500], k=5)
        t = threading.Thread(target=pinned_first_call)
        t.start()
        t.join()
        idx = vidx.Index(16, kind="flat", threads=2)
        idx.add(x)
        idx.search(x[:2000], k=5)
        def cpus(tid):
            return next(l.split()[1] for l in open(f"/proc/self/task/{tid}/status") if l.startswith("Cpus_allowed_list"))
        main = cpus(os.getpid())
        print("MAIN", main, "OTHERS", sorted({cpus(t) for t in os.listdir("/proc/self/task")}))
    """)
    assert out.returncode == 0, out.stderr
    main = out.stdout.split("MAIN")[1].split()[0]
    assert out.stdout.strip().endswith(f"OTHERS ['{main}']"), out.stdout
