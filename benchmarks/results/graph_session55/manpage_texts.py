"""Chunks of real documents in document order: this machine's man pages, rendered and split.

Each page is a document; its chunks (paragraphs merged up to ~90 words) stay consecutive, pages in
name order, as a corpus of documents arrives. Writes JSON lines {page, chunk} to OUT.
"""
import gzip, json, os, re, subprocess, sys
from multiprocessing import Pool

MAN = "/usr/share/man"
WORDS = 90


def pages():
    out = []
    for sec in ("man1", "man3", "man5", "man7", "man8"):
        names = sorted(os.listdir(os.path.join(MAN, sec)))
        gc = [n for n in names if n.startswith("gcloud")]
        rest = [n for n in names if not n.startswith("gcloud")]
        keep_gc = set(gc[::12])  # the SDK's templated pages: one in twelve
        out += [os.path.join(MAN, sec, n) for n in names if n in keep_gc or n in set(rest)]
    return out


def render(path):
    try:
        text = subprocess.run(["man", "-l", path], capture_output=True, timeout=20,
                              env=dict(os.environ, MANWIDTH="200", MAN_KEEP_FORMATTING="0")).stdout
        text = subprocess.run(["col", "-bx"], input=text, capture_output=True, timeout=20).stdout.decode("utf-8", "replace")
    except Exception:
        return path, []
    lines = text.splitlines()[1:-1]  # header and footer lines
    paras, cur = [], []
    for ln in lines:
        s = ln.strip()
        if not s:
            if cur:
                paras.append(" ".join(cur)); cur = []
        else:
            cur.append(s)
    if cur:
        paras.append(" ".join(cur))
    chunks, buf = [], []
    for p in paras:
        words = p.split()
        if buf and len(buf) + len(words) > WORDS:
            chunks.append(" ".join(buf)); buf = []
        buf += words
        while len(buf) > 1.5 * WORDS:
            chunks.append(" ".join(buf[:WORDS])); buf = buf[WORDS:]
    if buf:
        chunks.append(" ".join(buf))
    chunks = [c for c in chunks if len(c.split()) >= 8]
    return path, chunks


if __name__ == "__main__":
    out = sys.argv[1]
    ps = pages()
    print(len(ps), "pages", file=sys.stderr)
    n = 0
    seen = set()
    with Pool(2) as pool, open(out, "w") as f:
        for path, chunks in pool.imap(render, ps, chunksize=16):
            for c in chunks:
                if c in seen:
                    continue
                seen.add(c)
                f.write(json.dumps({"page": os.path.relpath(path, MAN), "chunk": c}) + "\n")
                n += 1
    print(n, "chunks", file=sys.stderr)
