"""One adapter per library, so the runner treats vidx and its peers identically.

Every adapter takes a vidx metric name ("l2", "ip", "cosine") and answers:
  build(train, metric, M, efc, threads) -> seconds   construct and add everything with `threads` workers
  set_ef(ef)                                         search breadth for the following queries
  query_one(q, k) -> ids (k,)                        one query, one thread (latency mode)
  query_batch(Q, k, threads) -> ids (q, k)           all queries with `threads` workers
  memory_bytes() -> int | None                       the library's own count of its memory, if it has one
An adapter may take a variant (head_to_head's NAME:VARIANT), e.g. a quantizer: Adapter(variant).
Missing results are -1. Outside build and query_batch an adapter stays single-threaded, so query_one
measures one core. Libraries are imported only when an adapter is used, so a missing peer costs nothing.
"""
from __future__ import annotations

import importlib
from importlib import metadata
from time import perf_counter

import numpy as np


class Adapter:
    name = ""
    module = ""  # the import that must succeed for the adapter to be usable
    distribution = ""  # the installed package to ask for the version, where the module has no __version__
    VARIANTS: tuple[str, ...] = ()  # accepted NAME:VARIANT suffixes (e.g. a quantizer); none by default
    CHOOSES_M = False  # whether M=0 lets the library choose its own graph degree

    def __init__(self, variant: str | None = None):
        self.variant = self.check_variant(variant)

    @classmethod
    def check_variant(cls, variant: str | None) -> str | None:
        """variant itself when this adapter accepts it; ValueError naming the choices otherwise."""
        if variant is not None and variant not in cls.VARIANTS:
            choices = ", ".join(cls.VARIANTS) or "none"
            raise ValueError(f"unknown variant {variant!r} for {cls.name} (choices: {choices})")
        return variant

    @classmethod
    def available(cls) -> bool:
        try:
            importlib.import_module(cls.module)
        except ImportError:
            return False
        return True

    @classmethod
    def version(cls) -> str:
        if cls.distribution:
            try:
                return metadata.version(cls.distribution)
            except metadata.PackageNotFoundError:
                return "unknown"
        return str(getattr(importlib.import_module(cls.module), "__version__", "unknown"))

    def memory_bytes(self) -> int | None:
        return None

    # Libraries without a cosine metric get unit rows and inner product (or L2), which rank the
    # same way; their build sets this from the metric.
    _normalize = False

    def _prepare(self, x):
        """Rows (or one query) as the library takes them: float32, contiguous, unit length for cosine."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        return _unit_rows(x) if self._normalize else x

    def close(self) -> None:
        """Drop the index so its memory is freed before the next library is measured."""
        self.index = None


def _unit_rows(x: np.ndarray) -> np.ndarray:
    """x with each row scaled to length 1 (zero rows stay zero), float32 and contiguous: for
    libraries without a cosine metric, where inner product on unit vectors ranks the same way.
    One row (a single query, inside a peer's timed call) takes a shorter path: 1.9 us against
    4.7 us at 384 dimensions, so the peers are not charged numpy's general-case overhead."""
    if x.ndim == 1 or len(x) == 1:
        row = np.ascontiguousarray(x, dtype=np.float32)
        flat = row.reshape(-1)
        norm = float(np.sqrt(np.dot(flat, flat)))
        return row / np.float32(norm) if norm else row
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return np.ascontiguousarray(x / np.where(norms == 0, 1, norms), dtype=np.float32)


def _pad(ids, k: int) -> np.ndarray:
    out = np.full(k, -1, dtype=np.int64)
    out[: len(ids)] = ids
    return out


KEEP_VECTORS_SUFFIX = "+f32"


def vidx_quant_and_keep(spec: str | None) -> tuple[str | None, bool]:
    """A vidx quant as the benchmarks spell it -> (quant=, keep_vectors=). "lvq8+f32" keeps the
    float32 vectors too: the walk reads the codes and the candidates are re-ranked exactly, so
    results are float32's. None is the index's default quant (None: pass no quant=)."""
    if spec is None:
        return None, False
    return spec.removesuffix(KEEP_VECTORS_SUFFIX), spec.endswith(KEEP_VECTORS_SUFFIX)


class VidxHNSW(Adapter):
    """vidx HNSW; the variant is its quant= (plain "vidx" is HNSW's default, "f32_split";
    "vidx:f32" plain float32, "vidx:lvq8" LVQ-8 codes, ...), with an optional "+f32" suffix
    (vidx_quant_and_keep)."""
    name = "vidx"
    module = "vidx"
    CHOOSES_M = True  # M=0: vidx's automatic M (24 on glove6b-50)

    @classmethod
    def check_variant(cls, variant):
        if variant is not None:
            from vidx import _codecs
            _codecs.check_quant(vidx_quant_and_keep(variant)[0])  # ValueError listing the registry's codecs
        return variant

    def build(self, train, metric, M, efc, threads):
        import vidx
        start = perf_counter()
        quant, keep_vectors = vidx_quant_and_keep(self.variant)
        codec = {} if quant is None else {"quant": quant}
        self.index = vidx.Index(train.shape[1], metric=metric, kind="hnsw", M=M, ef_construction=efc,
                                seed=0, threads=threads, keep_vectors=keep_vectors, **codec)
        self.index.add(train)
        seconds = perf_counter() - start
        self.index.threads = 1
        self.ef = None
        return seconds

    def set_ef(self, ef):
        self.ef = ef

    def query_one(self, q, k):
        return self.index.search(q, k=k, ef=self.ef)[1][0]

    def query_batch(self, Q, k, threads):
        self.index.threads = threads
        try:
            return self.index.search(Q, k=k, ef=self.ef)[1]
        finally:
            self.index.threads = 1

    def memory_bytes(self):
        return int(self.index.memory_usage())


class Hnswlib(Adapter):
    name = "hnswlib"
    module = "hnswlib"
    distribution = "hnswlib"  # no __version__
    SPACE = {"l2": "l2", "ip": "ip", "cosine": "cosine"}

    def build(self, train, metric, M, efc, threads):
        import hnswlib
        start = perf_counter()
        self.index = hnswlib.Index(space=self.SPACE[metric], dim=train.shape[1])
        self.index.init_index(max_elements=len(train), ef_construction=efc, M=M, random_seed=0)
        self.index.add_items(train, np.arange(len(train)), num_threads=threads)
        seconds = perf_counter() - start
        self.index.set_num_threads(1)
        return seconds

    def set_ef(self, ef):
        self.index.set_ef(ef)

    def query_one(self, q, k):
        return self.index.knn_query(q, k=k, num_threads=1)[0][0]

    def query_batch(self, Q, k, threads):
        return self.index.knn_query(Q, k=k, num_threads=threads)[0]


class FaissHNSW(Adapter):
    """faiss HNSW: `HNSW{M},Flat`, or with variant "sq8" `HNSW{M},SQ8` (IndexHNSWSQ, 8-bit scalar
    codes trained on the data, no re-rank): the two faiss graph indexes the issue names."""
    name = "faiss"
    module = "faiss"
    VARIANTS = ("sq8",)

    def build(self, train, metric, M, efc, threads):
        import faiss
        self._faiss = faiss
        self._omp_default = faiss.omp_get_max_threads()
        # faiss has no cosine metric: inner product on unit vectors ranks the same way.
        self._normalize = metric == "cosine"
        kind = faiss.METRIC_L2 if metric == "l2" else faiss.METRIC_INNER_PRODUCT
        faiss.omp_set_num_threads(threads)
        start = perf_counter()
        if self.variant == "sq8":
            self.index = faiss.IndexHNSWSQ(train.shape[1], faiss.ScalarQuantizer.QT_8bit, M, kind)
        else:
            self.index = faiss.IndexHNSWFlat(train.shape[1], M, kind)
        self.index.hnsw.efConstruction = efc
        data = self._prepare(train)
        self.index.train(data)  # the SQ8 ranges; a no-op for Flat
        self.index.add(data)
        seconds = perf_counter() - start
        faiss.omp_set_num_threads(1)
        return seconds

    def _prepare(self, x):
        x = np.ascontiguousarray(x, dtype=np.float32).reshape(-1, self.index.d)
        return _unit_rows(x) if self._normalize else x

    def set_ef(self, ef):
        self.index.hnsw.efSearch = ef

    def query_one(self, q, k):
        # Normalising inside the timed call is the real cost of cosine search with faiss.
        return self.index.search(self._prepare(q), k)[1][0]

    def query_batch(self, Q, k, threads):
        self._faiss.omp_set_num_threads(threads)
        try:
            return self.index.search(self._prepare(Q), k)[1]
        finally:
            self._faiss.omp_set_num_threads(1)

    def close(self):
        if getattr(self, "_faiss", None) is not None:
            self._faiss.omp_set_num_threads(self._omp_default)
        super().close()


class USearch(Adapter):
    name = "usearch"
    module = "usearch.index"
    METRIC = {"l2": "l2sq", "ip": "ip", "cosine": "cos"}

    @classmethod
    def version(cls) -> str:
        return str(getattr(importlib.import_module("usearch"), "__version__", "unknown"))

    def build(self, train, metric, M, efc, threads):
        from usearch.index import Index
        start = perf_counter()
        # dtype is explicit: usearch may otherwise pick a compressed scalar type for the vectors.
        self.index = Index(ndim=train.shape[1], metric=self.METRIC[metric], dtype="f32",
                           connectivity=M, expansion_add=efc)
        self.index.add(np.arange(len(train), dtype=np.uint64), train, threads=threads)
        return perf_counter() - start

    def set_ef(self, ef):
        self.index.expansion_search = ef

    def query_one(self, q, k):
        return _pad(self.index.search(q, k, threads=1).keys, k)

    def query_batch(self, Q, k, threads):
        found = self.index.search(Q, k, threads=threads)
        ids = found.keys.astype(np.int64)
        ids[np.arange(k)[None, :] >= found.counts[:, None]] = -1  # slots past each row's count are junk
        return ids

    def memory_bytes(self):
        return int(self.index.memory_usage)


class Glass(Adapter):
    """pyglass-portable (imported as glass): HNSW built with R = 2M level-0 links. Plain "glass"
    searches in float32 (FP32 quantizer, no refine): a float32 graph peer. Variant "sq8" is glass's
    own recommended fast setting: the graph searched on SQ8U codes, results refined with FP32."""
    name = "glass"
    module = "glass"
    distribution = "pyglass-portable"
    VARIANTS = ("sq8",)

    def build(self, train, metric, M, efc, threads):
        import glass
        self._glass = glass
        # glass has no cosine metric: inner product on unit vectors ranks the same way.
        self._normalize = metric == "cosine"
        self._metric = "L2" if metric == "l2" else "IP"
        glass.set_num_threads(threads)
        start = perf_counter()
        data = self._prepare(train)
        graph = glass.Index("HNSW", metric=self._metric, R=2 * M, L=efc).build(data)
        if self.variant == "sq8":
            self.index = glass.Searcher(graph, data, self._metric, "SQ8U", "FP32")
        else:
            self.index = glass.Searcher(graph, data, self._metric, "FP32")
        seconds = perf_counter() - start
        self.index.optimize(1)  # glass's own prefetch tuning for search, not counted as build
        glass.set_num_threads(1)
        return seconds

    def set_ef(self, ef):
        self.index.set_ef(ef)

    def query_one(self, q, k):
        return np.asarray(self.index.search(self._prepare(q), k)[0], dtype=np.int64).reshape(-1)[:k]

    def query_batch(self, Q, k, threads):
        return np.asarray(self.index.batch_search(self._prepare(Q), k, threads)[0], dtype=np.int64).reshape(len(Q), k)


def _rows_on_threads(search_one, Q, threads) -> np.ndarray:
    """search_one over the rows of Q on `threads` Python threads, for libraries without a batch
    call (their search releases the GIL, so the threads run in parallel)."""
    if threads <= 1:
        return np.vstack([search_one(q) for q in Q])
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(threads) as pool:
        return np.vstack(list(pool.map(search_one, Q)))


class ScaNN(Adapter):
    """ScaNN: a k-means tree over num_leaves = 2 sqrt(n) partitions, asymmetric hashing with 2
    dimensions per 4-bit block, anisotropic loss (threshold 0.3) for dot products, then an exact
    float32 re-rank of the best candidates: ann-benchmarks' ScaNN setup, at the tree size and
    threshold where benchmarks/scann_frontier.py found ScaNN's best curve (graph.md section 31: on
    glove6b-50 1.73x hnswlib single-thread at recall 0.95 with 1500 leaves and threshold 0.3-0.4,
    against 1.48x with ScaNN's docs' sqrt(n) leaves and threshold 0.2; trees of about 2 sqrt(n)
    leaves, 480 on wordnet-minilm and 500 on fashion-mnist, within 6% of the best tree measured
    there). Cosine: unit rows, dot product.

    The sweep's one integer `ef` drives both search knobs, so that effort grows as ef does:
      leaves_to_search          = clip(ceil(num_leaves * ef / 1024), 1, num_leaves)
      pre_reorder_num_neighbors = max(k, 2 * ef)   candidates re-ranked exactly
    (ef 64 on 60,000 points: 31 of 490 leaves and 128 re-ranked; ef 512: half the leaves)."""
    name = "scann"
    module = "scann"
    distribution = "scann"

    def build(self, train, metric, M, efc, threads):
        # M and efc are graph settings with no ScaNN counterpart.
        self._normalize = metric == "cosine"
        start = perf_counter()
        data = self._prepare(train)
        self.num_leaves = max(1, int(round(2 * np.sqrt(len(data)))))
        self.index = self.searcher(data, metric, self.num_leaves, threshold=0.3, threads=threads)
        seconds = perf_counter() - start
        self.index.set_num_threads(1)
        return seconds

    @staticmethod
    def searcher(data, metric, leaves, threshold, dims_per_block=2, threads=1):
        """A ScaNN searcher of `data` (unit rows for cosine) the ann-benchmarks way: a tree of
        `leaves` partitions, AH codes of `dims_per_block` dimensions a 4-bit code with the
        anisotropic `threshold` (dot products only), an exact re-rank. benchmarks/scann_frontier.py
        builds it at other settings."""
        from scann import scann_ops_pybind
        measure = "squared_l2" if metric == "l2" else "dot_product"
        return (scann_ops_pybind.builder(data, 10, measure)
                .tree(num_leaves=leaves, num_leaves_to_search=max(1, leaves // 16), training_sample_size=len(data),
                      spherical=measure == "dot_product", quantize_centroids=True)
                .score_ah(dims_per_block,
                          anisotropic_quantization_threshold=threshold if measure == "dot_product" else float("nan"))
                .reorder(100)
                .set_n_training_threads(threads)
                .build())

    def set_ef(self, ef):
        self.leaves = int(min(self.num_leaves, max(1, -(-self.num_leaves * ef // 1024))))
        self.ef = ef

    def query_one(self, q, k):
        ids = self.index.search(self._prepare(q), k, max(k, 2 * self.ef), self.leaves)[0]
        return _pad(ids, k)

    def query_batch(self, Q, k, threads):
        self.index.set_num_threads(threads)
        try:
            ids, dist = self.index.search_batched_parallel(self._prepare(Q), k, max(k, 2 * self.ef), self.leaves)
        finally:
            self.index.set_num_threads(1)
        # A row with fewer than k found is padded with id 0 at distance NaN: -1, as query_one pads.
        return np.where(np.isnan(dist), -1, np.asarray(ids, dtype=np.int64))


class SVS(Adapter):
    """Intel's Scalable Vector Search (`scalable-vs`, imported as svs): a Vamana graph (one level,
    out-degree R = 2M, the bottom-level degree of an HNSW with M, as glass's and vsag's), built with
    SVS's default pruning (alpha 1.2 for L2, 0.95 for inner product) and search window efc. The
    variant picks SVS's storage: float32 (none) or its LVQ codes ("lvq8", "lvq4", and the two-level
    "lvq4x4", "lvq4x8", "lvq8x8": the graph searched on the primary codes, the candidates re-ranked
    with both levels). SVS builds LVQ from a file, so the rows are written to a temporary .fvecs,
    inside the timed build (a user holding a numpy array pays it too: 0.08 s of a 16 s build on wordnet-minilm).
    ef -> the search window; a window below k keeps a buffer of k (SVS's split buffer). Prefetching
    stays at SVS's defaults: its `experimental_calibrate` gave the same QPS at recall 0.95 on
    wordnet-minilm (graph.md section 31). SVS's LVQ refused the AMD hosts of earlier sessions and
    runs on the Intel Xeon of section 31. Cosine: unit rows with inner product."""
    name = "svs"
    module = "svs"
    distribution = "scalable-vs"
    LVQ_BITS = {"lvq8": (8, 0), "lvq4": (4, 0), "lvq4x4": (4, 4), "lvq4x8": (4, 8), "lvq8x8": (8, 8)}  # primary, residual
    VARIANTS = tuple(LVQ_BITS)

    def build(self, train, metric, M, efc, threads):
        import os
        import tempfile
        import svs
        self._svs = svs
        self._normalize = metric == "cosine"
        data = self._prepare(train)
        distance = svs.DistanceType.L2 if metric == "l2" else svs.DistanceType.MIP
        params = svs.VamanaBuildParameters(graph_max_degree=2 * M, window_size=efc)
        start = perf_counter()
        if self.variant is None:
            self.index = svs.Vamana.build(params, data, distance, num_threads=threads)
        else:
            primary, residual = self.LVQ_BITS[self.variant]
            with tempfile.TemporaryDirectory(prefix="vidx-svs-") as folder:
                path = os.path.join(folder, "train.fvecs")
                svs.write_vecs(data, path)
                rows = svs.VectorDataLoader(path, svs.DataType.float32, dims=data.shape[1])
                self.index = svs.Vamana.build(params, svs.LVQLoader(rows, primary=primary, residual=residual),
                                              distance, num_threads=threads)
        seconds = perf_counter() - start
        self.index.num_threads = 1
        self._defaults = self.index.search_parameters
        return seconds

    def set_ef(self, ef):
        self.ef = ef
        self._buffer_k = None  # the search parameters are set for the next query's k

    def _search(self, Q, k):
        """SVS's ids (uint64) for the rows of Q; only what a user's call would cost is timed."""
        if self._buffer_k != k:  # once per ef and k, not a Python object per query
            svs, d = self._svs, self._defaults
            self.index.search_parameters = svs.VamanaSearchParameters(
                svs.SearchBufferConfig(self.ef, max(self.ef, k)), d.search_buffer_visited_set,
                d.prefetch_lookahead, d.prefetch_step)
            self._buffer_k = k
        return self.index.search(self._prepare(Q), k)[0]

    def query_one(self, q, k):
        return self._search(q[None], k)[0]

    def query_batch(self, Q, k, threads):
        self.index.num_threads = threads
        try:
            return self._search(Q, k).astype(np.int64)
        finally:
            self.index.num_threads = 1


class VSAG(Adapter):
    """pyvsag: the HGraph index with the settings vsag's docs give for speed: the graph searched
    on "sq8" codes, the results re-ranked with "fp32" vectors (use_reorder). max_degree = 2M, the
    bottom-level degree of an HNSW with M (as glass's R); ef -> ef_search. Cosine is native."""
    name = "vsag"
    module = "pyvsag"
    distribution = "pyvsag"

    def build(self, train, metric, M, efc, threads):
        import json
        import pyvsag
        self._json = json
        params = {"dtype": "float32", "metric_type": metric, "dim": int(train.shape[1]),
                  "index_param": {"base_quantization_type": "sq8", "use_reorder": True,
                                  "precise_quantization_type": "fp32", "max_degree": 2 * M,
                                  "ef_construction": efc, "build_thread_count": threads}}
        data = np.ascontiguousarray(train, dtype=np.float32)
        start = perf_counter()
        self.index = pyvsag.Index("hgraph", json.dumps(params))
        self.index.build(vectors=data.reshape(-1), ids=np.arange(len(data), dtype=np.int64),
                         num_elements=len(data), dim=data.shape[1])
        return perf_counter() - start

    def set_ef(self, ef):
        self._params = self._json.dumps({"hgraph": {"ef_search": ef}})

    def query_one(self, q, k):
        q = np.ascontiguousarray(q, dtype=np.float32)
        return _pad(self.index.knn_search(vector=q, k=k, parameters=self._params)[0], k)

    def query_batch(self, Q, k, threads):
        # pyvsag has no batch search: one call per query on a pool of `threads` threads.
        return _rows_on_threads(lambda q: self.query_one(q, k), Q, threads)


class NGT(Adapter):
    """NGT (ngtpy) ONNG, as NGT's README and ann-benchmarks build it: an ANNG with 100 edges per
    node at creation (edge_size_for_creation=100, edge_size_for_search=40), then NGT's graph
    optimizer reshapes it into an ONNG with 10 outgoing and 120 incoming edges per node, with its
    shortcut reduction (`ngt reconstruct-graph -mS`). The optimizer's search-coefficient and
    prefetch tuning is off: it runs sample searches for minutes even on 3,000 points, and
    ann-benchmarks' reconstruct-graph step does not run it either. M and efc have no NGT counterpart.

    The sweep's `ef` sets NGT's search range, epsilon (the explored radius is (1 + epsilon) x the
    k-th distance; ann-benchmarks sweeps epsilon from about -0.4 to 0.5):
      epsilon = 0.05 * log2(ef / 16)     (ef 8: -0.05, ef 16: 0, ef 32: 0.05, ef 256: 0.2)
    with edge_size=-2, as ann-benchmarks does. On fashion-mnist recall climbs from 0.73 at
    epsilon -0.07 to 0.998 at 0.06, so the steps are small. The batch search is ngtpy's
    batch_search, which runs on all OpenMP threads (a pool of Python threads was slower: the
    single search holds the GIL).
    Cosine: unit rows with L2, which ranks the same way; inner product uses NGT's "Inner Product".

    What PyPI's wheel can show (ngt 2.8.0.post1, manylinux x86-64): its ngtpy module holds no
    AVX instruction (objdump finds xmm registers only), so its distances run at SSE width and
    NGT built for the host would be faster; and it cannot build NGT's quantized graphs (QG,
    QBG): ngtpy opens them but has no builder, and ann-benchmarks builds them with NGT's `qbg`
    command, which the wheel does not ship."""
    name = "ngt"
    module = "ngtpy"
    distribution = "ngt"
    DISTANCE = {"l2": "L2", "cosine": "L2", "ip": "Inner Product"}

    def build(self, train, metric, M, efc, threads):
        import os
        import tempfile
        import ngtpy
        self._normalize = metric == "cosine"
        data = self._prepare(train)
        self._folder = tempfile.TemporaryDirectory(prefix="vidx-ngt-")
        anng, onng = os.path.join(self._folder.name, "anng"), os.path.join(self._folder.name, "onng")
        start = perf_counter()
        ngtpy.create(anng, data.shape[1], edge_size_for_creation=100, edge_size_for_search=40,
                     distance_type=self.DISTANCE[metric], object_type="Float")
        graph = ngtpy.Index(anng, log_disabled=True)
        graph.batch_insert(data, num_threads=threads)
        graph.save()
        graph.close()
        optimizer = ngtpy.Optimizer(num_of_outgoings=10, num_of_incomings=120, log_disabled=True)
        optimizer.set_processing_modes(search_parameter_optimization=False, prefetch_parameter_optimization=False,
                                       accuracy_table_generation=False)
        optimizer.execute(anng, onng)
        self.index = ngtpy.Index(onng, read_only=True, log_disabled=True)
        return perf_counter() - start

    def set_ef(self, ef):
        self.index.set(epsilon=0.05 * float(np.log2(ef / 16)), edge_size=-2)

    def query_one(self, q, k):
        return _pad(self.index.search(self._prepare(q), k, with_distance=False), k)

    def query_batch(self, Q, k, threads):
        import ngtpy
        found = ngtpy.BatchResults()
        self.index.batch_search(self._prepare(Q), found, k, with_distance=False)
        return np.asarray(found.get_ids(), dtype=np.int64).reshape(len(Q), k)

    def close(self):
        if getattr(self, "index", None) is not None:
            self.index.close()
        super().close()
        if getattr(self, "_folder", None) is not None:
            self._folder.cleanup()
            self._folder = None


ADAPTERS = {cls.name: cls for cls in (VidxHNSW, Hnswlib, FaissHNSW, USearch, Glass, ScaNN, SVS, VSAG, NGT)}


# What vidx-bench runs when no --algorithms is given: vidx's two float32 graphs (the default,
# f32_split, whose walks read the upper halves, and plain float32), then every peer.
DEFAULT_ALGORITHMS = ("vidx", "vidx:f32", *[name for name in ADAPTERS if name != "vidx"])


def with_variant(cls: type[Adapter], variant: str) -> type[Adapter]:
    """An adapter class that is `cls` with `variant` fixed, named "NAME:VARIANT", so a runner that
    makes adapters from their classes and reports them by name treats it as one more library."""
    cls.check_variant(variant)

    def __init__(self, unused_variant=None):
        cls.__init__(self, variant)

    return type(f"{cls.__name__}_{variant}", (cls,), {"name": f"{cls.name}:{variant}", "__init__": __init__})


def select(names, log=print) -> list[type[Adapter]]:
    """The adapter classes for `names` ("NAME" or "NAME:VARIANT", e.g. "vidx:f32_split"), in order;
    unknown names or variants raise, uninstalled libraries are skipped."""
    unknown = [n for n in names if n.partition(":")[0] not in ADAPTERS]
    if unknown:
        raise ValueError(f"unknown algorithm(s) {', '.join(unknown)}; choose from {', '.join(ADAPTERS)} "
                         f"(with an optional :VARIANT, e.g. vidx:f32_split)")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"algorithm(s) {', '.join(repeated)} given twice: their rows would be indistinguishable")
    chosen = []
    for name in names:
        base, _, variant = name.partition(":")
        cls = ADAPTERS[base]
        if cls.available():
            chosen.append(with_variant(cls, variant) if variant else cls)
        else:
            log(f"skipping {name}: python module {cls.module!r} is not installed "
                f"(pip install \"vidx[peers]\" installs every peer on Linux x86-64; vidx[bench] only "
                f"hnswlib, faiss and usearch)")
    return chosen
