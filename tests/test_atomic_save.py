"""A save killed with SIGKILL leaves at most its own temporary file, and the next save or load
of that path removes it; temporary files of live processes are never touched."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import vidx

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="uses SIGKILL")

MARKER = ".vidx-tmp-"

# The child loads an index and saves it to the target in a loop until it is killed.
SAVER = """
import sys, vidx
idx = vidx.load(sys.argv[1])
while True:
    idx.save(sys.argv[2])
"""


def temp_files(folder, name):
    return sorted(f for f in os.listdir(folder) if f.startswith(name + MARKER))


def dead_pid():
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid  # reaped, so no process has it (reuse within the test is very unlikely)


def small_index(n, dim=32, seed=0):
    idx = vidx.Index(dim, kind="flat", metric="l2")
    idx.add(np.random.default_rng(seed).standard_normal((n, dim), dtype=np.float32))
    return idx


def test_killed_saves_leave_no_growing_temp_files(tmp_path):
    target = tmp_path / "index.vidx"
    source = tmp_path / "source.vidx"
    old, new = small_index(500, seed=1), small_index(40_000, seed=2)  # new: ~5 MB, a save takes a while
    old.save(target)
    new.save(source)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    kills = left_behind = 0
    for _ in range(10):
        child = subprocess.Popen([sys.executable, "-c", SAVER, str(source), str(target)], env=env)
        deadline = time.monotonic() + 30
        # Kill it in the middle of a save: as soon as its temporary file exists.
        while not any(str(child.pid) in f for f in temp_files(tmp_path, target.name)):
            assert child.poll() is None, "the saving child exited on its own"
            assert time.monotonic() < deadline, "the child never started saving"
            time.sleep(0.002)
        child.send_signal(signal.SIGKILL)
        child.wait()
        kills += 1
        left_behind += len(temp_files(tmp_path, target.name))
        # The target always holds a whole index: the old one or the new one.
        assert len(vidx.load(target)) in (len(old), len(new))
    assert kills == 10
    assert left_behind > 0, "no kill landed inside a save: the test did not exercise the cleanup"
    # Loading removed the leftovers of every killed child; a save cleans likewise.
    assert temp_files(tmp_path, target.name) == []
    old.save(target)
    assert temp_files(tmp_path, target.name) == []
    assert sorted(os.listdir(tmp_path)) == ["index.vidx", "source.vidx"]


def test_save_removes_only_temp_files_of_dead_writers(tmp_path):
    target = tmp_path / "index.vidx"
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        names = {
            "dead": f"index.vidx{MARKER}{dead_pid()}-00000000deadbeef",
            "live": f"index.vidx{MARKER}{live.pid}-00000000c0ffee00",
            "self": f"index.vidx{MARKER}{os.getpid()}-0123456789abcdef",
            "other target": f"other.vidx{MARKER}{dead_pid()}-00000000deadbeef",
            "not ours": f"index.vidx{MARKER}{dead_pid()}-not-hex-digits!",
        }
        for name in names.values():
            (tmp_path / name).write_bytes(b"partial")
        small_index(100).save(target)
        left = set(os.listdir(tmp_path))
        assert names["dead"] not in left
        assert {names[k] for k in ("live", "self", "other target", "not ours")} <= left
    finally:
        live.kill()
        live.wait()
    # Now that writer is dead too: a load removes its file.
    vidx.load(target)
    assert names["live"] not in set(os.listdir(tmp_path))


@pytest.mark.skipif(sys.platform == "win32", reason="flock marks (POSIX); an open file cannot be deleted on Windows")
def test_a_temp_file_marked_in_use_is_left_even_when_its_writer_looks_dead(tmp_path):
    # From another PID namespace (a second container on the same volume) kill(pid, 0) says a
    # running writer is gone. Writers hold a shared flock on their temporary files, and a
    # clean-up leaves a file so held: the writer here is this test, holding the lock itself.
    import fcntl
    target = tmp_path / "index.vidx"
    name = tmp_path / f"index.vidx{MARKER}{dead_pid()}-00000000deadbeef"
    name.write_bytes(b"partial")
    with open(name, "rb") as held:
        fcntl.flock(held, fcntl.LOCK_SH)
        small_index(100).save(target)
        assert name.exists()  # the pid alone would have had it removed
    small_index(100).save(target)  # released: the writer is gone for good
    assert not name.exists()


def test_failed_save_leaves_no_temp_file(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    (folder / "index.vidx").mkdir()  # a folder where the file should go: the rename fails
    with pytest.raises(OSError):
        small_index(100).save(folder / "index.vidx")
    assert os.listdir(folder) == ["index.vidx"]


def test_spann_posting_file_is_written_through_the_atomic_writer(tmp_path):
    # A killed writer's temporary posting file is removed by the next build; the build leaves none of its own.
    stale = tmp_path / f"p.postings{MARKER}{dead_pid()}-00000000deadbeef"
    stale.write_bytes(b"partial")
    idx = vidx.Index(16, "l2", kind="spann", path=tmp_path / "p.postings", head_ratio=0.1)
    idx.add(np.random.default_rng(0).standard_normal((600, 16), dtype=np.float32), progress=False)
    assert os.listdir(tmp_path) == ["p.postings"]
    assert idx.search(np.zeros((1, 16), dtype=np.float32), 5)[0].shape == (1, 5)  # the file it wrote reads back


def test_save_refuses_what_is_not_a_regular_file(tmp_path):
    # rename() replaced a device node, a pipe or a link by the index (save("/dev/null") as root
    # replaced the system's /dev/null).
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "folder").mkdir()
    idx = small_index(50)
    for name, what in (("pipe", "not a regular file"), ("folder", "a folder")):
        with pytest.raises(OSError, match=what):
            idx.save(tmp_path / name)
    assert sorted(os.listdir(tmp_path)) == ["folder", "pipe"]
    assert os.path.isdir(tmp_path / "folder") and not os.path.isfile(tmp_path / "pipe")


def test_save_through_a_link_writes_the_file_it_names(tmp_path):
    (tmp_path / "v1").mkdir()
    small_index(50).save(tmp_path / "v1" / "index.vidx")
    os.symlink("v1/index.vidx", tmp_path / "latest.vidx")
    small_index(80).save(tmp_path / "latest.vidx")
    assert os.path.islink(tmp_path / "latest.vidx")
    assert len(vidx.load(tmp_path / "v1" / "index.vidx")) == 80
    os.symlink("v2.vidx", tmp_path / "dangling.vidx")  # a link to a file not made yet
    small_index(30).save(tmp_path / "dangling.vidx")
    assert os.path.islink(tmp_path / "dangling.vidx") and len(vidx.load(tmp_path / "v2.vidx")) == 30
    os.symlink("loop2", tmp_path / "loop1")
    os.symlink("loop1", tmp_path / "loop2")
    with pytest.raises(OSError, match="links"):
        small_index(30).save(tmp_path / "loop1")


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits and owners")
def test_a_save_over_a_file_keeps_its_permissions_and_owner(tmp_path):
    # A save replaces the file with a new one: it used to come out with the umask's mode (0644:
    # readable by all) and the saving user as owner, whatever the user had made the old one.
    path = tmp_path / "private.vidx"
    index = vidx.Index(8)
    index.add(np.random.default_rng(0).standard_normal((50, 8)).astype(np.float32), progress=False)
    index.save(path)
    os.chmod(path, 0o600)
    as_root = os.geteuid() == 0
    if as_root:
        os.chown(path, 1000, 1000)
    index.save(path)
    st = os.stat(path)
    assert st.st_mode & 0o7777 == 0o600
    if as_root:
        assert (st.st_uid, st.st_gid) == (1000, 1000)
    fresh = tmp_path / "new.vidx"
    index.save(fresh)  # a new file keeps the umask's mode
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(fresh).st_mode & 0o777 == 0o666 & ~umask
