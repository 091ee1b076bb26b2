"""Progress reports from adds of in-memory rows, and adds stopped by them (or by Ctrl-C).

An HNSW add reports as its insertion batches finish; a report that raises stops the add and
takes its rows out again, so the index answers as if the add had never been called."""
import _thread
import threading

import numpy as np
import pytest

import vidx

DIM = 24


def rows(n, seed=0):
    return np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)


class Stop(Exception):
    pass


def stop_after(share):
    """A progress callback that raises once `share` of the rows are in."""
    def callback(phase, done, total):
        if done >= share * total:
            raise Stop(f"{phase} {done}/{total}")
    return callback


def exact_ids(index_rows, ids, queries, k):
    d = ((queries[:, None, :] - index_rows[None, :, :]) ** 2).sum(-1)
    return ids[np.argsort(d, axis=1)[:, :k]]


def recall(found, truth):
    return np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth)])


@pytest.mark.parametrize("quant", ["f32", "lvq8", "f32_split"])
def test_hnsw_reports_its_batches_up_to_the_whole_add(quant):
    reports = []
    idx = vidx.Index(DIM, kind="hnsw", quant=quant)
    idx.add(rows(6000), progress=lambda *r: reports.append(r))
    assert len(reports) >= 2, "a 6,000-row add reports more than its end"
    assert {phase for phase, _, _ in reports} == {"add"}
    assert all(total == 6000 for _, _, total in reports)
    done = [d for _, d, _ in reports]
    assert done == sorted(done) and done[-1] == 6000


@pytest.mark.parametrize("quant", ["f32", "lvq8"])
def test_a_stopped_add_leaves_the_index_as_it_was(quant, tmp_path):
    X = rows(8000)
    idx = vidx.Index(DIM, kind="hnsw", quant=quant, seed=3)
    idx.add(X[:3000])
    with pytest.raises(Stop):
        idx.add(X[3000:], progress=stop_after(0.5))
    assert len(idx) == 3000
    assert not any(i in idx for i in (3000, 5000, 7999))
    # None of the taken-back rows is found, and the rows before still are.
    queries = X[3000:3200]
    _, I = idx.search(queries, k=10, ef=64)
    assert I.max() < 3000
    truth = exact_ids(X[:3000], np.arange(3000), queries, 10)
    assert recall(I, truth) > 0.9
    # The default ids of the stopped add are handed out again, and the add goes through.
    idx.add(X[3000:])
    assert len(idx) == 8000 and 7999 in idx and 8000 not in idx
    _, I = idx.search(X[::40], k=1, ef=64)
    assert np.mean(I[:, 0] == np.arange(0, 8000, 40)) > 0.97
    idx.save(str(tmp_path / "after.vidx"))
    again = vidx.load(str(tmp_path / "after.vidx"))
    assert len(again) == 8000
    assert np.array_equal(again.search(X[:50], k=5, ef=64)[1], idx.search(X[:50], k=5, ef=64)[1])


def test_explicit_ids_of_a_stopped_add_may_be_used_again():
    X = rows(5000)
    idx = vidx.Index(DIM, kind="hnsw", quant="f32")
    idx.add(X[:1000], ids=np.arange(1000) * 7)
    new_ids = np.arange(1000, 5000) * 7
    with pytest.raises(Stop):
        idx.add(X[1000:], ids=new_ids, progress=stop_after(0.3))
    assert len(idx) == 1000 and new_ids[0] not in idx
    idx.add(X[1000:], ids=new_ids)
    _, I = idx.search(X[1000:1100], k=1, ef=64)
    assert np.mean(I[:, 0] == new_ids[:100]) > 0.97


def test_a_stopped_first_add_leaves_an_empty_index_that_still_builds():
    X = rows(4000)
    idx = vidx.Index(DIM, kind="hnsw", quant="f32")
    with pytest.raises(Stop):
        idx.add(X, progress=stop_after(0.5))
    assert len(idx) == 0
    assert idx.search(X[:3], k=5)[1].max() == -1
    idx.add(X[:2000])
    _, I = idx.search(X[:100], k=1)
    assert np.array_equal(I[:, 0], np.arange(100))


@pytest.mark.parametrize("kind,quant", [("hnsw", "binary"), ("hnsw", "lvq8"), ("flat", "binary"), ("flat", "lvq4x8")])
def test_a_stopped_first_add_leaves_the_codec_untrained(kind, quant):
    # The codec learnt from the stopped rows (binary: recall@10 0.007 against a fresh index's
    # 0.325 on other data added next): a stopped first add must leave it as the index was made.
    shifted = rows(3000, seed=5) + 4.0  # other data than what the stopped add saw
    fresh = vidx.Index(DIM, kind=kind, quant=quant, seed=7)
    fresh.add(shifted)
    idx = vidx.Index(DIM, kind=kind, quant=quant, seed=7)
    with pytest.raises(Stop):
        idx.add(rows(3000), progress=stop_after(0.5 if kind == "hnsw" else 1.0))
    idx.add(shifted)
    queries = shifted + 0.01
    for ef in (10, 64):  # the same graph and codes answer alike (bytes past a list's count may differ)
        assert np.array_equal(idx.search(queries, k=10, ef=ef)[1], fresh.search(queries, k=10, ef=ef)[1])


def test_ctrl_c_stops_an_add():
    # interrupt_main() sets the flag a real SIGINT sets; the add sees it at its next report.
    X = rows(6000)
    idx = vidx.Index(DIM, kind="hnsw", quant="f32")
    idx.add(X[:2000])
    interrupted = []

    def interrupt_once(phase, done, total):
        if not interrupted:
            interrupted.append(done)
            _thread.interrupt_main()

    with pytest.raises(KeyboardInterrupt):
        idx.add(X[2000:], progress=interrupt_once)
    assert interrupted and len(idx) == 2000
    assert idx.search(X[2000:2100], k=5)[1].max() < 2000


def test_the_progress_callback_may_not_use_its_own_index():
    X = rows(3000)
    idx = vidx.Index(DIM, kind="hnsw", quant="lvq8")  # a first add trains: it holds the index alone
    with pytest.raises(ValueError, match="progress callback"):
        idx.add(X, progress=lambda *r: idx.search(X[:1], k=1))
    assert len(idx) == 0
    idx.add(X)
    other = vidx.Index(DIM, kind="hnsw", quant="f32")
    other.add(X[:10])
    seen = []
    idx2 = vidx.Index(DIM, kind="hnsw", quant="f32")
    idx2.add(X, progress=lambda *r: seen.append(len(other.search(X[:1], k=1)[1])))
    assert seen and len(idx2) == 3000  # another index is fine


def test_nested_callbacks_may_not_use_an_outer_index():
    # A's callback adds to B, whose callback searches A (which A's add holds): a hang before.
    X = rows(3000)
    a = vidx.Index(DIM, kind="hnsw", quant="lvq8")  # a first LVQ add holds its index alone
    b = vidx.Index(DIM, kind="hnsw", quant="f32")
    b.add(X[:100])

    def add_to_b(*report):
        b.add(rows(200, seed=len(b)), progress=lambda *r: a.search(X[:1], k=1))

    with pytest.raises(ValueError, match="progress callback"):
        a.add(X, progress=add_to_b)
    assert len(a) == 0 and len(b) == 100


def test_searches_beside_a_stopped_add_never_see_its_rows():
    X = rows(12000)
    idx = vidx.Index(DIM, kind="hnsw", quant="f32")
    idx.add(X[:4000])
    stop = threading.Event()
    leaked = []

    def search_loop():
        while not stop.is_set():
            _, I = idx.search(X[4000:4064], k=10, ef=32)
            leaked.append(int(I.max()))

    searcher = threading.Thread(target=search_loop)
    searcher.start()
    try:
        with pytest.raises(Stop):
            idx.add(X[4000:], progress=stop_after(0.7))
    finally:
        stop.set()
        searcher.join()
    assert leaked and max(leaked) < 4000
    assert len(idx) == 4000


def test_flat_reports_and_a_raising_report_adds_nothing():
    X = rows(3000)
    reports = []
    idx = vidx.Index(DIM, kind="flat")
    idx.add(X[:2000], progress=lambda *r: reports.append(r))
    assert reports == [("add", 2000, 2000)]
    with pytest.raises(Stop):
        idx.add(X[2000:], progress=stop_after(1.0))
    assert len(idx) == 2000 and 2000 not in idx
    idx.add(X[2000:])
    assert 2999 in idx and 3000 not in idx


def test_a_built_spann_index_reports_before_it_adds(tmp_path):
    X = rows(3000)
    idx = vidx.Index(DIM, kind="spann", path=str(tmp_path / "p.post"), threads=1)
    idx.add(X[:2000], progress=False)
    reports = []
    idx.add(X[2000:2500], progress=lambda *r: reports.append(r))
    assert reports == [("read", 500, 500)] and len(idx) == 2500
    with pytest.raises(Stop):  # the one report comes first: the add does not happen
        idx.add(X[2500:], progress=stop_after(0.0))
    assert len(idx) == 2500 and 2500 not in idx


class _Terminal:
    """A stderr that says it is a terminal and keeps what is written to it."""

    def __init__(self):
        self.text = []

    def isatty(self):
        return True

    def write(self, text):
        self.text.append(text)

    def flush(self):
        pass


def test_bars_by_default_only_for_long_adds_on_a_terminal(monkeypatch):
    from vidx import _sources
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert isinstance(_sources._progress_callback(None, "hnsw", 100_000), _sources._Progress)
    assert isinstance(_sources._progress_callback(None, "hnsw", None), _sources._Progress)  # a file
    assert isinstance(_sources._progress_callback(None, "spann", 10), _sources._Progress)
    assert _sources._progress_callback(None, "hnsw", 99_999) is None
    assert _sources._progress_callback(None, "flat", 10 ** 7) is None
    assert _sources._progress_callback(False, "hnsw", 10 ** 7) is None
    monkeypatch.setattr(terminal, "isatty", lambda: False)
    assert _sources._progress_callback(None, "hnsw", 10 ** 7) is None  # a log file, a notebook
    bar = _sources._progress_callback(True, "hnsw", 10)
    vidx.Index(DIM, kind="hnsw").add(rows(2000), progress=bar)
    assert any("add" in t for t in terminal.text)
