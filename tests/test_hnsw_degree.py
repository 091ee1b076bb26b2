"""An HNSW index whose M is left automatic (the default) chooses it once it holds 100,000 rows:
24 for hard data (local intrinsic dimension above ~20) walked on codes of 4 bits a dimension or
more, the default 16 otherwise; lists laid out for 16 before the choice are widened
(hnsw_degree.cpp, hnsw_widen.cpp; benchmarks/results/graph.md sections 35-36)."""
import pickle

import numpy as np
import pytest

import vidx
from conftest import brute_force, recall

ROWS = 100_000  # the fewest rows a first add chooses from
BUILD = dict(ef_construction=24, threads=2, seed=3)


def gaussian(n, dim, seed):
    """Isotropic Gaussian rows: intrinsic dimension = dimension, the hard case."""
    return np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)


@pytest.fixture(scope="module")
def hard():
    return gaussian(ROWS, 32, 1)


@pytest.fixture(scope="module")
def hard_index(hard):
    idx = vidx.Index(32, **BUILD)
    idx.add(hard)
    return idx


def assert_wider_lists_find_more(wide, hard, parts):
    """What the wider lists are for: more of the true neighbours at the same ef than M=16 built
    from the same adds."""
    narrow = vidx.Index(32, M=16, **BUILD)
    for part in parts:
        narrow.add(part)
    queries = gaussian(200, 32, 2)
    _, truth = brute_force(hard, queries, 10, "l2")
    wide_recall = recall(wide.search(queries, k=10, ef=64)[1], truth)
    assert wide_recall > recall(narrow.search(queries, k=10, ef=64)[1], truth) + 0.01
    assert recall(wide.search(queries, k=10, ef=256)[1], truth) >= 0.9


def test_hard_data_gets_wider_lists(hard, hard_index):
    assert hard_index.params["M"] == 24
    assert_wider_lists_find_more(hard_index, hard, [hard])


def test_easy_data_keeps_the_default():
    cube = np.random.default_rng(4).random((ROWS, 4), dtype=np.float32)
    idx = vidx.Index(4, **BUILD)
    idx.add(cube)
    assert idx.params["M"] == 16


def test_small_adds_wait_then_widen_the_lists(hard):
    idx = vidx.Index(32, **BUILD)
    idx.add(hard[:3000])
    idx.add(hard[3000:6000])
    assert idx.params["M"] == 0  # too few rows to tell: laid out for 16 meanwhile
    idx.add(hard[6000:])  # the add that brings the index to 100,000 rows chooses
    assert idx.params["M"] == 24
    # The rows linked before the choice keep their links and gain more as later rows link back.
    assert_wider_lists_find_more(idx, hard, [hard[:3000], hard[3000:6000], hard[6000:]])


def test_lists_widened_late_search_like_wide_ones(hard):
    """The add that widens the lists chooses the old nodes' lists again: the graph built in parts
    searches as one built with M=24 from the same parts (widened alone, it searched as M=16)."""
    parts = [hard[:45000], hard[45000:90000], hard[90000:]]
    late = vidx.Index(32, **BUILD)
    given = vidx.Index(32, M=24, **BUILD)
    for part in parts:
        late.add(part)
        given.add(part)
    assert late.params["M"] == 24
    queries = gaussian(300, 32, 5)
    _, truth = brute_force(hard, queries, 10, "l2")
    found = {name: recall(idx.search(queries, k=10, ef=64)[1], truth) for name, idx in (("late", late), ("given", given))}
    assert found["late"] >= found["given"] - 0.01, found


def test_the_add_that_reaches_the_rows_chooses_even_without_growing(hard):
    idx = vidx.Index(32, **BUILD)
    idx.add(hard[:70000])
    idx.add(hard[70000:71000])  # room for 105,000 rows from here
    assert idx.params["M"] == 0
    idx.add(hard[71000:])  # 100,000 rows, storage not grown: the choice is made here all the same
    assert idx.params["M"] == 24


def test_relinking_reports_every_list(hard):
    idx = vidx.Index(32, **BUILD)
    idx.add(hard[:90000])
    seen = []
    idx.add(hard[90000:], progress=lambda phase, done, total: seen.append((phase, done, total)))
    relinks = [(done, total) for phase, done, total in seen if phase == "relink"]
    assert relinks and relinks[-1][0] == relinks[-1][1] >= 90000  # every list of the 90,000 nodes
    assert seen[-1][0] == "add" and seen[-1][1] == seen[-1][2] == 10000
    assert idx.params["M"] == 24


def test_a_stop_during_relinking_takes_effect_once_every_list_is_chosen(hard):
    """A relinking left partway would have to survive compact() (which renumbers slots: reading the
    old numbers crashed) and copies (which did not keep it), so the stop waits for its end."""
    idx = vidx.Index(32, **BUILD)
    idx.add(hard[:90000])
    calls = []

    def stop_at_relink(phase, done, total):
        calls.append(phase)
        if phase == "relink":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        idx.add(hard[90000:], progress=stop_at_relink)
    assert calls == ["relink"]  # asked once, then left alone until the lists were chosen
    assert len(idx) == 90000 and idx.params["M"] == 24
    copy = pickle.loads(pickle.dumps(idx))
    seen = []
    idx.add(hard[90000:], progress=lambda phase, done, total: seen.append(phase))
    assert "relink" not in seen  # done by the stopped add
    copy.add(hard[90000:])
    queries = gaussian(100, 32, 6)
    np.testing.assert_array_equal(idx.search(queries, k=10, ef=64)[1], copy.search(queries, k=10, ef=64)[1])
    idx.remove(np.arange(80000))
    idx.compact()
    idx.add(hard[:100], ids=np.arange(100))
    assert len(idx) == 20100
    assert np.mean(idx.search(hard[:100], k=1, ef=64)[1][:, 0] == np.arange(100)) >= 0.95


def test_a_waiting_choice_survives_a_save(tmp_path, hard):
    idx = vidx.Index(32, **BUILD)
    idx.add(hard[:5000])
    idx.save(tmp_path / "small.vidx")
    reloaded = vidx.load(tmp_path / "small.vidx")
    assert reloaded.params["M"] == 0
    queries = gaussian(20, 32, 6)
    assert np.array_equal(reloaded.search(queries, k=10, ef=32)[1], idx.search(queries, k=10, ef=32)[1])
    for index in (idx, reloaded):
        index.add(hard[5000:])
        assert index.params["M"] == 24
    # The same rows, seed and choice, with or without the round trip: the same graph.
    assert np.array_equal(reloaded.search(queries, k=10, ef=32)[1], idx.search(queries, k=10, ef=32)[1])


def test_easy_data_added_in_parts_keeps_the_default():
    cube = np.random.default_rng(4).random((ROWS, 4), dtype=np.float32)
    idx = vidx.Index(4, **BUILD)
    idx.add(cube[:40000])
    idx.add(cube[40000:])
    assert idx.params["M"] == 16


def test_an_explicit_M_is_kept(hard):
    idx = vidx.Index(32, M=12, **BUILD)
    idx.add(hard[:2000])
    assert idx.params["M"] == 12


@pytest.mark.parametrize("quant, expected", [("lvq4x4", 24), ("lvq8", 24), ("binary", 16), ("rabitq", 16)])
def test_lvq_walks_follow_the_data_and_sign_walks_keep_the_default(hard, quant, expected):
    # LVQ walks gain from wider lists on hard data as float32 walks do; walks on 1-bit codes are
    # limited by their codes, not by the graph (graph.md section 36).
    idx = vidx.Index(32, quant=quant, ef_construction=8, threads=2)
    idx.add(hard)
    assert idx.params["M"] == expected


def test_automatic_until_the_first_add_across_a_save(tmp_path, hard, hard_index):
    empty = vidx.Index(32, **BUILD)
    assert empty.params["M"] == 0
    empty.save(tmp_path / "empty.vidx")
    reloaded = vidx.load(tmp_path / "empty.vidx")
    assert reloaded.params["M"] == 0
    reloaded.add(hard)
    assert reloaded.params["M"] == 24
    # The same seed, rows and choice: the same graph as the index built without the round trip.
    queries = gaussian(20, 32, 5)
    assert np.array_equal(reloaded.search(queries, k=10, ef=32)[1], hard_index.search(queries, k=10, ef=32)[1])
    hard_index.save(tmp_path / "built.vidx")
    assert vidx.load(tmp_path / "built.vidx").params["M"] == 24


@pytest.mark.parametrize("bad", [1, 2049])
def test_an_M_out_of_range_names_the_automatic_choice(bad):
    with pytest.raises(ValueError, match=r"M must be between 2 and 2048 \(or 0: automatic\)"):
        vidx.Index(8, M=bad)


def test_spann_head_graph_takes_the_default(tmp_path):
    idx = vidx.Index(8, kind="spann", path=str(tmp_path / "postings.bin"))
    assert idx.params["M"] == 16


def test_an_index_whose_later_rows_read_harder_widens_then(tmp_path):
    """An automatic M that chose the default from easy first rows chooses again as the index grows
    (glove's words by frequency read easy at first and kept M=16 for good: graph.md section 58).
    The choice waits across a save."""
    rng = np.random.default_rng(7)
    easy = np.zeros((ROWS, 64), dtype=np.float32)  # a 4-d cube, far from the Gaussian rows
    easy[:, :4] = rng.random((ROWS, 4), dtype=np.float32)
    easy[:, 4] = 30.0
    later = gaussian(125_000, 64, 8)
    parts = [later[i : i + 25_000] for i in range(0, len(later), 25_000)]
    fed = vidx.Index(64, **BUILD)
    given = vidx.Index(64, M=24, **BUILD)
    fed.add(easy)
    given.add(easy)
    assert fed.params["M"] == 16
    fed.save(tmp_path / "easy.vidx")
    fed = vidx.load(tmp_path / "easy.vidx")
    ms = []
    for part in parts:
        fed.add(part)
        given.add(part)
        ms.append(fed.params["M"])
    # Chosen again at 125,000 rows and 175,000 (a fifth, then 43% of them hard: still 16), and at
    # 225,000 (1.25 x 175,000 reached), where most are.
    assert ms == [16, 16, 16, 16, 24], ms
    queries = gaussian(300, 64, 9)
    _, truth = brute_force(later, queries, 10, "l2")
    truth = truth + ROWS  # ids follow the easy rows'
    found = {name: recall(idx.search(queries, k=10, ef=64)[1], truth) for name, idx in (("fed", fed), ("given", given))}
    assert found["fed"] >= found["given"] - 0.01, found


def test_lists_widened_late_keep_every_row_reachable(hard):
    """The add that widens the lists lets each earlier list grow and link back; choosing each list
    again instead dropped links only it held: 8,214 of these rows went missing from their own top
    10 at ef 64 (M=24 given: 1,670; now 14; graph.md section 58)."""
    late = vidx.Index(32, **BUILD)
    given = vidx.Index(32, M=24, **BUILD)
    for i in range(0, len(hard), 4000):
        late.add(hard[i : i + 4000])
        given.add(hard[i : i + 4000])
    assert late.params["M"] == 24

    def missing(idx):
        found = idx.search(hard, k=10, ef=64)[1]
        return int((~(found == np.arange(len(hard))[:, None]).any(axis=1)).sum())

    assert missing(late) <= missing(given), (missing(late), missing(given))
