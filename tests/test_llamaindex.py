"""vidx.integrations.llamaindex: the store through llama-index-core's own VectorStoreIndex,
retriever and StorageContext, and direct VectorStoreQuery checks."""
import hashlib

import numpy as np
import pytest

pytest.importorskip("llama_index.core")
from llama_index.core import Document, StorageContext, VectorStoreIndex  # noqa: E402
from llama_index.core.embeddings import BaseEmbedding  # noqa: E402
from llama_index.core.schema import TextNode  # noqa: E402
from llama_index.core.vector_stores.types import (FilterCondition, FilterOperator, MetadataFilter,  # noqa: E402
                                                  MetadataFilters, VectorStoreQuery)

from vidx._capabilities import supports  # noqa: E402
from vidx.integrations.llamaindex import VidxVectorStore  # noqa: E402

LIVING = supports("remove") and supports("upsert")
FILTERS = supports("search", "filter")
DIM = 32


class BagOfWords(BaseEmbedding):
    """Deterministic embedding: each word adds a fixed random vector (texts sharing words are near)."""

    def _vector(self, text):
        v = np.zeros(DIM)
        for word in text.lower().split():
            seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "little")
            v += np.random.default_rng(seed).standard_normal(DIM)
        return (v / max(np.linalg.norm(v), 1e-9)).tolist()

    def _get_query_embedding(self, query):
        return self._vector(query)

    def _get_text_embedding(self, text):
        return self._vector(text)

    async def _aget_query_embedding(self, query):
        return self._vector(query)


TEXTS = {"a": ("red apples grow on trees", {"kind": "fruit", "rank": 1, "tags": ["tree", "red"]}),
         "b": ("yellow bananas grow on plants", {"kind": "fruit", "rank": 2, "tags": ["plant"]}),
         "c": ("red fire trucks drive fast", {"kind": "vehicle", "rank": 3, "tags": ["red"]}),
         "d": ("green trees stand tall", {"kind": "plant", "rank": 4})}


def nodes(embed):
    return [TextNode(id_=f"n-{key}", text=text, metadata=meta, embedding=embed._vector(text))
            for key, (text, meta) in TEXTS.items()]


def query(store, embed, text, k=4, **kwargs):
    return store.query(VectorStoreQuery(query_embedding=embed._vector(text), similarity_top_k=k, **kwargs))


def test_through_llama_index_core_index_and_retriever():
    embed = BagOfWords()
    store = VidxVectorStore(kind="flat")
    docs = [Document(text=text, metadata=meta, id_=f"doc-{key}") for key, (text, meta) in TEXTS.items()]
    index = VectorStoreIndex.from_documents(docs, storage_context=StorageContext.from_defaults(vector_store=store),
                                            embed_model=embed)
    found = index.as_retriever(similarity_top_k=2).retrieve("red apples")
    assert found[0].node.get_content() == "red apples grow on trees"
    assert 0 < found[1].score <= found[0].score <= 1  # cosine similarities (the text embedded holds metadata too)
    assert found[0].node.metadata["kind"] == "fruit" and found[0].node.ref_doc_id == "doc-a"
    assert len(store) == 4 and store.client is not None


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_query_returns_nodes_ids_and_similarities(kind):
    embed = BagOfWords()
    store = VidxVectorStore(kind=kind)
    assert store.add(nodes(embed)) == ["n-a", "n-b", "n-c", "n-d"]
    result = query(store, embed, "green trees stand tall", k=2)
    assert result.ids[0] == "n-d" and result.nodes[0].get_content() == "green trees stand tall"
    assert len(result.ids) == 2 and result.similarities[0] == pytest.approx(1.0, abs=1e-5)
    assert [n.node_id for n in store.get_nodes(["n-b", "n-x"])] == ["n-b"]


def test_persist_and_load(tmp_path):
    embed = BagOfWords()
    store = VidxVectorStore(metric="l2")
    store.add(nodes(embed))
    store.persist(str(tmp_path / "store"))
    loaded = VidxVectorStore.from_persist_path(str(tmp_path / "store"))
    a, b = query(store, embed, "red"), query(loaded, embed, "red")
    assert a.ids == b.ids and a.similarities == b.similarities and a.similarities[0] <= 0
    assert [n.get_content() for n in a.nodes] == [n.get_content() for n in b.nodes]


def test_bad_queries_are_refused():
    store = VidxVectorStore()
    assert query(store, BagOfWords(), "anything").ids == []  # empty store
    with pytest.raises(ValueError, match="query_embedding"):
        store.query(VectorStoreQuery(query_embedding=None, similarity_top_k=1))
    with pytest.raises(ValueError, match="mode"):
        store.query(VectorStoreQuery(query_embedding=[0.0] * DIM, mode="sparse"))
    with pytest.raises(ValueError, match="embedding"):
        store.add([TextNode(text="no vector")])


@pytest.mark.skipif(not FILTERS, reason="vidx.Index.search(filter=) is not in this vidx build yet")
def test_metadata_filters_doc_ids_and_node_ids():
    embed = BagOfWords()
    store = VidxVectorStore()
    store.add(nodes(embed))
    fruit = MetadataFilters(filters=[MetadataFilter(key="kind", value="fruit")])
    assert sorted(query(store, embed, "red", filters=fruit).ids) == ["n-a", "n-b"]
    red_or_late = MetadataFilters(condition=FilterCondition.OR, filters=[
        MetadataFilter(key="tags", value="red", operator=FilterOperator.CONTAINS),
        MetadataFilter(key="rank", value=4, operator=FilterOperator.GTE)])
    assert sorted(query(store, embed, "red", filters=red_or_late).ids) == ["n-a", "n-c", "n-d"]
    nested = MetadataFilters(condition=FilterCondition.AND, filters=[
        fruit, MetadataFilters(condition=FilterCondition.NOT, filters=[MetadataFilter(key="rank", value=1)])])
    assert query(store, embed, "red", filters=nested).ids == ["n-b"]
    assert query(store, embed, "red", node_ids=["n-c", "n-d"]).ids[0] == "n-c"
    assert query(store, embed, "red", filters=fruit, k=1).ids == ["n-a"]


@pytest.mark.skipif(not LIVING, reason="vidx.Index.remove/upsert are not in this vidx build yet")
def test_delete_by_ref_doc_id_and_replace():
    embed = BagOfWords()
    store = VidxVectorStore()
    docs = [Document(text=t, metadata=m, id_=f"doc-{k}") for k, (t, m) in TEXTS.items()]
    index = VectorStoreIndex.from_documents(docs, storage_context=StorageContext.from_defaults(vector_store=store),
                                            embed_model=embed)
    index.delete_ref_doc("doc-a")
    assert len(store) == 3
    assert "red apples grow on trees" not in [n.get_content() for n in query(store, embed, "red apples").nodes]
    store.add([TextNode(id_="n-b", text="blue berries", embedding=embed._vector("blue berries"))])
    assert query(store, embed, "blue berries", k=1).ids == ["n-b"]
    store.clear()
    assert len(store) == 0


def test_mmr_query_mode():
    # Only the default mode was served (ValueError for MMR, which SimpleVectorStore answers).
    from llama_index.core.vector_stores.types import VectorStoreQueryMode
    embed = BagOfWords()
    store = VidxVectorStore(kind="flat")
    store.add(nodes(embed) + [TextNode(id_=f"copy-{i}", text="red apples grow on trees", embedding=embed._vector(
        "red apples grow on trees")) for i in range(3)])
    plain = query(store, embed, "red apples", k=3)
    assert {i for i in plain.ids} <= {"n-a", "copy-0", "copy-1", "copy-2"}  # the copies crowd the top
    varied = query(store, embed, "red apples", k=3, mode=VectorStoreQueryMode.MMR, mmr_threshold=0.3)
    assert len(varied.ids) == 3 and len({n.get_content() for n in varied.nodes}) == 3
    only_fruit = query(store, embed, "red apples", k=4, mode=VectorStoreQueryMode.MMR,
                       filters=MetadataFilters(filters=[MetadataFilter(key="kind", value="fruit")]))
    assert set(only_fruit.ids) == {"n-a", "n-b"}
    with pytest.raises(ValueError, match="query modes"):
        query(store, embed, "red", mode=VectorStoreQueryMode.SPARSE)
