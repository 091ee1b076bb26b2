"""Growing and compacting an index moves its memory instead of copying it: large buffers are their own
mappings (Linux), resized in place or moved page by page (aligned_buffer.cpp). Before, an index fed in
ten adds peaked at 1.7-2.3x its size (the last growth held the old buffer beside a zeroed new one) and
compact() at about 1.5x (flat reallocated, HNSW built new arrays).

The peaks run in fresh processes (Linux: /proc/self/clear_refs resets the peak resident size)."""
import textwrap

import numpy as np
import pytest

import vidx
from cpp_checks import needs_compiler, run_check
from peak_memory import linux, run_probe, unsanitized

PROBE = textwrap.dedent("""
    import json, sys
    import numpy as np
    import vidx
    def rss(field):
        for line in open("/proc/self/status"):
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    kind, quant, op = sys.argv[1:4]
    x = np.random.default_rng(0).standard_normal((int(sys.argv[4]), 64)).astype(np.float32)
    index = vidx.Index(64, "l2", kind=kind, quant=quant, threads=2, M=8, ef_construction=16)
    if op == "compact":
        index.add(x)
        index.remove(np.arange(0, len(x), 2))
    before = rss("VmRSS:")
    open("/proc/self/clear_refs", "w").write("5")
    if op == "adds":
        for part in np.array_split(x, 10):
            index.add(part)
    else:
        index.compact()
    print(json.dumps({"peak": rss("VmHWM:") - before, "index": index.memory_usage()}))
""")


@needs_compiler
def test_the_buffer_keeps_its_bytes_through_resizes(tmp_path):
    run_check(tmp_path, "aligned_buffer_check", library_sources=["common/aligned_buffer.cpp"])


@linux
@unsanitized
@pytest.mark.parametrize("kind,quant,rows", [("flat", "none", 300_000), ("hnsw", "none", 40_000)])
def test_adds_in_pieces_peak_near_the_index(kind, quant, rows):
    result = run_probe(PROBE, kind, quant, "adds", rows)
    # flat 300,000 x 64: 1.68x before (the old codes beside a zeroed 1.5x copy)
    assert result["peak"] <= 1.2 * result["index"] + 8 * 2 ** 20, result


@linux
@unsanitized
@pytest.mark.parametrize("kind,quant,rows", [("flat", "none", 300_000), ("flat", "lvq8", 300_000),
                                             ("hnsw", "none", 40_000)])
def test_compact_needs_no_second_copy(kind, quant, rows):
    result = run_probe(PROBE, kind, quant, "compact", rows)
    # Half the rows removed: a compaction into new buffers peaked at the compacted index's size over
    # what the process held; in place it needs a few MB of bookkeeping.
    assert result["peak"] <= 0.25 * result["index"] + 4 * 2 ** 20, result


@pytest.mark.parametrize("quant", ["none", "lvq4x8"])
def test_hnsw_compacted_in_place_answers_as_before(quant):
    # The lists are renumbered where they are and the records moved down: the same graph, so the
    # same walk and the same answers, under the same ids, and later adds link into it.
    rng = np.random.default_rng(5)
    x = rng.standard_normal((6000, 24)).astype(np.float32)
    index = vidx.Index(24, "l2", kind="hnsw", quant=quant, threads=2, M=8, keep_vectors=quant != "none")
    index.add(x)
    gone = rng.choice(6000, 2500, replace=False)
    index.remove(gone)
    q = rng.standard_normal((200, 24)).astype(np.float32)
    d1, i1 = index.search(q, k=10, ef=40)
    index.compact()
    d2, i2 = index.search(q, k=10, ef=40)
    np.testing.assert_array_equal(i1, i2)
    np.testing.assert_array_equal(d1, d2)
    kept = np.setdiff1d(np.arange(6000), gone)
    stored, _ = index.get(kept[-50:])
    if quant == "none":
        np.testing.assert_array_equal(stored, x[kept[-50:]])
    more = rng.standard_normal((2000, 24)).astype(np.float32)
    index.add(more, ids=np.arange(10_000, 12_000))
    _, found = index.search(more[:200], k=1, ef=40)
    assert np.mean(found[:, 0] == np.arange(10_000, 10_200)) >= 0.98
