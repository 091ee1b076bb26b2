# Section 52's same.py and same2.py (graph hashes of feeds not in order, and one in order), hashing every section of
# to_bytes() but RVST, the revisit cursor that files carry since 95d0502 (so whole files differ by that section).
import hashlib, os, sys
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "tests"))
from test_corruption import section_table


def h(idx):
    data = idx.to_bytes()
    digest = hashlib.sha1()
    for _, tag, _, offset, length in section_table(data)[0]:
        if tag.to_bytes(4, "little") != b"RVST":
            digest.update(data[offset:offset + length])
    return digest.hexdigest()[:12]


for name in ("same.py", "same2.py"):
    path = os.path.join(HERE, "..", "graph_session52", name)
    source = open(path).read().replace("def h(idx): return hashlib.sha1(idx.to_bytes()).hexdigest()[:12]", "")
    exec(compile(source, path, "exec"), {"h": h, "__name__": "__main__"})
