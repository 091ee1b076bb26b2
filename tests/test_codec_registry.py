"""The codec registry (vidx/codec/registry.hpp): the one list of codec names, read by Python.
Every registered codec works in the flat and HNSW indexes and survives save/load, with no test
to edit: a new registry line is picked up here (and make_codec refuses an entry whose codec
reports another name(), which files record)."""
import numpy as np
import pytest

import vidx
from vidx import _codecs, _core

from conftest import brute_force, clustered, recall


def test_names_come_from_the_registry():
    names = _codecs.codec_names()
    assert names == tuple(_core.codec_names()) and len(names) == len(set(names))
    assert {"f32", "f16", "lvq8", "lvq4x8", "binary", "rabitq"} <= set(names)
    quants = _codecs.quant_names()
    assert quants[0] == "none" and set(quants) == set(names) | {"none"}
    assert set(_codecs.codec_summaries()) == set(names) and all(_codecs.codec_summaries().values())


def test_unknown_quant_names_every_choice():
    with pytest.raises(ValueError) as info:
        vidx.Index(8, quant="lvq3")
    for name in _codecs.quant_names():
        assert repr(name) in str(info.value)
    with pytest.raises(TypeError):
        _codecs.check_quant(8)


@pytest.fixture(scope="module")
def data():
    x = clustered(1200, 32, seed=3)
    return x[:1000], x[1000:1040]


@pytest.mark.parametrize("quant", _codecs.quant_names())
@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_every_codec_in_every_structure(tmp_path, data, kind, quant):
    x, q = data
    idx = vidx.Index(32, kind=kind, quant=quant, M=8, ef_construction=40, seed=1, rerank=60)
    idx.add(x)
    D, I = idx.search(q, 10, ef=60)
    _, truth = brute_force(x, q, 10, "l2")
    assert recall(I, truth) > 0.5  # it searches (chance is 0.01); each codec's own tests bound its accuracy
    idx.save(tmp_path / "i.vidx")
    again = vidx.load(tmp_path / "i.vidx")
    assert again.params["quant"] == quant
    D2, I2 = again.search(q, 10, ef=60)
    np.testing.assert_array_equal(I, I2)
    np.testing.assert_allclose(D, D2, rtol=1e-6)
