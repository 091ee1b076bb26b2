"""A LangChain VectorStore backed by vidx.Index (pip install "vidx[langchain]").

    from vidx.integrations.langchain import VidxVectorStore
    store = VidxVectorStore(embeddings)               # any langchain Embeddings
    store.add_texts(["a text", ...], metadatas=[{"source": "x"}, ...])
    store.similarity_search("query", k=4, filter={"source": "x"})
"""
from __future__ import annotations

import math
import uuid
from typing import Any, Callable, Iterable, List, Optional, Sequence, Tuple

import numpy as np

try:
    from langchain_core.documents import Document
    from langchain_core.embeddings import Embeddings
    from langchain_core.vectorstores import VectorStore
    from langchain_core.vectorstores.utils import maximal_marginal_relevance
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError('vidx.integrations.langchain needs langchain-core: pip install "vidx[langchain]"') from e

from . import _metadata
from ._doc_index import DocIndex


class VidxVectorStore(VectorStore):
    """Documents (text + metadata) in a vidx.Index.

    Args:
        embedding: the Embeddings that turn texts and queries into vectors.
        metric: "cosine" (default), "ip" or "l2" (squared); scores are vidx distances (smaller
            is closer); relevance scores map them to [0, 1]-ish as LangChain expects.
        kind, **index_options: the vidx.Index (default kind "hnsw"; "flat" for exact search).

    Filters (similarity_search(..., filter=...)): a callable(Document) -> bool, or a dict of
    metadata conditions: {"key": value} (equality), {"key": {"$gt": 3}} ($eq $ne $gt $gte $lt
    $lte $in $nin $contains; $like / $ilike as SQL LIKE: % any text, _ one character, $ilike
    ignoring case), {"$and": [...]}, {"$or": [...]}; any other "$" name raises ValueError. The
    documents that pass become an allow-list of ids for vidx's filtered search: the top-k among
    them, exact for kind "flat" (and for HNSW when few pass), a graph walk otherwise.

    Thread-safe: adds, deletes and searches may run from several threads (the async methods).
    The first add fixes the vectors' dimension for the life of the store.
    """

    def __init__(self, embedding: Embeddings, *, metric: str = "cosine", kind: str = "hnsw", **index_options):
        self.embedding = embedding
        self._store = DocIndex(metric, kind, framework="langchain", **index_options)

    @property
    def embeddings(self) -> Embeddings:
        return self.embedding

    def __len__(self) -> int:
        return len(self._store)

    def __bool__(self) -> bool:
        return True  # an empty store is still a store: the frameworks test `if vector_store:`

    # ---- writes ------------------------------------------------------------------------
    def add_texts(self, texts: Iterable[str], metadatas: Optional[List[dict]] = None, *,
                  ids: Optional[List[Optional[str]]] = None, **kwargs: Any) -> List[str]:
        """Embeds and stores texts; an id already held is replaced. Returns the ids."""
        texts = list(texts)
        metadatas = [{} for _ in texts] if metadatas is None else list(metadatas)
        ids = [None] * len(texts) if ids is None else list(ids)
        if not len(metadatas) == len(ids) == len(texts):
            raise ValueError(f"got {len(texts)} texts, {len(metadatas)} metadatas and {len(ids)} ids")
        if not texts:
            return []
        ids = [str(i) if i is not None else str(uuid.uuid4()) for i in ids]
        vectors = self.embedding.embed_documents(texts)
        payloads = [{"text": t, "metadata": dict(m or {})} for t, m in zip(texts, metadatas)]
        self._store.upsert(ids, vectors, payloads)
        return ids

    def add_documents(self, documents: List[Document], **kwargs: Any) -> List[str]:
        if "ids" not in kwargs:
            kwargs["ids"] = [doc.id for doc in documents]
        return self.add_texts([d.page_content for d in documents], [d.metadata for d in documents], **kwargs)

    def delete(self, ids: Optional[List[str]] = None, **kwargs: Any) -> Optional[bool]:
        """Deletes the documents with these ids (all of them when ids is None); unknown ids
        are skipped. True when something was deleted."""
        keys = self._store.keys() if ids is None else [str(i) for i in ids]
        return self._store.delete(keys) > 0

    # ---- reads -------------------------------------------------------------------------
    def get_by_ids(self, ids: Sequence[str], /) -> List[Document]:
        return [_document(key, payload) for key, payload in self._store.get([str(i) for i in ids])]

    def similarity_search_with_score_by_vector(self, embedding: List[float], k: int = 4,
                                               filter: Any = None, **kwargs: Any) -> List[Tuple[Document, float]]:
        """(document, distance) of the k nearest documents passing `filter`, nearest first.
        kwargs: vidx search settings (ef, rerank...)."""
        found = self._store.search(embedding, k, _predicate(filter), **kwargs)
        return [(_document(key, payload), distance) for key, payload, distance in found]

    def similarity_search_by_vector(self, embedding: List[float], k: int = 4, filter: Any = None,
                                    **kwargs: Any) -> List[Document]:
        return [doc for doc, _ in self.similarity_search_with_score_by_vector(embedding, k, filter, **kwargs)]

    def similarity_search_with_score(self, query: str, k: int = 4, filter: Any = None,
                                     **kwargs: Any) -> List[Tuple[Document, float]]:
        return self.similarity_search_with_score_by_vector(self.embedding.embed_query(query), k, filter, **kwargs)

    def similarity_search(self, query: str, k: int = 4, filter: Any = None, **kwargs: Any) -> List[Document]:
        return [doc for doc, _ in self.similarity_search_with_score(query, k, filter, **kwargs)]

    def max_marginal_relevance_search_by_vector(self, embedding: List[float], k: int = 4, fetch_k: int = 20,
                                                lambda_mult: float = 0.5, filter: Any = None,
                                                **kwargs: Any) -> List[Document]:
        """k documents chosen by maximal marginal relevance (LangChain's, on cosine similarity)
        from the fetch_k nearest passing `filter`. kwargs: vidx search settings."""
        found = self._store.search(embedding, max(int(fetch_k), int(k)), _predicate(filter), **kwargs)
        if not found or k < 1:
            return []
        held, stored = self._store.vectors([key for key, _, _ in found])
        if len(held) < len(found):  # some were deleted while this call ran
            held = set(held)
            found = [entry for entry in found if entry[0] in held]
        if not found:
            return []
        chosen = maximal_marginal_relevance(np.asarray(embedding, dtype=np.float32), list(stored),
                                            lambda_mult=lambda_mult, k=min(int(k), len(found)))
        return [_document(found[i][0], found[i][1]) for i in chosen]

    def max_marginal_relevance_search(self, query: str, k: int = 4, fetch_k: int = 20, lambda_mult: float = 0.5,
                                      filter: Any = None, **kwargs: Any) -> List[Document]:
        return self.max_marginal_relevance_search_by_vector(self.embedding.embed_query(query), k, fetch_k,
                                                            lambda_mult, filter, **kwargs)

    def _select_relevance_score_fn(self) -> Callable[[float], float]:
        metric = self._store.metric
        if metric == "l2":  # vidx reports squared L2; LangChain's scale expects L2
            return lambda d: 1.0 - math.sqrt(max(d, 0.0)) / 2
        return lambda d: 1.0 - d / 2  # cosine and ip: vidx reports 1 - similarity, in [0, 2]

    # ---- construction and files ----------------------------------------------------------
    @classmethod
    def from_texts(cls, texts: List[str], embedding: Embeddings, metadatas: Optional[List[dict]] = None, *,
                   ids: Optional[List[str]] = None, **kwargs: Any) -> "VidxVectorStore":
        store = cls(embedding, **kwargs)
        store.add_texts(texts, metadatas, ids=ids)
        return store

    def save(self, folder: str) -> None:
        """Writes the index and the documents (metadata must be JSON-serialisable) into folder."""
        self._store.save(folder)

    @classmethod
    def load(cls, folder: str, embedding: Embeddings) -> "VidxVectorStore":
        store = cls.__new__(cls)
        store.embedding = embedding
        store._store = DocIndex.load(folder, "langchain")
        return store


def _document(key, payload):
    return Document(page_content=payload["text"], metadata=dict(payload["metadata"]), id=key)


def _predicate(filter):
    """The store keeps payloads; a filter looks at a Document (callable) or its metadata (dict)."""
    if filter is None:
        return None
    if callable(filter):
        return lambda payload: bool(filter(Document(page_content=payload["text"], metadata=payload["metadata"])))
    test = _metadata.from_dict(filter)
    return lambda payload: test(payload["metadata"])
