"""Persistence for services: to_bytes/from_bytes, pickle and copy, and read-only mapped loads."""
import copy
import os
import pickle
import struct
import sys

import numpy as np
import pytest

import vidx
from conftest import clustered

DIM = 16
CODECS = ("none", "f16", "f32_split", "f32_sketch", "lvq8", "lvq4", "lvq4x4", "lvq4x8", "lvq8x8", "binary", "binary_rot", "rabitq")


@pytest.fixture(scope="module")
def data():
    both = clustered(1300, DIM, seed=11)
    return both[:1200], both[1200:]


def build(kind, x, **options):
    idx = vidx.Index(DIM, kind=kind, seed=4, **({"M": 8, "ef_construction": 40} if kind == "hnsw" else {}), **options)
    idx.add(x, ids=np.arange(len(x)) * 7 + 3)
    return idx


def assert_same_answers(a, b, q, k=8):
    assert (len(a), a.dim, a.metric, a.kind) == (len(b), b.dim, b.metric, b.kind)
    assert b.params == {**a.params, "threads": b.params["threads"]}
    D1, I1 = a.search(q, k)
    D2, I2 = b.search(q, k)
    np.testing.assert_array_equal(I1, I2)
    np.testing.assert_array_equal(D1, D2)


@pytest.fixture(scope="module")
def hnsw(data):
    return build("hnsw", data[0])


# ---- to_bytes / from_bytes ---------------------------------------------------------------

@pytest.mark.parametrize("kind", ["hnsw", "flat"])
@pytest.mark.parametrize("quant", CODECS)
def test_bytes_round_trip_every_codec(data, kind, quant):
    x, q = data
    idx = build(kind, x, quant=quant)
    raw = idx.to_bytes()
    assert isinstance(raw, bytes) and raw[:8] == b"\x89VIDX\r\n\x1a"
    assert_same_answers(idx, vidx.from_bytes(raw), q)


@pytest.mark.parametrize("kind", ["hnsw", "flat"])
def test_bytes_keep_vectors_and_metrics(data, kind):
    x, q = data
    for metric in ("ip", "cosine"):
        idx = vidx.Index(DIM, metric, kind=kind, quant="lvq4", keep_vectors=True, seed=1)
        idx.add(x)
        assert_same_answers(idx, vidx.from_bytes(idx.to_bytes()), q)


def test_bytes_equal_the_saved_file(hnsw, tmp_path):
    hnsw.save(tmp_path / "a.vidx")
    assert (tmp_path / "a.vidx").read_bytes() == hnsw.to_bytes()
    # and any buffer of those bytes loads
    raw = hnsw.to_bytes()
    for buf in (bytearray(raw), memoryview(raw), np.frombuffer(raw, np.uint8)):
        assert len(vidx.from_bytes(buf)) == len(hnsw)


def test_spann_bytes_round_trip_refer_to_the_posting_file(data, tmp_path):
    x, q = data
    idx = vidx.Index(DIM, kind="spann", path=tmp_path / "p.postings", head_ratio=0.1, seed=2)
    idx.add(x, progress=False)
    raw = idx.to_bytes()
    assert os.path.getsize(tmp_path / "p.postings") > 0
    again = vidx.from_bytes(raw)
    assert again.posting_path == idx.posting_path and again.heads == idx.heads
    assert_same_answers(idx, again, q)
    assert_same_answers(idx, pickle.loads(pickle.dumps(idx)), q)
    os.remove(tmp_path / "p.postings")  # the posting file is not inside the bytes
    with pytest.raises(OSError):
        vidx.from_bytes(raw)


def test_empty_index_round_trips():
    idx = vidx.Index(DIM)
    again = vidx.from_bytes(idx.to_bytes())
    assert len(again) == 0 and again.kind == "hnsw"
    again.add(np.ones((3, DIM), np.float32))
    assert len(again) == 3 and len(idx) == 0


# ---- bad bytes -----------------------------------------------------------------------------

def test_truncated_bytes(hnsw):
    raw = hnsw.to_bytes()
    for n in (0, 5, 12, 100, len(raw) // 2, len(raw) - 1):
        with pytest.raises(ValueError, match="truncated"):
            vidx.from_bytes(raw[:n])


def test_flipped_byte_fails_a_checksum(hnsw):
    raw = bytearray(hnsw.to_bytes())
    for at in (40, len(raw) // 3, len(raw) - 10):
        bad = bytearray(raw)
        bad[at] ^= 0x20
        with pytest.raises(ValueError, match="checksum|corrupted"):
            vidx.from_bytes(bytes(bad))


def test_newer_version_and_foreign_bytes(hnsw):
    from test_files import _crc32c
    raw = bytearray(hnsw.to_bytes())
    (version, header_size) = struct.unpack_from("<II", raw, 8)
    struct.pack_into("<I", raw, 8, version + 1000)  # files are written as the oldest version that reads them
    struct.pack_into("<I", raw, header_size - 4, _crc32c(bytes(raw[:header_size - 4])))  # only the version is off
    with pytest.raises(ValueError, match="newer than this library"):
        vidx.from_bytes(bytes(raw))
    with pytest.raises(ValueError, match="not a vidx index"):
        vidx.from_bytes(b"PK\x03\x04" + bytes(100))
    with pytest.raises(TypeError):
        vidx.from_bytes("not bytes")


# ---- pickle / copy -----------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["hnsw", "flat"])
def test_copies_are_independent(data, kind):
    x, q = data
    idx = build(kind, x[:1000])
    before = idx.search(q, 5)
    extra = x[1000:]
    for make in (copy.copy, copy.deepcopy, lambda i: pickle.loads(pickle.dumps(i))):
        twin = make(idx)
        assert type(twin) is vidx.Index and twin is not idx
        assert_same_answers(idx, twin, q)
        twin.add(extra, ids=np.arange(len(extra)) + 10**6)
        assert len(twin) == len(idx) + len(extra)
        after = idx.search(q, 5)
        np.testing.assert_array_equal(before[1], after[1])  # the original did not change
        assert len(idx) == 1000
        assert (twin.search(q, 5)[1] >= 10**6).any()  # the copy did


def test_pickle_inside_a_container(hnsw, data):
    box = pickle.loads(pickle.dumps({"index": hnsw, "n": 1}, protocol=pickle.HIGHEST_PROTOCOL))
    assert_same_answers(hnsw, box["index"], data[1])


# ---- mmap ----------------------------------------------------------------------------------

@pytest.mark.parametrize("kind,quant", [("hnsw", "none"), ("hnsw", "lvq4x8"), ("hnsw", "binary"), ("flat", "none"),
                                        ("flat", "f16"), ("flat", "lvq4x4")])
def test_mmap_searches_identically(data, tmp_path, kind, quant):
    x, q = data
    idx = build(kind, x, quant=quant, keep_vectors=(quant == "lvq4x8"))
    idx.save(tmp_path / "i.vidx")
    mapped = vidx.load(tmp_path / "i.vidx", mmap=True)
    assert mapped.read_only and not idx.read_only
    assert_same_answers(idx, mapped, q)
    verified = vidx.load(tmp_path / "i.vidx", mmap=True, verify=True)
    assert_same_answers(idx, verified, q)


def test_mmap_refuses_writes_and_saves_a_copy(hnsw, data, tmp_path):
    x, q = data
    hnsw.save(tmp_path / "i.vidx")
    mapped = vidx.load(tmp_path / "i.vidx", mmap=True)
    with pytest.raises(ValueError, match="read-only: loaded with mmap=True"):
        mapped.add(x[:3], ids=[10**7, 10**7 + 1, 10**7 + 2])
    for write in ("remove", "upsert", "compact"):
        method = getattr(mapped._impl, write, None)  # public once the living-index work lands
        if method is None:
            continue
        args = {"remove": ([3],), "upsert": (x[:1], [3]), "compact": ()}[write]
        with pytest.raises(ValueError, match="read-only"):
            method(*args)
    assert len(mapped) == len(hnsw)
    mapped.save(tmp_path / "copy.vidx")  # an ordinary, writable copy
    again = vidx.load(tmp_path / "copy.vidx")
    assert not again.read_only
    assert_same_answers(hnsw, again, q)
    again.add(x[:2], ids=[10**8, 10**8 + 1])
    # pickling a mapped index gives a writable in-memory copy
    twin = pickle.loads(pickle.dumps(mapped))
    assert not twin.read_only
    assert_same_answers(hnsw, twin, q)


def test_mmap_save_over_its_own_file(hnsw, data, tmp_path):
    path = tmp_path / "i.vidx"
    hnsw.save(path)
    mapped = vidx.load(path, mmap=True)
    mapped.save(path)  # atomic replace: the mapping keeps the old file's pages
    assert_same_answers(hnsw, mapped, data[1])
    assert_same_answers(hnsw, vidx.load(path), data[1])


def test_mmap_corruption(hnsw, tmp_path):
    path = tmp_path / "i.vidx"
    hnsw.save(path)
    raw = bytearray(path.read_bytes())
    # The header is always verified.
    bad = bytearray(raw)
    bad[20] ^= 1
    path.write_bytes(bytes(bad))
    with pytest.raises(OSError, match="checksum"):
        vidx.load(path, mmap=True)
    # A byte in the large level-0 records: found by verify (and by a plain load).
    bad = bytearray(raw)
    bad[len(raw) // 2] ^= 0x10
    path.write_bytes(bytes(bad))
    with pytest.raises(OSError, match="checksum"):
        vidx.load(path, mmap=True, verify=True)
    with pytest.raises(OSError, match="checksum"):
        vidx.verify(path)
    with pytest.raises(OSError, match="checksum"):
        vidx.load(path)
    # Sections copied into memory (ids, levels, upper links) are verified as they are read.
    ids_at = _section_offset(raw, b"IDS_")
    bad = bytearray(raw)
    bad[ids_at + 9] ^= 0x04
    path.write_bytes(bytes(bad))
    with pytest.raises(OSError, match="section 'IDS_' failed its checksum"):
        vidx.load(path, mmap=True)
    path.write_bytes(bytes(raw[: len(raw) - 7]))
    with pytest.raises(OSError, match="truncated"):
        vidx.load(path, mmap=True)
    path.write_bytes(bytes(raw))
    assert vidx.verify(path) is None


def test_mmap_arguments(hnsw, tmp_path):
    hnsw.save(tmp_path / "i.vidx")
    with pytest.raises(ValueError, match="verify"):
        vidx.load(tmp_path / "i.vidx", verify=True)
    with pytest.raises(TypeError):
        vidx.load(tmp_path / "i.vidx", mmap="yes")
    with pytest.raises(FileNotFoundError):
        vidx.load(tmp_path / "missing.vidx", mmap=True)


# ---- format version 1 files still load ----------------------------------------------------

def _section_offset(raw, tag):
    (kind_len,) = struct.unpack_from("<I", raw, 28)
    (count,) = struct.unpack_from("<I", raw, 32 + kind_len)
    for i in range(count):
        t, _, offset, _ = struct.unpack_from("<IIQQ", raw, 36 + kind_len + 24 * i)
        if t.to_bytes(4, "little") == tag:
            return offset
    raise KeyError(tag)


def _sections(raw):
    (header_size,) = struct.unpack_from("<I", raw, 12)
    (kind_len,) = struct.unpack_from("<I", raw, 28)
    kind = raw[32:32 + kind_len]
    (count,) = struct.unpack_from("<I", raw, 32 + kind_len)
    table = 36 + kind_len
    out = []
    for i in range(count):
        tag, _, offset, length = struct.unpack_from("<IIQQ", raw, table + 24 * i)
        out.append((tag.to_bytes(4, "little"), bytes(raw[offset:offset + length])))
    return kind, out


def _write_v1(kind, sections, version=1):
    """An index file as format version 1 (or `version`) wrote it (same container)."""
    from test_files import _crc32c
    header_size = 40 + len(kind) + 24 * len(sections)
    body, entries, at = bytearray(), [], header_size
    for tag, payload in sections:
        pad = (-at) % 64
        body += bytes(pad)
        at += pad
        entries.append(struct.pack("<IIQQ", int.from_bytes(tag, "little"), _crc32c(payload), at, len(payload)))
        body += payload
        at += len(payload)
    head = b"\x89VIDX\r\n\x1a" + struct.pack("<IIIQI", version, header_size, 0, at, len(kind)) + kind
    head += struct.pack("<I", len(sections)) + b"".join(entries)
    head += struct.pack("<I", _crc32c(head))
    return head + bytes(body)


def _today_hnsw_file(idx):
    """(kind, sections, by tag, (count, M0), the heads' stride and size) of an HNSW index saved today."""
    kind, sections = _sections(idx.to_bytes())
    by_tag = dict(sections)
    head_stride, head_size = struct.unpack("<2Q", by_tag[b"HLAY"])
    count, _, m0 = struct.unpack_from("<3Q", by_tag[b"HNSW"])
    return kind, sections, by_tag, (count, m0), (head_stride, head_size)


@pytest.mark.parametrize("quant", ["none", "lvq4x8"])
def test_version1_hnsw_file_loads(data, tmp_path, quant):
    """Version 1 split level-0 records into whole codes (CODE) and links (LNK0)."""
    x, q = data
    idx = build("hnsw", x, quant=quant)
    kind, sections, by_tag, (count, _), (head_stride, head_size) = _today_hnsw_file(idx)
    heads, tails = by_tag[b"HED0"], by_tag[b"TAIL"]
    tail_size = len(tails) // count
    codes = b"".join(heads[s * head_stride:s * head_stride + head_size] + tails[s * tail_size:(s + 1) * tail_size]
                     for s in range(count))
    v1 = []
    for tag, payload in sections:
        if tag == b"HED0":
            v1.append((b"CODE", codes))
        elif tag not in (b"HLAY", b"TAIL"):
            v1.append((tag, payload))  # LNK0: version 1 lists are laid out as today's
    (tmp_path / "v1.vidx").write_bytes(_write_v1(kind, v1))
    assert_same_answers(idx, vidx.load(tmp_path / "v1.vidx"), q)
    assert_same_answers(idx, vidx.load(tmp_path / "v1.vidx", mmap=True), q)  # copied: not in memory layout


@pytest.mark.parametrize("quant", ["none", "lvq8", "lvq4x8"])
def test_version2_hnsw_file_loads(data, tmp_path, quant):
    """Version 2 kept each level-0 head and list in one record (REC0, laid out as RLAY says)."""
    x, q = data
    idx = build("hnsw", x, quant=quant)
    kind, sections, by_tag, (count, m0), (head_stride, head_size) = _today_hnsw_file(idx)
    heads, lists = by_tag[b"HED0"], by_tag[b"LNK0"]
    list_bytes = 4 * (m0 + 1)
    links_offset = (head_size + 3) // 4 * 4
    stride = (links_offset + list_bytes + 15) // 16 * 16
    records = b"".join((heads[s * head_stride:s * head_stride + head_size].ljust(links_offset, b"\0") +
                        lists[s * list_bytes:(s + 1) * list_bytes]).ljust(stride, b"\0") for s in range(count))
    v2 = []
    for tag, payload in sections:
        if tag == b"HED0":
            v2 += [(b"RLAY", struct.pack("<3Q", stride, links_offset, head_size)), (b"REC0", records)]
        elif tag not in (b"HLAY", b"LNK0"):
            v2.append((tag, payload))
    (tmp_path / "v2.vidx").write_bytes(_write_v1(kind, v2, version=2))
    assert_same_answers(idx, vidx.load(tmp_path / "v2.vidx"), q)
    assert_same_answers(idx, vidx.load(tmp_path / "v2.vidx", mmap=True), q)  # copied: not in memory layout


@pytest.mark.parametrize("quant", ["none", "lvq8", "binary"])
def test_version3_flat_file_loads(data, tmp_path, quant):
    """Version 3 stored flat codes back to back (CODE); version 4 as memory pads them (CODS, CLAY)."""
    x, q = data
    idx = build("flat", x, quant=quant)
    kind, sections = _sections(idx.to_bytes())
    by_tag = dict(sections)
    stride, code_size = struct.unpack("<2Q", by_tag[b"CLAY"])
    codes = by_tag[b"CODS"]
    packed = b"".join(codes[s:s + code_size] for s in range(0, len(codes), stride))
    v3 = [(b"CODE", packed) if tag == b"CODS" else (tag, payload) for tag, payload in sections if tag != b"CLAY"]
    (tmp_path / "v3.vidx").write_bytes(_write_v1(kind, v3, version=3))
    for again in (vidx.load(tmp_path / "v3.vidx"), vidx.load(tmp_path / "v3.vidx", mmap=True)):
        assert_same_answers(idx, again, q)
        again_bytes = dict(_sections(again.to_bytes())[1])
        assert again_bytes[b"CODS"] == codes  # saved again in today's layout, byte for byte


def test_files_are_written_as_the_oldest_version_that_reads_them(data, hnsw):
    # Format 4 changed only flat files: an HNSW file stays version 3, which older libraries read.
    x, _ = data
    assert struct.unpack_from("<I", hnsw.to_bytes(), 8)[0] == 3
    assert struct.unpack_from("<I", build("flat", x[:50]).to_bytes(), 8)[0] == 4


@pytest.mark.parametrize("stride, message", [(7, "code layout stride 7 is not within"),
                                             (10 ** 9, "code layout stride 1000000000 is not within")])
def test_flat_code_layout_that_does_not_fit_is_refused(data, stride, message):
    x, _ = data
    kind, sections = _sections(build("flat", x, quant="lvq8").to_bytes())
    _, code_size = struct.unpack("<2Q", dict(sections)[b"CLAY"])
    forged = [(tag, struct.pack("<2Q", stride, code_size) if tag == b"CLAY" else payload) for tag, payload in sections]
    with pytest.raises(ValueError, match=message):
        vidx.from_bytes(_write_v1(kind, forged, version=4))


@pytest.mark.parametrize("stored, message", [((5, 5), "id 5 is stored twice"), ((7, -3), "holds the id -3")])
def test_ids_section_with_a_duplicate_or_negative_id_is_refused(stored, message):
    # A file whose ids section has valid checksums but impossible content (a writer bug, not
    # bit rot): loading refuses it by name instead of building a map with one id at two slots.
    from test_files import _crc32c
    from test_corruption import regions
    idx = vidx.Index(4, kind="flat")
    idx.add(np.eye(4, dtype=np.float32), ids=np.array([5, 6, 7, 8]))
    raw = bytearray(idx.to_bytes())
    (_, start, end), = [r for r in regions(raw) if r[0] == "IDS_"]
    struct.pack_into("<qq", raw, start, *stored)
    header_size = struct.unpack_from("<I", raw, 12)[0]
    kind_len = struct.unpack_from("<I", raw, 28)[0]
    table = 36 + kind_len
    for i in range(struct.unpack_from("<I", raw, 32 + kind_len)[0]):
        tag, _, offset, length = struct.unpack_from("<IIQQ", raw, table + 24 * i)
        if offset == start:
            struct.pack_into("<I", raw, table + 24 * i + 4, _crc32c(bytes(raw[start:end])))
    struct.pack_into("<I", raw, header_size - 4, _crc32c(bytes(raw[:header_size - 4])))
    with pytest.raises(ValueError, match=message):
        vidx.from_bytes(bytes(raw))


@pytest.mark.skipif(sys.platform != "linux", reason="file names that are not UTF-8 (Linux takes any bytes)")
def test_file_names_that_are_not_utf8_work_as_str_and_as_bytes(tmp_path):
    # os.listdir gives such a name as a str with surrogate escapes; save, load, verify and SPANN's
    # path used to refuse that str with pybind11's "incompatible function arguments".
    x = np.random.default_rng(0).standard_normal((300, 8)).astype(np.float32)
    index = vidx.Index(8)
    index.add(x, progress=False)
    name = os.path.join(str(tmp_path), os.fsdecode(b"index-\xff.vidx"))
    index.save(name)
    assert os.listdir(tmp_path) == [os.path.basename(name)]
    vidx.verify(name)
    assert len(vidx.load(name)) == 300 and len(vidx.load(os.fsencode(name), mmap=True)) == 300
    with pytest.raises(FileNotFoundError, match=r"missing-\udcfe"):
        vidx.load(os.path.join(str(tmp_path), os.fsdecode(b"missing-\xfe.vidx")))
    posting = os.path.join(str(tmp_path), os.fsdecode(b"postings-\xfd.bin"))
    spann = vidx.Index(8, kind="spann", path=posting)
    spann.add(x, progress=False)
    assert spann.posting_path == posting and spann.params["path"] == posting
    spann.save(os.path.join(str(tmp_path), os.fsdecode(b"spann-\xfc.vidx")))
    assert vidx.load(os.path.join(str(tmp_path), os.fsdecode(b"spann-\xfc.vidx"))).posting_path == posting


@pytest.mark.skipif(sys.platform != "linux", reason="file names that are not UTF-8 (Linux takes any bytes)")
def test_vector_files_whose_names_are_not_utf8_can_be_added(tmp_path):
    # add(path) turned the name into UTF-8 before C++ opened it, so a name os.listdir gives with
    # surrogate escapes failed to convert; .npy and .fvecs go to C++, .hdf5 is read in place there.
    h5py = pytest.importorskip("h5py")
    x = np.random.default_rng(1).standard_normal((200, 8)).astype(np.float32)
    npy = os.path.join(str(tmp_path), os.fsdecode(b"rows-\xff.npy"))
    np.save(npy, x)
    fvecs = os.path.join(str(tmp_path), os.fsdecode(b"rows-\xfe.fvecs"))
    with open(fvecs, "wb") as f:
        np.hstack([np.full((200, 1), 8, np.int32).view(np.float32), x]).tofile(f)
    hdf5 = os.path.join(str(tmp_path), os.fsdecode(b"rows-\xfd.hdf5"))
    with h5py.File(os.fsencode(hdf5), "w") as f:
        f.create_dataset("train", data=x)
    for path in (npy, os.fsencode(npy), fvecs, hdf5):
        index = vidx.Index(8, kind="flat")
        index.add(path, progress=False)
        assert len(index) == 200
        np.testing.assert_array_equal(index.get(np.arange(200))[0], x)
    with pytest.raises(FileNotFoundError, match=r"missing-\udcfc"):
        vidx.Index(8).add(os.path.join(str(tmp_path), os.fsdecode(b"missing-\xfc.npy")), progress=False)
