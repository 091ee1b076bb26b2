import os
import struct, numpy as np, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tests"))
from test_corruption import section_table
def level0(idx):
    data = idx.to_bytes()
    secs = {t.to_bytes(4, "little"): (o, l) for _, t, _, o, l in section_table(data)[0]}
    o, l = secs[b"HNSW"]; count, M, M0 = struct.unpack_from("<QQQ", data, o)
    entry, levels = struct.unpack_from("<II", data, o + 24)
    o, l = secs[b"LNK0"]
    words = np.frombuffer(data, dtype=np.uint32, count=l // 4, offset=o).reshape(count, -1)
    lists = [words[i, 1:1 + words[i, 0]].copy() for i in range(count)]
    return lists, entry, levels, M0
