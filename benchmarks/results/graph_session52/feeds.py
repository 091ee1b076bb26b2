"""The feeds of graph.md section 52, shared by its scripts (each the same rows for the same arguments)."""
import numpy as np


def tight_clusters(queries=400, n=8000, dim=16, clusters=400, spread=0.05):
    """The test suite's tight clusters: x, labels, queries, the queries' labels, the centres."""
    rng = np.random.default_rng(5)
    centers = rng.standard_normal((clusters, dim)).astype(np.float32)
    labels = rng.integers(0, clusters, n + queries)
    both = (centers[labels] + spread * rng.standard_normal((n + queries, dim))).astype(np.float32)
    return both[:n], labels[:n], both[n:], labels[n:], centers


def documents(spread=0.1, queries=1000, n_docs=5000, per_doc=20, dim=64):
    """Documents of per_doc near-copies, in document order: x, documents, queries, the queries'
    documents, the documents' centres."""
    rng = np.random.default_rng(11)
    centres = rng.standard_normal((n_docs, dim)).astype(np.float32)
    doc = np.repeat(np.arange(n_docs), per_doc)
    x = (centres[doc] + spread * rng.standard_normal((len(doc), dim))).astype(np.float32)
    query_doc = rng.integers(0, n_docs, queries)
    q = (centres[query_doc] + spread * rng.standard_normal((queries, dim))).astype(np.float32)
    return x, doc, q, query_doc, centres


def mixture(queries=1000, n=24000, dim=32, clusters=48):
    """A Gaussian mixture along a drifting centre, sorted by cluster: x, queries."""
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((clusters, dim)).astype(np.float32) * 2 + \
        np.linspace(-3, 3, clusters)[:, None].astype(np.float32)
    labels = np.sort(rng.integers(0, clusters, n))
    x = (centres[labels] + rng.standard_normal((n, dim)).astype(np.float32)).astype(np.float32)
    q = (centres[rng.integers(0, clusters, queries)] + rng.standard_normal((queries, dim)).astype(np.float32)).astype(np.float32)
    return x, q
