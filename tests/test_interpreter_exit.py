"""A script that ends while daemon threads are inside vidx calls exits normally (cpp/bindings/gil.hpp).

Before, a daemon thread coming back from a call after Python's finalisation had begun took the GIL
back, CPython ended the thread with pthread_exit, and its unwind through the GIL guard aborted the
whole process ("terminate called without an active exception", exit status 134). Now such a thread
sleeps for good where CPython ends it, as CPython 3.14 does itself."""
import os
import subprocess
import sys
import textwrap

import pytest

PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__import__("vidx").__file__)))

# Daemon threads searching (one query and batches), adding with a progress callback and removing
# when the main thread ends; an atexit handler searches the same index on the exiting thread.
SCRIPT = textwrap.dedent(
    """
    import atexit, sys, tempfile, threading, time
    import numpy as np

    shared = {}

    def search_at_exit():
        found = shared["index"].search(np.zeros((3, 16), np.float32), k=5)[1]
        print("atexit search", found.shape, flush=True)

    atexit.register(search_at_exit)
    import vidx

    kind = sys.argv[1]
    options = {"path": tempfile.mkdtemp() + "/p.post"} if kind == "spann" else {}
    rows = np.random.default_rng(0).standard_normal((12000, 16)).astype(np.float32)
    index = vidx.Index(16, kind=kind, **options)
    index.add(rows[:6000], progress=False)
    shared["index"] = index
    started = threading.Barrier(5)

    def search(n):
        started.wait()
        while True:
            index.search(rows[:n], k=10)

    def add():
        started.wait()
        for i in range(10**6):
            index.add(rows[6000:8000], ids=np.arange(10**6 + 2000 * i, 10**6 + 2000 * (i + 1)),
                      progress=lambda *report: time.sleep(0.01))

    def remove():
        started.wait()
        for i in range(10**6):
            index.remove(np.arange(3 * i, 3 * i + 3))

    for target, args in [(search, (1,)), (search, (2000,)), (add, ()), (remove, ())]:
        threading.Thread(target=target, args=args, daemon=True).start()
    started.wait()
    time.sleep(float(sys.argv[2]))
    print("main ends", flush=True)
    """
)


@pytest.mark.skipif(sys.version_info >= (3, 14), reason="Python 3.14 parks daemon threads itself")
@pytest.mark.parametrize("kind", ["hnsw", "flat", "spann"])
@pytest.mark.parametrize("delay", [0.05, 0.4])
def test_daemon_threads_inside_calls_at_exit_do_not_abort_the_process(tmp_path, kind, delay):
    script = tmp_path / "ends_with_daemons.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([PACKAGE_ROOT, os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, str(script), kind, str(delay)], capture_output=True, text=True,
                          timeout=120, env=env)
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    assert done.stdout.splitlines() == ["main ends", "atexit search (3, 5)"], done.stdout


# Before finalisation nothing changes: threads returning from vidx calls while atexit handlers
# run go on, so a handler that stops and joins a worker, and multiprocessing's own handler that
# ends a ThreadPool, do not wait forever.
JOINING_SCRIPT = textwrap.dedent(
    """
    import atexit, threading, time
    from multiprocessing.pool import ThreadPool
    import numpy as np

    stop = threading.Event()
    workers = []

    def stop_workers():
        stop.set()
        for worker in workers:
            worker.join()
        print("joined", flush=True)

    atexit.register(stop_workers)
    import vidx

    rows = np.random.default_rng(0).standard_normal((5000, 16)).astype(np.float32)
    index = vidx.Index(16)
    index.add(rows, progress=False)

    def work():
        while not stop.is_set():
            index.search(rows[:500], k=10)

    workers.append(threading.Thread(target=work, daemon=True))
    workers[0].start()
    pool = ThreadPool(3)
    pool.map_async(lambda i: index.search(rows[:300], k=10)[1].shape, range(2000))
    time.sleep(0.3)
    print("main ends", flush=True)
    """
)


@pytest.mark.skipif(sys.version_info >= (3, 14), reason="Python 3.14 parks daemon threads itself")
def test_atexit_handlers_that_join_threads_inside_calls_finish(tmp_path):
    script = tmp_path / "joins_at_exit.py"
    script.write_text(JOINING_SCRIPT)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([PACKAGE_ROOT, os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    assert done.stdout.splitlines() == ["main ends", "joined"], done.stdout
