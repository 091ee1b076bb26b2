"""What the installed vidx.Index can do: remove / upsert / get / ids / filters / range_search come
with the living-index work; a pass-through to a missing one raises NotImplementedError by name."""
from __future__ import annotations

import inspect

import vidx  # the installed build: what a pass-through may call


def supports(method, keyword=None):
    fn = getattr(vidx.Index, method, None)
    if fn is None:
        return False
    if keyword is None:
        return True
    try:
        return keyword in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def require(method, keyword=None):
    if not supports(method, keyword):
        what = f"vidx.Index.{method}({keyword}=...)" if keyword else f"vidx.Index.{method}"
        raise NotImplementedError(
            f"{what} is not available in this vidx build ({vidx.__version__}); "
            "it comes with the living-index API (remove / upsert / get / ids / filters / range_search)")
