"""Helpers the rerankers share (:mod:`.cross_encoder`, :mod:`.llm`): the cache's text hash, pointwise
scoring through the cache, and the checks of option values (CLI strings too). This module imports no
reranker, so that the implementations import it and the package imports them by name
(:data:`babelir.retrieve.rerankers.KINDS`), and no module imports one that imports it back.
"""

from __future__ import annotations

import hashlib

from babelir.errors import BabelirError


def text_hash(text: str) -> str:
    """The cache's hash of a document text (SHA-256, 32 hex digits)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def pointwise(model_id: str, query: str, docs: list[tuple[str, str]], cache, score_batch,
              batch_size: int) -> tuple[list[float], int]:
    """Scores of ``docs`` for ``query``: those in ``cache`` as they are, the others from
    ``score_batch(items) -> scores`` ``batch_size`` at a time, each batch stored in the cache as soon as
    it is scored (``texts``: (doc id, text) pairs). Returns (scores in ``docs`` order, how many came from the cache)."""
    keys = [(d, text_hash(t)) for d, t in docs]
    found = cache.get(model_id, query, keys)
    missing = [i for i, k in enumerate(keys) if k not in found]
    for start in range(0, len(missing), batch_size):
        chunk = missing[start:start + batch_size]
        scores = [float(s) for s in score_batch([docs[i] for i in chunk])]
        cache.put(model_id, query, [(*keys[i], s) for i, s in zip(chunk, scores)])
        found.update((keys[i], s) for i, s in zip(chunk, scores))
    return [found[k] for k in keys], len(keys) - len(missing)


def as_int(name: str, value, low: int) -> int:
    """An option's whole-number value (a CLI string too), at least ``low``."""
    try:
        number = int(value)
        if str(number) != str(value).strip() and number != value:
            raise ValueError
    except (TypeError, ValueError):
        raise BabelirError(f"rerank: {name} must be a whole number, not {value!r}") from None
    if number < low:
        raise BabelirError(f"rerank: {name} must be >= {low}, not {number}")
    return number


def as_float(name: str, value, low: float) -> float:
    """An option's number value (a CLI string too), above ``low``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BabelirError(f"rerank: {name} must be a number, not {value!r}") from None
    if not number > low:
        raise BabelirError(f"rerank: {name} must be > {low:g}, not {value!r}")
    return number
