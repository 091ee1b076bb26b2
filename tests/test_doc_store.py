"""The document store under both framework adapters (vidx.integrations._doc_index, _metadata):
saves that stop part-way, threads, old folders, and LangChain-style metadata filters. Needs
neither framework."""
import json
import os
import threading

import numpy as np
import pytest

import vidx
from vidx.integrations import _doc_index, _metadata
from vidx.integrations._doc_index import DocIndex

DIM = 8


def vectors(n, seed=0):
    return np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)


def store_with(n, kind="hnsw", framework="langchain", seed=0):
    store = DocIndex("l2", kind, framework=framework)
    keys = [f"doc{i}" for i in range(n)]
    store.upsert(keys, vectors(n, seed), [{"text": k, "metadata": {"i": i}} for i, k in enumerate(keys)])
    return store


def index_files(folder):
    return sorted(name for name in os.listdir(folder) if name.endswith(".vidx"))


def stopped(*args, **kwargs):
    raise KeyboardInterrupt


@pytest.mark.parametrize("kind", ["hnsw", "flat", "spann"])
def test_a_save_stopped_at_any_point_leaves_the_previous_save_or_the_new_one(kind, tmp_path, monkeypatch):
    # The index file was replaced in place, then docs.json written: a save stopped between the
    # two left an index holding ids docs.json did not know (every search raised KeyError). And a
    # SPANN store whose new index file had stamped the posting file was left older than it, its
    # writes refused for good.
    options = {"path": str(tmp_path / "p.post")} if kind == "spann" else {}
    store = DocIndex("l2", kind, framework="langchain", **options)
    store.upsert([f"doc{i}" for i in range(300)], vectors(300), [{"text": "d", "metadata": {}}] * 300)
    store.save(tmp_path / "s")
    store.upsert([f"new{i}" for i in range(50)], vectors(50, 1), [{"text": "n", "metadata": {}}] * 50)
    before = sorted(os.listdir(tmp_path / "s"))

    monkeypatch.setattr(_doc_index, "write_atomic", stopped)  # before anything is written
    with pytest.raises(KeyboardInterrupt):
        store.save(tmp_path / "s")
    monkeypatch.undo()
    assert sorted(os.listdir(tmp_path / "s")) == before

    monkeypatch.setattr(_doc_index, "replace_durably", stopped)  # the new files are in place, not renamed
    with pytest.raises(KeyboardInterrupt):
        store.save(tmp_path / "s")
    monkeypatch.undo()
    del store
    loaded = DocIndex.load(tmp_path / "s", "langchain")  # the new save: complete
    assert len(loaded) == 350 and len(loaded.index) == 350
    assert [key for key, _, _ in loaded.search(vectors(300)[7], 1)] == ["doc7"]
    loaded.upsert(["later"], vectors(1, 2), [{"text": "l", "metadata": {}}])  # writable (SPANN too)

    # A save stopped while it writes its index file leaves the save the store was loaded from
    # (it removed the pending file that held it, and the folder fell back to the one before).
    monkeypatch.setattr(type(loaded.index), "save", stopped)
    with pytest.raises(KeyboardInterrupt):
        loaded.save(tmp_path / "s")
    monkeypatch.undo()
    again = DocIndex.load(tmp_path / "s", "langchain")
    assert len(again) == 350
    del again

    # Files killed saves leave (an index file no document file names, JSON temporaries) go
    # with the next save.
    for name in ("index.0123456789ab.vidx", "docs.json.123-abcd.tmp", "docs.pending.json.9-ef.tmp"):
        (tmp_path / "s" / name).write_bytes(b"left by a killed save")
    loaded.save(tmp_path / "s")
    assert sorted(os.listdir(tmp_path / "s")) == ["docs.json", "docs.lock"] + index_files(tmp_path / "s")
    assert len(index_files(tmp_path / "s")) == 1
    assert len(DocIndex.load(tmp_path / "s", "langchain")) == 351


def test_two_stores_saving_one_folder_take_turns(tmp_path):
    # Each removed the other's new index file before its docs.json named it (the folder then
    # failed to load), and both wrote the same temporary file name.
    stores = [store_with(50, seed=s) for s in range(2)]
    errors = []

    def save(store):
        try:
            for _ in range(10):
                store.save(tmp_path)
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=save, args=(s,)) for s in stores]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == [] and len(index_files(tmp_path)) == 1
    loaded = DocIndex.load(tmp_path, "langchain")
    assert len(loaded) == 50 and len(loaded.index) == 50


def test_threads_adding_at_once_keep_every_document():
    # The labels of concurrent adds were chosen from the same counter: "id 0 is already in the
    # index", and the store lost the batches.
    store = DocIndex("l2", "hnsw", framework="langchain")
    errors = []

    def add(t):
        try:
            for b in range(5):
                keys = [f"t{t}-{b}-{i}" for i in range(40)]
                store.upsert(keys, vectors(40, 10 * t + b), [{"text": k, "metadata": {"t": t}} for k in keys])
        except Exception as e:  # noqa: BLE001 - collected and asserted below
            errors.append(e)

    threads = [threading.Thread(target=add, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == [] and len(store) == 8 * 5 * 40 and len(store.index) == 8 * 5 * 40
    key, payload, _ = store.search(vectors(40, 10 * 3 + 2)[5], 1)[0]
    assert key == "t3-2-5" and payload["metadata"] == {"t": 3}


def test_filtered_searches_beside_adds_and_deletes_never_fail():
    # A filtered search iterated the payloads while another thread changed them ("dictionary
    # changed size during iteration"); a result deleted meanwhile raised KeyError.
    store = store_with(500)
    stop, errors = threading.Event(), []

    def write():
        for r in range(30):
            keys = [f"w{r}-{i}" for i in range(20)]
            store.upsert(keys, vectors(20, 100 + r), [{"text": k, "metadata": {"i": -1}} for k in keys])
            store.delete(keys[:10])
        stop.set()

    def read():
        while not stop.is_set():
            try:
                for key, payload, _ in store.search(vectors(1, 7)[0], 10, lambda p: p["metadata"]["i"] % 2 == 0):
                    assert payload["metadata"]["i"] % 2 == 0
            except Exception as e:  # noqa: BLE001
                errors.append(e)
                return

    threads = [threading.Thread(target=write)] + [threading.Thread(target=read) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == [] and len(store) == 500 + 30 * 10


def test_a_folder_of_the_first_format_loads_and_saves_in_the_new_one(tmp_path):
    # Format 1: index.vidx beside docs.json, without the index file's name or the framework.
    store = store_with(60)
    store.index.save(tmp_path / "index.vidx")
    labels = list(store._entries)
    (tmp_path / "docs.json").write_text(json.dumps({
        "format": "vidx.docs/1", "metric": "l2", "kind": "hnsw", "options": {}, "next_label": 60, "labels": labels,
        "keys": [store._entries[label][0] for label in labels],
        "payloads": [store._entries[label][1] for label in labels]}))
    with pytest.raises(OSError, match="saved by vidx's langchain adapter"):
        DocIndex.load(tmp_path, "llamaindex")  # told by its payloads
    old = DocIndex.load(tmp_path, "langchain")
    assert len(old) == 60 and [k for k, _, _ in old.search(vectors(60)[9], 1)] == ["doc9"]
    old.save(tmp_path)
    assert json.loads((tmp_path / "docs.json").read_text())["format"] == "vidx.docs/2"
    assert len(index_files(tmp_path)) == 1 and not (tmp_path / "index.vidx").exists()
    assert len(DocIndex.load(tmp_path, "langchain")) == 60


def test_a_store_loads_only_into_the_adapter_that_saved_it(tmp_path):
    # Both adapters wrote the same format: the other one loaded it, then failed on every read
    # with a bare KeyError ('text' / 'node').
    store_with(10, framework="llamaindex").save(tmp_path)
    with pytest.raises(OSError, match="saved by vidx's llamaindex adapter, not its langchain one"):
        DocIndex.load(tmp_path, "langchain")
    assert len(DocIndex.load(tmp_path, "llamaindex")) == 10


def test_an_emptied_store_keeps_its_dimension_before_and_after_a_save(tmp_path):
    # It kept the dimension while open but forgot it when saved empty: the same calls gave
    # different answers before and after a save.
    store = store_with(20)
    store.delete(store.keys())
    store.save(tmp_path)
    loaded = DocIndex.load(tmp_path, "langchain")
    for s in (store, loaded):
        assert len(s) == 0 and s.search(vectors(1)[0], 3) == []
        with pytest.raises(ValueError, match="dimension 4, the index has 8"):
            s.upsert(["x"], np.ones((1, 4), np.float32), [{"text": "x", "metadata": {}}])
        s.upsert(["y"], vectors(1, 5), [{"text": "y", "metadata": {}}])
        assert [k for k, _, _ in s.search(vectors(1, 5)[0], 1)] == ["y"]


@pytest.mark.parametrize("pattern, ignore_case, matches", [
    ("Hello%", False, ["Hello World", "Hello"]),
    ("%World", False, ["Hello World"]),
    ("%ello%", False, ["Hello World", "Hello", "jello"]),
    ("H_llo World", False, ["Hello World"]),
    ("ello", False, []),  # LIKE matches the whole value, not a part of it
    ("hello%", False, []),
    ("hello%", True, ["Hello World", "Hello"]),
    ("100%", False, ["100% sure"]),
    ("a.b*", False, ["a.b*"]),  # regular-expression characters are literal
])
def test_like_is_sql_like(pattern, ignore_case, matches):
    # $like was a substring test: "Hello%" matched nothing. LangChain's SQL stores (PGVector)
    # mean LIKE: % any text, _ one character.
    values = ["Hello World", "Hello", "jello", "100% sure", "a.b*", "axb*", 7, None]
    test = _metadata.from_dict({"v": {"$ilike" if ignore_case else "$like": pattern}})
    assert [v for v in values if test({"v": v})] == matches


@pytest.mark.parametrize("spec, message", [
    ({"$not": {"genre": "scifi"}}, "unsupported filter operator '\\$not'"),
    ({"$Or": [{"genre": "scifi"}]}, "unsupported filter operator '\\$Or'"),
    ({"$nor": [{"genre": "scifi"}]}, "unsupported filter operator '\\$nor'"),
    ({"genre": {"$in": ["scifi"], "typo": 1}}, "mixes operators and plain keys"),
    ({"genre": {"$near": 3}}, "unsupported filter operator '\\$near' on 'genre'"),
])
def test_unknown_operators_are_refused_by_name(spec, message):
    # Unknown top-level names were read as metadata keys and matched nothing, silently.
    with pytest.raises(ValueError, match=message):
        _metadata.from_dict(spec)


def test_a_plain_dict_value_is_still_equality():
    test = _metadata.from_dict({"where": {"city": "Oslo"}})
    assert test({"where": {"city": "Oslo"}}) and not test({"where": {"city": "Rome"}})


def test_a_store_never_saved_with_an_index_loads_empty(tmp_path):
    DocIndex("cosine", "flat", framework="langchain").save(tmp_path)
    empty = DocIndex.load(tmp_path, "langchain")
    assert len(empty) == 0 and empty.index is None and index_files(tmp_path) == []
    empty.upsert(["a"], vectors(1), [{"text": "a", "metadata": {}}])
    assert isinstance(empty.index, vidx.Index) and len(empty.index) == 1


def test_a_save_stopped_once_its_index_file_is_in_place_is_kept(tmp_path, monkeypatch):
    # Ctrl-C arrives when vidx's save (which releases the GIL) returns: the store removed its
    # complete new index file and pending documents, and a SPANN store, whose posting file
    # already carried the new generation, was left read-only.
    store = DocIndex("l2", "spann", framework="langchain", path=str(tmp_path / "p.post"))
    store.upsert([f"d{i}" for i in range(300)], vectors(300), [{"text": "d", "metadata": {}}] * 300)
    store.save(tmp_path / "s")
    store.upsert(["extra"], vectors(1, 3), [{"text": "e", "metadata": {}}])
    real_save = type(store.index).save

    def save_then_interrupted(self, path):
        real_save(self, path)
        raise KeyboardInterrupt

    monkeypatch.setattr(type(store.index), "save", save_then_interrupted)
    with pytest.raises(KeyboardInterrupt):
        store.save(tmp_path / "s")
    monkeypatch.undo()
    del store
    loaded = DocIndex.load(tmp_path / "s", "langchain")
    assert len(loaded) == 301
    loaded.upsert(["later"], vectors(1, 4), [{"text": "l", "metadata": {}}])  # writable
    loaded.save(tmp_path / "s")
    assert len(DocIndex.load(tmp_path / "s", "langchain")) == 302


def test_a_user_file_called_index_vidx_stays(tmp_path):
    # Format 1's index file name was removed by every save, whatever held it: here the
    # store's own SPANN posting file (every row lost).
    folder = tmp_path / "s"
    folder.mkdir()
    store = DocIndex("l2", "spann", framework="langchain", path=str(folder / "index.vidx"))
    store.upsert([f"d{i}" for i in range(200)], vectors(200), [{"text": "d", "metadata": {}}] * 200)
    store.save(folder)
    store.save(folder)
    assert (folder / "index.vidx").exists()
    del store
    assert len(DocIndex.load(folder, "langchain").search(vectors(200)[3], 1)) == 1
