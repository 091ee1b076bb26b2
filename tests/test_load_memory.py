"""Loading holds an index once: load(), from_bytes() and to_bytes() peak near the index's own size
(they held a second whole copy of the file: 2x the index for load and from_bytes, 2x for to_bytes), and
a mapped load holds none of it.

Each case runs in a fresh process that measures its own peak resident memory around the one call
(Linux: /proc/self/clear_refs resets the peak)."""
import textwrap

import numpy as np
import pytest

import vidx
from peak_memory import linux, run_probe, unsanitized

pytestmark = [linux, unsanitized]

PROBE = textwrap.dedent("""
    import json, sys, vidx
    def rss(field):
        for line in open("/proc/self/status"):
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    path, op = sys.argv[1], sys.argv[2]
    data = open(path, "rb").read() if op == "from_bytes" else None
    index = vidx.load(path) if op == "to_bytes" else None
    before = rss("VmRSS:")
    open("/proc/self/clear_refs", "w").write("5")
    if op == "load":
        index = vidx.load(path)
    elif op == "mmap":
        index = vidx.load(path, mmap=True)
    elif op == "from_bytes":
        index = vidx.from_bytes(data)
    else:
        out = index.to_bytes()
    print(json.dumps({"peak": rss("VmHWM:") - before, "index": index.memory_usage()}))
""")


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("load_memory")
    x = np.random.default_rng(0).standard_normal((60_000, 256)).astype(np.float32)  # 61 MB
    paths = {}
    for kind, quant in [("flat", "none"), ("flat", "lvq8"), ("hnsw", "lvq8")]:
        index = vidx.Index(256, "l2", kind=kind, quant=quant, threads=2, M=8, ef_construction=16)
        index.add(x if kind == "flat" else x[:50_000])
        paths[kind, quant] = str(folder / f"{kind}_{quant}.vidx")
        index.save(paths[kind, quant])
    return paths


@pytest.mark.parametrize("op", ["load", "from_bytes", "to_bytes"])
@pytest.mark.parametrize("kind,quant", [("flat", "none"), ("flat", "lvq8"), ("hnsw", "lvq8")])
def test_peak_memory_is_about_one_index(saved, kind, quant, op):
    result = run_probe(PROBE, saved[kind, quant], op)
    # The index (or the bytes) once, plus buffers of a few MB; a second copy would read 2x.
    assert result["peak"] <= 1.3 * result["index"] + 4 * 2 ** 20, result


@pytest.mark.parametrize("kind,quant", [("flat", "none"), ("flat", "lvq8"), ("hnsw", "lvq8")])
def test_a_mapped_load_reads_the_file_in_place(saved, kind, quant):
    # flat lvq8's codes (260 bytes, padded to 264 in memory) were copied out of the file: a whole
    # index of memory for a load meant to take none (format 4 stores them padded).
    result = run_probe(PROBE, saved[kind, quant], "mmap")
    assert result["peak"] <= 0.1 * result["index"] + 4 * 2 ** 20, result
