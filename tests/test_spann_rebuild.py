"""SPANN rebuild(): an index built small and grown by adds is re-clustered from its own stored
vectors into a new posting file. A rebuild is the build of the live rows in id order, so with
float32 codes it answers exactly as a fresh index of those rows; files a save or copy names are
never replaced; searches run while it works; a failed rebuild leaves the index as it was."""
import copy
import os
import sys
import threading

import numpy as np
import pytest

from conftest import brute_force, clustered, recall, writes_during_build

import vidx

DIM = 16


def spann(path, metric="l2", **options):
    # Grown by the living add only, so that rebuild() has split lists to replace (adds that
    # double the index are otherwise made by a rebuild: test_spann_growth.py).
    options.setdefault("rebuild_growth", 0)
    options.setdefault("head_ratio", 0.05)
    options.setdefault("seed", 3)
    return vidx.Index(DIM, metric, kind="spann", path=path, **options)


@pytest.fixture(scope="module")
def data():
    return clustered(6000, DIM, n_clusters=60, seed=31), clustered(150, DIM, n_clusters=60, seed=32)


def grown_index(x, path, metric="l2", first=600, batch=900, **options):
    """Built on the first rows, the rest added in batches (ids are row numbers)."""
    index = spann(path, metric, **options)
    index.add(x[:first], progress=False)
    for b in range(first, len(x), batch):
        index.add(x[b:b + batch], ids=np.arange(b, min(b + batch, len(x))))
    return index


def test_a_rebuilt_index_answers_as_a_fresh_build_of_its_rows(data, tmp_path):
    x, q = data
    grown = grown_index(x, tmp_path / "g.post")
    gone = [3, 4000, 5999]
    grown.remove(gone)
    moved = np.array([10, 20])  # upserted: only their new vectors may come back
    new_rows = clustered(2, DIM, n_clusters=2, seed=33)
    grown.upsert(new_rows, moved)
    _, truth = brute_force(x, q, 10, "l2")
    before = recall(grown.search(q, 10, nprobe=8)[1], truth)
    entries_before = grown.stats()["live_splits"]

    path = grown.rebuild(progress=False)

    assert path == str(tmp_path / "g.post")  # never saved: replaced in place
    ids = np.setdiff1d(np.arange(len(x)), gone)
    rows = x[ids].copy()
    rows[np.searchsorted(ids, moved)] = new_rows
    fresh = spann(tmp_path / "f.post")
    fresh.add(rows, ids=ids, progress=False)
    assert grown.heads == fresh.heads
    assert grown.stats()["vectors"] == len(ids) and grown.stats()["live_splits"] == 0
    for nprobe in (2, 8, 32):
        D1, I1 = grown.search(q, 10, nprobe=nprobe)
        D2, I2 = fresh.search(q, 10, nprobe=nprobe)
        np.testing.assert_array_equal(I1, I2)
        np.testing.assert_array_equal(D1, D2)
    assert entries_before > 0  # the grown index did split lists: the rebuild replaced them
    truth_now = brute_force(rows, q, 10, "l2")[1]
    after = recall(grown.search(q, 10, nprobe=8)[1], ids[truth_now])
    assert after >= 0.9 and after >= before - 0.02, (before, after)
    V, exact = grown.get(moved)
    assert exact and np.array_equal(V, new_rows)
    assert all(i not in grown for i in gone)


@pytest.mark.parametrize("first, relearns", [(1000, False), (600, True)])
def test_lossy_codes_are_kept_unless_the_codec_learns_again(data, tmp_path, first, relearns):
    """Encoding a decoded code again rounds it twice, so a rebuild copies lossy codes as stored
    with their codec (it encoded them again before: glove-50 lvq8 grown by adds, then rebuilt,
    recall@10 at nprobe 32 0.9542 -> 0.9381), unless the codec learns again as flat and HNSW
    codecs do: here one that learnt from the build's 600 rows and the index 10x that (600 -> 6,000
    rows; 1,000 -> 6,000 is 6x, under relearning.hpp's 8x)."""
    x, q = data
    index = grown_index(x, tmp_path / "c.post", metric="cosine", quant="lvq8", first=first)
    ids = np.arange(0, len(x), 97)
    V_before, exact = index.get(ids)
    assert not exact
    index.rebuild(progress=False)
    V_after, _ = index.get(ids)
    if relearns:
        # LVQ-8 of an LVQ-8-decoded vector, on the learnt codec's centre: within a step of the grid.
        assert 0 < np.abs(V_after - V_before).max() < 0.02
    else:
        np.testing.assert_array_equal(V_after, V_before)
    _, truth = brute_force(x, q, 10, "cosine")
    assert recall(index.search(q, 10, nprobe=16)[1], truth) >= 0.9
    assert sorted(index.ids()) == list(range(len(x)))
    # A second rebuild keeps the codes the first one made (a learnt codec counts the rows it learnt from).
    index.rebuild(progress=False)
    np.testing.assert_array_equal(index.get(ids)[0], V_after)


def test_a_codec_learnt_far_from_the_rows_added_since_learns_again(tmp_path):
    """A first build far from the rows added since leaves 1-bit codes centred on the wrong place:
    rebuild() learns again where flat and HNSW codecs would (a review's case, 300 rows near +30
    then 6,000 near -30: binary recall@10 0.304 with the codec learnt again, 0.033 kept)."""
    rng = np.random.default_rng(8)
    near = (rng.standard_normal((300, DIM)) + 30).astype(np.float32)
    far = (rng.standard_normal((6000, DIM)) - 30).astype(np.float32)
    q = (rng.standard_normal((100, DIM)) - 30).astype(np.float32)
    index = spann(tmp_path / "b.post", quant="binary")
    index.add(near, progress=False)
    index.add(far, ids=np.arange(300, 6300))
    index.rebuild(progress=False)
    _, truth = brute_force(np.vstack([near, far]), q, 10, "l2")
    found = recall(index.search(q, 10, nprobe=64)[1], truth)
    fresh = spann(tmp_path / "f.post", quant="binary")
    fresh.add(np.vstack([near, far]), progress=False)
    assert found >= 0.8 * recall(fresh.search(q, 10, nprobe=64)[1], truth), found


@pytest.mark.parametrize("metric", ["l2", "ip", "cosine"])
def test_a_rebuild_of_f32_pca_keeps_its_basis_under_every_metric(tmp_path, metric):
    """The kept codec is copied through its parameters; the copy took the codec's own metric,
    which records cosine as inner product, and f32_pca refused its cosine parameters (OSError)."""
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((5000, 128)) * np.linspace(3, 0.1, 128)).astype(np.float32)
    index = vidx.Index(128, metric, kind="spann", path=str(tmp_path / "p.post"), quant="f32_pca",
                       rebuild_growth=0, head_ratio=0.05, seed=3)
    index.add(x[:2500], progress=False)
    index.add(x[2500:], ids=np.arange(2500, 5000))
    ids = np.arange(0, 5000, 50)
    before = index.get(ids)[0]
    index.rebuild(progress=False)
    np.testing.assert_allclose(index.get(ids)[0], before, rtol=1e-5, atol=1e-5)


def test_files_a_save_or_copy_names_are_kept(data, tmp_path):
    x, q = data
    index = grown_index(x, tmp_path / "s.post")
    index.save(tmp_path / "s.vidx")
    D_saved, I_saved = index.search(q, 10, nprobe=8)
    first = index.rebuild(progress=False)
    assert first == str(tmp_path / "s.post.r1")
    assert index.posting_path == first
    # The save still loads from its own file and answers as the state it saved.
    old = vidx.load(tmp_path / "s.vidx")
    assert old.posting_path == str(tmp_path / "s.post")
    D_old, I_old = old.search(q, 10, nprobe=8)
    np.testing.assert_array_equal(I_old, I_saved)
    del old
    # A save after the rebuild names the new file; a copy names it too, so the next rebuild
    # writes another one.
    index.save(tmp_path / "s.vidx")
    again = vidx.load(tmp_path / "s.vidx")
    assert again.posting_path == first
    np.testing.assert_array_equal(again.search(q, 10, nprobe=8)[1], index.search(q, 10, nprobe=8)[1])
    del again
    twin = copy.copy(index)
    second = index.rebuild(progress=False)
    assert second == str(tmp_path / "s.post.r2")
    assert twin.posting_path == first and len(twin.search(q, 10, nprobe=8)[1]) == len(q)
    assert sorted(os.listdir(tmp_path)) == ["s.post", "s.post.r1", "s.post.r2", "s.vidx"]


def test_copies_rebuilding_at_once_claim_different_files(data, tmp_path):
    x, q = data
    index = grown_index(x[:3000], tmp_path / "c.post")
    twins = [index, copy.copy(index), copy.copy(index)]
    paths = [None] * len(twins)

    def rebuild(i):
        paths[i] = twins[i].rebuild(progress=False)

    threads = [threading.Thread(target=rebuild, args=(i,)) for i in range(len(twins))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(paths) == [str(tmp_path / f"c.post.r{i}") for i in (1, 2, 3)]
    expected = twins[0].search(q, 10, nprobe=8)[1]
    for twin in twins[1:]:
        np.testing.assert_array_equal(twin.search(q, 10, nprobe=8)[1], expected)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork() is POSIX's")
def test_a_forked_child_never_replaces_its_parents_file(data, tmp_path):
    x, q = data
    index = grown_index(x[:2000], tmp_path / "f.post")  # never saved: the parent could replace it
    before = index.search(q, 10, nprobe=8)
    pid = os.fork()
    if pid == 0:  # the child rebuilds its copy: into a file of its own
        try:
            ok = index.rebuild(progress=False) == str(tmp_path / "f.post.r1") and len(index) == 2000
        except BaseException:
            ok = False
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0
    np.testing.assert_array_equal(index.search(q, 10, nprobe=8)[1], before[1])
    index.add(x[2000:2100], ids=np.arange(2000, 2100))
    index.save(tmp_path / "f.vidx")
    again = vidx.load(tmp_path / "f.vidx")
    np.testing.assert_array_equal(again.search(q, 10, nprobe=8)[1], index.search(q, 10, nprobe=8)[1])


def test_a_given_path_must_be_new(data, tmp_path):
    x, q = data
    index = grown_index(x[:2000], tmp_path / "a.post")
    before = index.search(q, 10, nprobe=8)
    (tmp_path / "taken.post").write_bytes(b"someone's file")
    for taken in (tmp_path / "taken.post", tmp_path / "a.post", tmp_path):
        with pytest.raises(OSError, match="exists"):
            index.rebuild(taken, progress=False)
    with pytest.raises(OSError):
        index.rebuild(tmp_path / "missing" / "b.post", progress=False)
    assert (tmp_path / "taken.post").read_bytes() == b"someone's file"
    assert index.posting_path == str(tmp_path / "a.post")
    np.testing.assert_array_equal(index.search(q, 10, nprobe=8)[1], before[1])
    assert index.rebuild(tmp_path / "b.post", progress=False) == str(tmp_path / "b.post")
    assert sorted(os.listdir(tmp_path)) == ["a.post", "b.post", "taken.post"]


@pytest.mark.skipif(sys.platform != "linux", reason="other systems refuse names that are not UTF-8")
def test_file_names_that_are_not_utf8(data, tmp_path):
    x, _ = data
    index = grown_index(x[:2000], tmp_path / "u.post")
    made = index.rebuild(os.fsencode(tmp_path) + b"/\xff.post", progress=False)
    assert made == os.fsdecode(os.fsencode(tmp_path) + b"/\xff.post") and index.posting_path == made
    assert os.path.exists(made)
    with pytest.raises(OSError, match="exists"):  # the message names the file as os.fsdecode does
        index.rebuild(made, progress=False)


def test_default_ids_continue_after_the_largest_ever_assigned(data, tmp_path):
    x, _ = data
    index = grown_index(x[:3000], tmp_path / "d.post")
    index.remove([2999, 2998])
    index.rebuild(progress=False)
    index.add(x[:2])
    assert 3000 in index and 3001 in index and 2999 not in index
    index.remove([3000, 3001])
    index.rebuild(progress=False)  # the removed default ids stay used
    index.add(x[:1])
    assert 3002 in index


def test_writes_save_and_load_after_a_rebuild(data, tmp_path):
    x, q = data
    index = grown_index(x[:4000], tmp_path / "w.post")
    index.rebuild(progress=False)
    index.add(x[4000:], ids=np.arange(4000, 6000))
    index.remove([0, 1])
    index.save(tmp_path / "w.vidx")
    loaded = vidx.load(tmp_path / "w.vidx")
    assert len(loaded) == len(x) - 2
    np.testing.assert_array_equal(loaded.search(q, 10, nprobe=8)[1], index.search(q, 10, nprobe=8)[1])


def test_progress_reports_and_a_raising_callback_leaves_the_index_as_it_was(data, tmp_path):
    x, q = data
    index = grown_index(x[:3000], tmp_path / "p.post")
    phases = []
    index.rebuild(tmp_path / "p2.post", progress=lambda phase, done, total: phases.append(phase))
    assert phases[0] == "stored" and "heads" in phases and phases[-1] != "stored"
    before = index.search(q, 10, nprobe=8)

    class Stop(Exception):
        pass

    for stop_at in ("stored", "heads", "write"):
        def stop(phase, done, total):
            if phase == stop_at:
                raise Stop(phase)
        with pytest.raises(Stop):
            index.rebuild(tmp_path / "p3.post", progress=stop)
        assert index.posting_path == str(tmp_path / "p2.post")
        assert sorted(os.listdir(tmp_path)) == ["p.post", "p2.post"], stop_at
    # A callback may not use its own index (it would wait for the writes the rebuild holds),
    # in any phase.
    for phase_used in ("stored", "heads", "write"):
        def use_index(phase, done, total):
            if phase == phase_used:
                index.save(tmp_path / "p.vidx")
        with pytest.raises(ValueError, match=r"its own add\(\) or rebuild\(\)"):
            index.rebuild(progress=use_index)
    assert sorted(os.listdir(tmp_path)) == ["p.post", "p2.post"]
    np.testing.assert_array_equal(index.search(q, 10, nprobe=8)[1], before[1])


def test_searches_run_during_a_rebuild(data, tmp_path):
    x, q = data
    index = grown_index(x, tmp_path / "r.post")
    _, truth = brute_force(x, q, 10, "l2")
    done, seen, errors = threading.Event(), [], []

    def search_loop():
        while not done.is_set():
            try:
                seen.append(recall(index.search(q, 10, nprobe=8)[1], truth))
            except Exception as e:  # pragma: no cover - reported below
                errors.append(e)
                return

    t = threading.Thread(target=search_loop)
    t.start()
    index.rebuild(progress=False)
    done.set()
    t.join()
    assert not errors and seen and min(seen) >= 0.85, (errors, seen[:3])


def test_writes_go_on_while_a_rebuild_builds(data, tmp_path):
    x, q = data
    index = grown_index(x[:5000], tmp_path / "w.post")
    new_rows = clustered(3, DIM, n_clusters=3, seed=41)

    def writes(ix):
        ix.add(x[5000:], ids=np.arange(5000, len(x)))
        ix.remove([0, 1, 5001])
        ix.upsert(new_rows[:1], [7])
        ix.add(new_rows[1:])  # default ids: after the largest ever assigned

    outcome, errors = writes_during_build(lambda report: index.rebuild(progress=report), lambda: writes(index))
    assert not errors and outcome == str(tmp_path / "w.post"), (outcome, errors)
    expected = sorted(set(range(len(x))) - {0, 1, 5001} | {len(x), len(x) + 1})
    assert sorted(index.ids()) == expected and len(index) == len(expected)
    V, _ = index.get([7, len(x), len(x) + 1])
    np.testing.assert_array_equal(V, new_rows)
    D, I = index.search(x[5002:5100], 1, nprobe=8)  # rows added during the build find themselves
    assert np.mean(I[:, 0] == np.arange(5002, 5100)) >= 0.98
    index.add(x[:1])
    assert len(x) + 2 in index
    index.save(tmp_path / "w.vidx")
    again = vidx.load(tmp_path / "w.vidx")
    np.testing.assert_array_equal(again.search(q, 10, nprobe=8)[1], index.search(q, 10, nprobe=8)[1])


def test_a_save_while_it_builds_keeps_the_file_it_names(data, tmp_path):
    x, q = data
    index = grown_index(x[:3000], tmp_path / "n.post")  # never saved: would be replaced in place
    saved = {}

    def writes(ix):
        ix.add(x[3000:3100], ids=np.arange(3000, 3100))
        ix.save(tmp_path / "n.vidx")
        saved["ids"] = ix.search(q, 10, nprobe=8)[1]

    outcome, errors = writes_during_build(lambda report: index.rebuild(progress=report), lambda: writes(index))
    assert not errors and outcome == str(tmp_path / "n.post.r1"), (outcome, errors)
    old = vidx.load(tmp_path / "n.vidx")
    assert old.posting_path == str(tmp_path / "n.post")
    np.testing.assert_array_equal(old.search(q, 10, nprobe=8)[1], saved["ids"])
    assert len(index) == 3100


def test_a_rebuild_stopped_after_writes_keeps_them(data, tmp_path):
    x, q = data
    index = grown_index(x[:3000], tmp_path / "s.post")

    def writes(ix):
        ix.add(x[3000:3200], ids=np.arange(3000, 3200))
        ix.remove([5])
        with pytest.raises(ValueError, match="being rebuilt already"):
            ix.rebuild(progress=False)

    outcome, errors = writes_during_build(lambda report: index.rebuild(progress=report), lambda: writes(index),
                                          fail_in="write")
    assert isinstance(outcome, KeyboardInterrupt) and not errors, (outcome, errors)
    assert index.posting_path == str(tmp_path / "s.post") and len(index) == 3199 and 5 not in index
    assert sorted(os.listdir(tmp_path)) == ["s.post"]
    D, I = index.search(x[3000:3100], 1, nprobe=8)
    assert np.mean(I[:, 0] == np.arange(3000, 3100)) >= 0.98
    index.rebuild(progress=False)  # and a later one goes through
    assert len(index) == 3199


def test_bad_calls(tmp_path):
    with pytest.raises(ValueError, match="spann"):
        vidx.Index(DIM, kind="hnsw").rebuild()
    empty = spann(tmp_path / "e.post")
    with pytest.raises(ValueError, match="empty"):
        empty.rebuild()
    x = clustered(400, DIM, n_clusters=4, seed=5)
    index = spann(tmp_path / "e.post")
    index.add(x, progress=False)
    index.remove(np.arange(400))
    with pytest.raises(ValueError, match="no vectors"):
        index.rebuild()
    with pytest.raises(TypeError):
        index.rebuild(3.5)
    with pytest.raises(ValueError, match="NUL"):
        index.rebuild("a\0b")


KILLED_REBUILD = """
import os, sys
import vidx
index = vidx.load(sys.argv[1])
phase_to_die_in, target = sys.argv[2], (sys.argv[3] or None)

def die(phase, done, total):
    if phase == phase_to_die_in and done > 0:
        os._exit(9)  # as a kill -9 would: no unwinding, no clean-up

index.rebuild(target, progress=die)
sys.exit(3)  # not reached
"""


@pytest.mark.parametrize("phase", ["stored", "write"])
def test_a_killed_rebuild_leaves_nothing_the_next_rebuild_keeps(data, tmp_path, phase):
    # A killed rebuild used to leave its claimed "<file>.r1", half written, and its temporary
    # rows file for good: nothing named them, and no later call looked for them.
    import subprocess
    x, q = data
    index = grown_index(x[:3000], tmp_path / "k.post")
    index.save(tmp_path / "k.vidx")
    expected = index.search(q, 10, nprobe=8)[1]
    other = tmp_path / "elsewhere"
    other.mkdir()
    saved = sorted(os.listdir(tmp_path))
    for target in ("", str(other / "given.post")):
        run = subprocess.run([sys.executable, "-c", KILLED_REBUILD, str(tmp_path / "k.vidx"), phase, target],
                             env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}, capture_output=True)
        assert run.returncode == 9, run.stderr.decode()
        left = set(os.listdir(tmp_path)) - set(saved) | set(os.listdir(other))
        assert left and all(".vidx-tmp-" in name for name in left), left  # only temporaries, no claimed name
    # A load leaves them (another PID namespace could not tell a running rebuild's from a dead
    # one's); the next rebuild of the index removes them.
    again = vidx.load(tmp_path / "k.vidx")
    np.testing.assert_array_equal(again.search(q, 10, nprobe=8)[1], expected)
    assert again.rebuild(progress=False) == str(tmp_path / "k.post.r1")  # the first name is free
    assert sorted(os.listdir(tmp_path)) == sorted(saved + ["k.post.r1"])
    # The given path is free too, and a rebuild into it clears what the killed one left there.
    twin = vidx.load(tmp_path / "k.vidx")
    assert twin.rebuild(other / "given.post", progress=False) == str(other / "given.post")
    assert os.listdir(other) == ["given.post"]
    np.testing.assert_array_equal(twin.search(q, 10, nprobe=8)[1], again.search(q, 10, nprobe=8)[1])


def test_a_shard_rebuild_deletes_only_its_own_old_posting_file(tmp_path):
    # Two sharded indexes given one path (a script run twice): the second's build replaced the
    # first's shard file, whose rebuild then went beside it, and the shard worker deleted the
    # file it had left: the second index's, with every row it held.
    pytest.importorskip("ray")  # vidx.distributed needs Ray (the "ray" extra)
    from vidx.distributed._shard import ShardWorker
    rng = np.random.default_rng(0)
    first = ShardWorker(0, 8, "l2", "spann", {"path": str(tmp_path / "postings.bin")})
    first.add(rng.standard_normal((2000, 8)).astype(np.float32), np.arange(2000))
    second = ShardWorker(0, 8, "l2", "spann", {"path": str(tmp_path / "postings.bin")})
    x = rng.standard_normal((3000, 8)).astype(np.float32)
    second.add(x, np.arange(3000))
    assert first.rebuild() != second.index.posting_path
    assert os.path.exists(second.index.posting_path)
    second.add(x[:10] + 1.0, np.arange(3000, 3010))
    entry = second.save(str(tmp_path / "second.vidx"))
    assert entry["rows"] == 3010
    # A shard's own rebuild still deletes the file it leaves (saves name copies of it).
    again = second.rebuild()
    assert again != entry["file"] and not os.path.exists(str(tmp_path / "postings.shard0.bin"))
