"""Ids that are not their slot's number live in a SlotTable (open addressing, removals shift entries
back): the C++ check in tests/cpp/slot_table_check.cpp compares it with std::unordered_map under random
operations, and an index keeps its answers for such ids through removes, compaction and reloads."""
import numpy as np
import pytest

import vidx
from cpp_checks import needs_compiler, run_check


@needs_compiler
def test_the_table_agrees_with_a_hash_map(tmp_path):
    run_check(tmp_path, "slot_table_check")


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_user_ids_through_removes_compaction_and_reload(kind, tmp_path):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3000, 8)).astype(np.float32)
    ids = rng.choice(2 ** 62, size=3000, replace=False).astype(np.int64)
    index = vidx.Index(8, "l2", kind=kind, threads=2)
    index.add(x, ids=ids)
    gone = ids[::3]
    index.remove(gone)
    index.compact()
    kept = np.setdiff1d(ids, gone)
    assert len(index) == len(kept)
    assert all(int(i) in index for i in kept[:200]) and not any(int(i) in index for i in gone[:200])
    np.testing.assert_array_equal(np.sort(index.ids()), np.sort(kept))
    rows = {int(i): r for i, r in zip(ids, x)}
    stored, exact = index.get(kept[:50])
    assert exact
    np.testing.assert_array_equal(stored, np.stack([rows[int(i)] for i in kept[:50]]))
    path = str(tmp_path / "ids.vidx")
    index.save(path)
    again = vidx.load(path)
    _, found = again.search(np.stack([rows[int(i)] for i in kept[:100]]), k=1)
    np.testing.assert_array_equal(found[:, 0], kept[:100])
    # ids 8 bytes a slot plus the table: well under the ~59 bytes an id of a node-based map
    assert again.memory_breakdown()["ids"] < 40 * len(kept)
