"""Corrupted index files: every truncation offset and a seeded sample of bit flips in every
section (header, section table, each payload, the zero padding between them) of small hnsw and
flat files with several codecs. Each corrupted file must be refused (OSError/ValueError) or
load and search exactly like the original ("harmless"); nothing may crash or hang.

The loads of one file run in one child interpreter, so a crash fails the test instead of
killing pytest; the child reports what it saw as JSON."""
import json
import os
import pickle
import struct
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import vidx

from conftest import clustered

FLIPS_PER_REGION = 48

# (kind, quant, keep_vectors): every section kind the hnsw and flat files have.
CASES = [("hnsw", "none", False), ("hnsw", "lvq4x8", False), ("hnsw", "binary", True), ("flat", "none", False),
         ("flat", "rabitq", False), ("flat", "lvq4x8", True)]

CHILD = textwrap.dedent("""
    import json, os, sys
    import numpy as np
    import vidx

    original, work, plan_path = sys.argv[1:4]
    plan = json.load(open(plan_path))
    data = open(original, "rb").read()
    q = np.load(plan["queries"])
    ref = vidx.load(original).search(q, 5)

    def outcome():
        try:
            idx = vidx.load(work)
        except (OSError, ValueError):
            return "detected"
        D, I = idx.search(q, 5)
        same = np.array_equal(I, ref[1]) and np.array_equal(D, ref[0])
        return "harmless" if same else "UNDETECTED"

    counts = {}
    bad = []

    def record(region, where, r):
        counts[region + ":" + r] = counts.get(region + ":" + r, 0) + 1
        if r == "UNDETECTED":
            bad.append((region, where))

    # Files are changed in place (truncate, one-byte writes): rewriting them costs more than loading.
    with open(work, "wb") as f:
        f.write(data + b"\\0")
    record("extend", len(data), outcome())  # one byte too many
    for cut in range(len(data) - 1, -1, -1):
        os.truncate(work, cut)
        record("truncate", cut, outcome())
    with open(work, "wb") as f:
        f.write(data)
    fd = os.open(work, os.O_WRONLY)
    for region, bit in plan["flips"]:
        at = bit // 8
        os.pwrite(fd, bytes([data[at] ^ (1 << (bit % 8))]), at)
        record(region, bit, outcome())
        os.pwrite(fd, data[at:at + 1], at)
    os.close(fd)
    print(json.dumps({"counts": counts, "bad": bad[:20], "size": len(data)}))
""")


def regions(data):
    """(name, start, end) of each part of a vidx file (layout in cpp/include/vidx/io/index_file.hpp)."""
    header_size = struct.unpack_from("<I", data, 12)[0]
    kind_len = struct.unpack_from("<I", data, 28)[0]
    n = struct.unpack_from("<I", data, 32 + kind_len)[0]
    table = 36 + kind_len
    out = [("fixed_header", 0, 32 + kind_len), ("section_table", table, table + 24 * n),
           ("header_crc", header_size - 4, header_size)]
    cursor = header_size
    for i in range(n):
        tag, _, offset, length = struct.unpack_from("<IIQQ", data, table + 24 * i)
        if offset > cursor:
            out.append((f"padding_before_{i}", cursor, offset))
        if length:
            out.append((tag.to_bytes(4, "little").decode("ascii", "replace"), offset, offset + length))
        cursor = offset + length
    if len(data) > cursor:
        out.append(("padding_at_end", cursor, len(data)))
    return out


@pytest.mark.parametrize("kind, quant, keep_vectors", CASES)
def test_every_corruption_is_detected_or_harmless(kind, quant, keep_vectors, tmp_path):
    x = clustered(24, 8, seed=5)
    idx = vidx.Index(8, kind=kind, quant=quant, keep_vectors=keep_vectors, M=4, ef_construction=16)
    idx.add(x, ids=np.arange(24) * 3 + 1)  # non-identity ids: the id section matters
    original = tmp_path / "orig.vidx"
    idx.save(original)
    data = original.read_bytes()
    rng = np.random.default_rng(13)
    flips = []
    for name, start, end in regions(data):
        bits = rng.integers(start * 8, end * 8, min(FLIPS_PER_REGION, (end - start) * 8))
        flips += [(name, int(b)) for b in bits]
    np.save(tmp_path / "q.npy", x[:6])
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"flips": flips, "queries": str(tmp_path / "q.npy")}))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", CHILD, str(original), str(tmp_path / "work.vidx"), str(plan)],
                         capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    print(kind, quant, "keep_vectors" if keep_vectors else "", report["size"], "bytes,", len(flips), "flips:", report["counts"])
    assert report["bad"] == [], report
    assert report["counts"].get("truncate:detected") == report["size"]  # every shorter file refused


def section_table(data):
    """[(index, tag, offset, length)] of an index file's sections, tag as 4 bytes."""
    kind_len = struct.unpack_from("<I", data, 28)[0]
    n = struct.unpack_from("<I", data, 32 + kind_len)[0]
    table = 36 + kind_len
    return [(i, *struct.unpack_from("<IIQQ", data, table + 24 * i)) for i in range(n)], table


def rewrite_section(data, tag, change):
    """data (a bytearray of an index file) with section `tag`'s bytes passed through change(view)
    and every checksum recomputed: what anyone can forge, since a file is checksummed, not signed."""
    from test_files import _crc32c
    header_size = struct.unpack_from("<I", data, 12)[0]
    sections, table = section_table(data)
    for i, t, _, offset, length in sections:
        if t.to_bytes(4, "little") == tag:
            change(memoryview(data)[offset:offset + length])
            struct.pack_into("<I", data, table + 24 * i + 4, _crc32c(bytes(data[offset:offset + length])))
    struct.pack_into("<I", data, header_size - 4, _crc32c(bytes(data[:header_size - 4])))
    return bytes(data)


def test_a_head_stride_that_wraps_the_section_size_is_refused():
    # head_stride + 2^63 made count * stride wrap back to the real size, and the loader read far away.
    idx = vidx.Index(8, "l2", quant="f16")
    idx.add(np.random.default_rng(0).standard_normal((120, 8)).astype(np.float32))

    def add_2_63(view):
        struct.pack_into("<Q", view, 0, struct.unpack_from("<Q", view, 0)[0] + 2**63)
    with pytest.raises(ValueError, match="head layout"):
        vidx.from_bytes(rewrite_section(bytearray(idx.to_bytes()), b"HLAY", add_2_63))


def test_an_lvq_mean_out_of_range_is_refused():
    # A forged mean of 1e30 loaded and overflowed every query centred on it (NaN cast to int).
    idx = vidx.Index(8, "l2", quant="lvq4x8")
    idx.add(np.random.default_rng(0).standard_normal((120, 8)).astype(np.float32))

    def huge_mean(view):
        struct.pack_into("<f", view, 1, 1e30)  # after the layout flag byte
    with pytest.raises(ValueError, match="LVQ mean"):
        vidx.from_bytes(rewrite_section(bytearray(idx.to_bytes()), b"CDEC", huge_mean))


def section_bytes(data, tag):
    """The payload of section `tag` of an index file (bytes), or None."""
    for _, t, _, offset, length in section_table(data)[0]:
        if t.to_bytes(4, "little") == tag:
            return bytes(data[offset:offset + length])
    return None


def fill_row(row, count):
    """change(view) for rewrite_section: row `row` of a section of `count` equal rows set to
    0xFF bytes, which read as NaN under every codec (float32 and float16 values, the upper
    halves of float32, LVQ's float16 step and bias, the estimator's float32 factors)."""
    def change(view):
        size = len(view) // count
        view[row * size:(row + 1) * size] = b"\xff" * size
    return change


# (kind, quant, keep_vectors, sections to damage): every codec's stored values, and kept vectors.
NON_FINITE_CASES = [("hnsw", q, False, (b"HED0", b"TAIL")) for q in
                    ("none", "f32_split", "f32_sketch", "f16", "f32_pca", "lvq8", "lvq4x8", "binary", "rabitq")]
NON_FINITE_CASES += [("hnsw", "lvq8", True, (b"VECS",))]
NON_FINITE_CASES += [("flat", q, False, (b"CODS",)) for q in ("none", "f16", "lvq4x8", "rabitq")]
NON_FINITE_CASES += [("flat", "lvq4x8", True, (b"VECS",))]


@pytest.mark.parametrize("kind, quant, keep_vectors, tags", NON_FINITE_CASES)
def test_stored_nan_or_infinity_is_refused_at_load(kind, quant, keep_vectors, tags, tmp_path):
    # Adds refuse NaN and infinity, so stored ones come from a damaged or forged file (checksums
    # recomputed). They loaded, and gave NaN distances among the results; now the load names the row.
    n, row = 200, 5
    x = clustered(n, 64, seed=3)
    idx = vidx.Index(64, "l2", kind=kind, quant=quant, keep_vectors=keep_vectors)
    idx.add(x)
    data = bytearray(idx.to_bytes())
    for tag in tags:
        payload = section_bytes(data, tag)
        if payload is None or len(payload) == 0:
            continue  # a codec without tails
        if tag == b"HED0":  # heads are padded to a stride: damage the head of one slot only
            stride, head = struct.unpack_from("<QQ", section_bytes(data, b"HLAY"), 0)
            data = bytearray(rewrite_section(data, tag, lambda v: v.__setitem__(
                slice(row * stride, row * stride + head), b"\xff" * head)))
        else:
            data = bytearray(rewrite_section(data, tag, fill_row(row, n)))
    where = "slot" if kind == "hnsw" else "row"
    with pytest.raises(ValueError, match=f"{where} {row} holds NaN or infinite values"):
        vidx.from_bytes(bytes(data))
    path = tmp_path / "forged.vidx"
    path.write_bytes(bytes(data))
    with pytest.raises(OSError, match=f"{where} {row} holds NaN or infinite values"):  # a bad file, as elsewhere
        vidx.load(str(path))
    with pytest.raises(OSError, match=f"{where} {row} holds NaN or infinite values"):
        vidx.load(str(path), mmap=True, verify=True)


MAPPED_SEARCH_CHILD = textwrap.dedent("""
    import sys
    import numpy as np
    import vidx

    idx = vidx.load(sys.argv[1], mmap=True)  # not verified: level-0 lists are used as mapped
    q = np.load(sys.argv[2])
    n = int(sys.argv[3])
    for ef in (10, 64):
        D, I = idx.search(q, 10, ef=ef)
        assert np.all((I >= -1) & (I < n)), I
    D, I = idx.search(q, 10, ef=32, filter=np.arange(0, n, 3))
    assert np.all((I == -1) | (I % 3 == 0)), I
    print("searched")
""")


@pytest.mark.parametrize("damage", ["all_ones", "random"])
def test_a_damaged_mapped_level0_list_cannot_crash_a_search(damage, tmp_path):
    # A file mapped without verify is searched in place, its level-0 lists unchecked (checking
    # them would read the whole file). Lists damaged with valid checksums, counts up to 2^32 - 1
    # and slots far past the index, used to send walks past the index's memory; now a list is
    # read up to its capacity and a slot beyond the index counts as visited. Answers may be
    # wrong; the search must return.
    n = 400
    x = clustered(n, 16, seed=9)
    idx = vidx.Index(16, "l2", M=8, ef_construction=40)
    idx.add(x)
    data = bytearray(idx.to_bytes())
    rng = np.random.default_rng(2)

    def change(view):
        if damage == "all_ones":
            view[:] = b"\xff" * len(view)
        else:
            view[:] = rng.integers(0, 256, len(view), dtype=np.uint8).tobytes()

    assert section_bytes(data, b"LNK0"), "the level-0 section this test damages"
    path = tmp_path / "damaged.vidx"
    path.write_bytes(rewrite_section(data, b"LNK0", change))
    np.save(tmp_path / "q.npy", x[:20])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", MAPPED_SEARCH_CHILD, str(path), str(tmp_path / "q.npy"), str(n)],
                         capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0 and "searched" in out.stdout, out.stderr[-3000:]
    with pytest.raises(OSError):  # a full load checks every link
        vidx.load(str(path))


def flip_a_bit(data, tag):
    """data (bytes of an index file) with one bit flipped inside section `tag`, checksums left."""
    damaged = bytearray(data)
    for _, t, _, offset, length in section_table(damaged)[0]:
        if t.to_bytes(4, "little") == tag:
            damaged[offset + length // 2] ^= 0x08
            return bytes(damaged)
    raise AssertionError(f"no section {tag}")


@pytest.mark.parametrize("kind,quant,tag", [("hnsw", "f32", b"HED0"), ("hnsw", "f32", b"LNK0"), ("flat", "f32", b"CODS"),
                                            ("flat", "lvq8", b"CODS"), ("flat", "binary", b"CODS")])
def test_a_mapped_file_damaged_where_it_is_used_in_place_is_not_copied(kind, quant, tag, tmp_path):
    # A file mapped without verify is used in place unchecked (that is what mapping is for). Saving
    # or pickling that index wrote those bytes with fresh checksums: a flipped bit became a valid
    # file (a vector off by 0.6 on a full load), or a file no load accepted. Now the copy compares
    # them with the checksums the mapped file holds. (Flat codes padded in memory, lvq8's and
    # binary's here, were copied out of a mapped file, checked, until format 4 stored them padded.)
    x = np.random.default_rng(0).standard_normal((500, 16)).astype(np.float32)
    index = vidx.Index(16, "l2", kind=kind, quant=quant)
    index.add(x, progress=False)
    good, damaged = tmp_path / "good.vidx", tmp_path / "damaged.vidx"
    index.save(good)
    damaged.write_bytes(flip_a_bit(good.read_bytes(), tag))
    with pytest.raises(OSError, match="checksum"):
        vidx.load(damaged)
    mapped = vidx.load(damaged, mmap=True)
    copy = tmp_path / "copy.vidx"
    with pytest.raises(OSError, match=f"checksum mismatch in section '{tag.decode()}'"):
        mapped.save(copy)
    assert not copy.exists()
    with pytest.raises(OSError, match="checksum mismatch"):
        pickle.dumps(mapped)
    # An undamaged mapped file copies as before.
    vidx.load(good, mmap=True).save(copy)
    assert np.array_equal(vidx.load(copy).search(x[:20], k=3)[1], index.search(x[:20], k=3)[1])


@pytest.mark.parametrize("M, forged, message", [(12, 200_000, "not an automatic default"),
                                                 (16, 5, "implausible degree check"),
                                                 (16, 2**40, "implausible degree check")])
def test_a_forged_degree_check_is_refused(M, forged, message):
    # DCHK: the rows an automatic M that chose the default chose from (it chooses again as the index
    # grows); only a default M holds one, and only from the 100,000 rows a first choice takes.
    idx = vidx.Index(8, "l2", M=M)
    idx.add(np.random.default_rng(0).standard_normal((120, 8)).astype(np.float32))
    data = bytearray(idx.to_bytes())
    assert section_bytes(data, b"DCHK") == bytes(8)  # an M given is never chosen again

    def forge(view):
        struct.pack_into("<Q", view, 0, forged)
    with pytest.raises(ValueError, match=message):
        vidx.from_bytes(rewrite_section(data, b"DCHK", forge))
