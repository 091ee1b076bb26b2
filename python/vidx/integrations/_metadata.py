"""Metadata predicates: the filters of LangChain (dicts) and LlamaIndex (MetadataFilters) become
a test on each stored document's metadata; the ids that pass go to vidx as an allow-list."""
from __future__ import annotations

import functools
import operator
import re

_MISSING = object()


def _text_match(value, target):
    return isinstance(value, str) and str(target) in value


@functools.lru_cache(maxsize=256)
def _like_pattern(pattern, ignore_case):
    """SQL LIKE (as LangChain's PGVector filters mean $like / $ilike): % any text, _ one
    character, everything else literal; the whole value must match."""
    parts = [".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern]
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _like(value, target, ignore_case=False):
    return isinstance(value, str) and _like_pattern(str(target), ignore_case).fullmatch(value) is not None


def _as_list(value):
    return value if isinstance(value, (list, tuple, set)) else [value]


# operator name -> test(value, target); names are LlamaIndex's FilterOperator values, LangChain's
# "$op" names map onto them below.
OPERATORS = {
    "==": operator.eq, "!=": operator.ne,
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
    "in": lambda v, t: v in _as_list(t), "nin": lambda v, t: v not in _as_list(t),
    "any": lambda v, t: any(x in _as_list(v) for x in _as_list(t)),
    "all": lambda v, t: all(x in _as_list(v) for x in _as_list(t)),
    "contains": lambda v, t: isinstance(v, (list, tuple, set, str)) and t in v,
    "text_match": _text_match,
    "text_match_insensitive": lambda v, t: isinstance(v, str) and str(t).lower() in v.lower(),
    "is_empty": lambda v, t: v is None or v == [] or v == "",
    "like": _like, "ilike": lambda v, t: _like(v, t, ignore_case=True),
}
_DOLLAR = {"$eq": "==", "$ne": "!=", "$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<=",
           "$in": "in", "$nin": "nin", "$contains": "contains", "$like": "like", "$ilike": "ilike"}
_COMBINERS = ("$and", "$or")


def condition(key, op, target):
    """A predicate on a metadata dict: a missing key passes only "is_empty" (and "!=", "nin"),
    a comparison between incomparable types fails rather than raising."""
    if op not in OPERATORS:
        raise ValueError(f"unsupported filter operator {op!r} (supported: {', '.join(OPERATORS)})")
    test = OPERATORS[op]

    def check(metadata):
        value = metadata.get(key, _MISSING)
        if value is _MISSING:
            return op in ("is_empty", "!=", "nin")
        try:
            return bool(test(value, target))
        except TypeError:
            return False
    return check


def all_of(predicates):
    predicates = list(predicates)
    return lambda metadata: all(p(metadata) for p in predicates)


def any_of(predicates):
    predicates = list(predicates)
    return lambda metadata: any(p(metadata) for p in predicates)


def from_dict(spec):
    """A LangChain-style dict filter: {"genre": "scifi", "year": {"$gte": 2000},
    "$or": [{...}, {...}], "$and": [...]}; keys are ANDed, a plain value means equality."""
    if not isinstance(spec, dict):
        raise TypeError(f"a metadata filter must be a dict or a callable, got {type(spec).__name__}")
    parts = []
    for key, value in spec.items():
        if key in _COMBINERS:
            if not isinstance(value, (list, tuple)):
                raise TypeError(f"{key} takes a list of filters, got {type(value).__name__}")
            combine = all_of if key == "$and" else any_of
            parts.append(combine(from_dict(v) for v in value))
        elif isinstance(key, str) and key.startswith("$"):  # "$not", "$Or": no metadata key is meant
            raise ValueError(f"unsupported filter operator {key!r} (combining filters: {', '.join(_COMBINERS)})")
        elif isinstance(value, dict) and any(str(op).startswith("$") for op in value):
            if not all(str(op).startswith("$") for op in value):
                raise ValueError(f"the filter on {key!r} mixes operators and plain keys: {sorted(map(str, value))}")
            for op, target in value.items():
                if op not in _DOLLAR:
                    raise ValueError(f"unsupported filter operator {op!r} on {key!r} "
                                     f"(supported: {', '.join(_DOLLAR)})")
                parts.append(condition(key, _DOLLAR[op], target))
        else:
            parts.append(condition(key, "==", value))
    return all_of(parts)
