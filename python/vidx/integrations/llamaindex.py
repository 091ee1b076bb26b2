"""A LlamaIndex vector store backed by vidx.Index (pip install "vidx[llamaindex]").

    from llama_index.core import StorageContext, VectorStoreIndex
    from vidx.integrations.llamaindex import VidxVectorStore
    store = VidxVectorStore(metric="cosine")
    index = VectorStoreIndex.from_documents(docs, storage_context=StorageContext.from_defaults(vector_store=store))
"""
from __future__ import annotations

import os
from typing import Any, List, Optional, Sequence

try:
    from llama_index.core.bridge.pydantic import PrivateAttr
    from llama_index.core.schema import BaseNode
    from llama_index.core.vector_stores.types import (BasePydanticVectorStore, FilterCondition, MetadataFilters,
                                                      VectorStoreQuery, VectorStoreQueryMode, VectorStoreQueryResult)
    from llama_index.core.vector_stores.utils import metadata_dict_to_node, node_to_metadata_dict
    from llama_index.core.indices.query.embedding_utils import get_top_k_mmr_embeddings
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError('vidx.integrations.llamaindex needs llama-index-core: pip install "vidx[llamaindex]"') from e

from . import _metadata
from ._doc_index import DocIndex

DEFAULT_PERSIST_DIR = "vidx_vector_store"


class VidxVectorStore(BasePydanticVectorStore):
    """Nodes (text, metadata, ref_doc_id) in a vidx.Index.

    Args:
        metric: "cosine" (default), "ip" or "l2". Query similarities: 1 - distance for cosine
            and ip (the cosine / inner product), -distance (squared L2) for l2.
        kind, **index_options: the vidx.Index (default kind "hnsw"; "flat" for exact search).

    Query filters (MetadataFilters, nested ones included; every FilterOperator; AND, OR, NOT),
    doc_ids and node_ids select the nodes first; their ids go to vidx's filtered search as an
    allow-list: the top-k among them, exact for kind "flat" (and for HNSW when few pass), a
    graph walk otherwise.

    Thread-safe (adds, deletes and queries from several threads). The first add fixes the
    embeddings' dimension for the life of the store (clear() keeps it).
    """

    stores_text: bool = True
    flat_metadata: bool = False
    _store: DocIndex = PrivateAttr()

    def __init__(self, metric: str = "cosine", kind: str = "hnsw", **index_options: Any) -> None:
        super().__init__()
        self._store = DocIndex(metric, kind, framework="llamaindex", **index_options)

    @classmethod
    def class_name(cls) -> str:
        return "VidxVectorStore"

    @property
    def client(self) -> Any:
        """The vidx.Index (None before the first add)."""
        return self._store.index

    def __len__(self) -> int:
        return len(self._store)

    def __bool__(self) -> bool:
        return True  # an empty store is still a store: the frameworks test `if vector_store:`

    # ---- writes ------------------------------------------------------------------------
    def add(self, nodes: Sequence[BaseNode], **add_kwargs: Any) -> List[str]:
        """Stores nodes with their embeddings; a node id already held is replaced."""
        if not nodes:
            return []
        missing = [n.node_id for n in nodes if n.embedding is None]
        if missing:
            raise ValueError(f"node {missing[0]!r} has no embedding")
        payloads = [{"node_id": n.node_id, "ref_doc_id": n.ref_doc_id, "metadata": dict(n.metadata),
                     "node": node_to_metadata_dict(n, remove_text=False, flat_metadata=False)} for n in nodes]
        keys = [n.node_id for n in nodes]
        self._store.upsert(keys, [n.get_embedding() for n in nodes], payloads)
        return keys

    def delete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        """Deletes every node of document ref_doc_id."""
        self._store.delete([key for key, payload in self._store.items() if payload["ref_doc_id"] == ref_doc_id])

    def delete_nodes(self, node_ids: Optional[List[str]] = None, filters: Optional[MetadataFilters] = None,
                     **delete_kwargs: Any) -> None:
        self._store.delete([n.node_id for n in self.get_nodes(node_ids, filters)])

    def clear(self) -> None:
        self._store.delete(self._store.keys())

    # ---- reads -------------------------------------------------------------------------
    def get_nodes(self, node_ids: Optional[List[str]] = None,
                  filters: Optional[MetadataFilters] = None) -> List[BaseNode]:
        entries = self._store.get(node_ids) if node_ids is not None else self._store.items()
        test = _selector(filters, None, None)
        return [_node(payload) for _, payload in entries if test is None or test(payload)]

    def query(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        """The similarity_top_k nearest nodes passing filters / doc_ids / node_ids; kwargs: vidx
        search settings (ef, rerank...). Mode MMR: chosen by maximal marginal relevance
        (LlamaIndex's, on cosine similarity, with mmr_threshold from the query or kwargs) among
        the mmr_prefetch_k nearest (kwargs; default mmr_prefetch_factor, 4, times similarity_top_k)."""
        if query.mode not in (VectorStoreQueryMode.DEFAULT, VectorStoreQueryMode.MMR):
            raise ValueError(f"VidxVectorStore supports the default (dense) and MMR query modes, got {query.mode!r}")
        if query.query_embedding is None:
            raise ValueError("the query has no query_embedding")
        selector = _selector(query.filters, query.doc_ids, query.node_ids)
        if query.mode == VectorStoreQueryMode.MMR:
            return self._query_mmr(query, selector, kwargs)
        found = self._store.search(query.query_embedding, query.similarity_top_k, selector, **kwargs)
        to_similarity = (lambda d: -d) if self._store.metric == "l2" else (lambda d: 1.0 - d)
        return VectorStoreQueryResult(nodes=[_node(payload) for _, payload, _ in found],
                                      similarities=[to_similarity(d) for _, _, d in found],
                                      ids=[key for key, _, _ in found])

    def _query_mmr(self, query: VectorStoreQuery, selector: Any, kwargs: dict) -> VectorStoreQueryResult:
        threshold = kwargs.pop("mmr_threshold", None)
        threshold = query.mmr_threshold if threshold is None else threshold
        prefetch = kwargs.pop("mmr_prefetch_k", None)
        factor = kwargs.pop("mmr_prefetch_factor", 4)
        top_k = query.similarity_top_k
        found = self._store.search(query.query_embedding, prefetch or max(1, int(factor * top_k)), selector, **kwargs)
        held, stored = self._store.vectors([key for key, _, _ in found])
        payloads = {key: payload for key, payload, _ in found}
        if not held:
            return VectorStoreQueryResult(nodes=[], similarities=[], ids=[])
        similarities, ids = get_top_k_mmr_embeddings(list(query.query_embedding), stored.tolist(),
                                                     similarity_top_k=top_k, embedding_ids=held,
                                                     mmr_threshold=threshold)
        return VectorStoreQueryResult(nodes=[_node(payloads[key]) for key in ids], similarities=list(similarities),
                                      ids=list(ids))

    # ---- files -------------------------------------------------------------------------
    def persist(self, persist_path: str = DEFAULT_PERSIST_DIR, fs: Any = None) -> None:
        """Writes the index and the nodes into the folder persist_path (local filesystem)."""
        _local_only(fs)
        self._store.save(os.fspath(persist_path))

    @classmethod
    def from_persist_path(cls, persist_path: str = DEFAULT_PERSIST_DIR, fs: Any = None) -> "VidxVectorStore":
        _local_only(fs)
        store = cls.__new__(cls)
        super(VidxVectorStore, store).__init__()
        store._store = DocIndex.load(os.fspath(persist_path), "llamaindex")
        return store


def _node(payload):
    return metadata_dict_to_node(payload["node"])


def _local_only(fs):
    if fs is not None and "file" not in getattr(fs, "protocol", ("file",)):
        raise NotImplementedError(f"VidxVectorStore persists to the local filesystem only, got {fs.protocol!r}")


def _from_filters(filters):
    """A predicate on a metadata dict from (possibly nested) MetadataFilters."""
    parts = [_from_filters(f) if isinstance(f, MetadataFilters) else
             _metadata.condition(f.key, getattr(f.operator, "value", f.operator), f.value)
             for f in filters.filters]
    condition = filters.condition or FilterCondition.AND
    if condition == FilterCondition.AND:
        return _metadata.all_of(parts)
    if condition == FilterCondition.OR:
        return _metadata.any_of(parts)
    if condition == FilterCondition.NOT:  # as llama-index: none of the filters matches
        either = _metadata.any_of(parts)
        return lambda metadata: not either(metadata)
    raise ValueError(f"unsupported filter condition {condition!r}")


def _selector(filters, doc_ids, node_ids):
    """A predicate on stored payloads, or None when nothing restricts the query."""
    tests = []
    if filters is not None and filters.filters:
        by_metadata = _from_filters(filters)
        tests.append(lambda payload: by_metadata(payload["metadata"]))
    if doc_ids:  # None or [] (what llama-index's retriever sends): no restriction
        docs = set(doc_ids)
        tests.append(lambda payload: payload["ref_doc_id"] in docs)
    if node_ids:
        nodes = set(node_ids)
        tests.append(lambda payload: payload["node_id"] in nodes)
    return _metadata.all_of(tests) if tests else None
