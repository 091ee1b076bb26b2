"""The codec names, read from the C++ codec registry (vidx/codec/registry.hpp), the only list
of them: Python keeps none of its own, so a codec registered in C++ is a valid quant= at once.

    from vidx import _codecs
    _codecs.quant_names()          # ('none', 'f32', 'f16', 'lvq8', ...)
    _codecs.check_quant("lvq4x8")  # 'lvq4x8'; TypeError / ValueError naming the choices otherwise
"""
from __future__ import annotations

import functools

from . import _core


@functools.lru_cache(maxsize=None)
def codec_names():
    """The registered codecs' names ('f32', 'f16', 'lvq8', ...), in registry order."""
    return tuple(_core.codec_names())


@functools.lru_cache(maxsize=None)
def quant_names():
    """What quant= accepts: the registry's aliases first ('none' is float32), then every codec name."""
    return tuple(_core.codec_names(include_aliases=True))


def codec_summaries():
    """{name: one-line description} of every registered codec, for docs and help texts."""
    return {name: summary for name, _alias, summary in _core._codec_summaries()}


def check_quant(quant):
    """quant itself when it names a registered codec; TypeError / ValueError (listing the
    choices) otherwise."""
    if not isinstance(quant, str):
        raise TypeError(f"quant must be a string, got {type(quant).__name__}")
    names = quant_names()
    if quant not in names:
        raise ValueError(f"unknown quant {quant!r} (expected one of {', '.join(map(repr, names))})")
    return quant
