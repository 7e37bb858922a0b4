"""Rerankers: models that score (query, passage) pairs for :class:`babelir.retrieve.rerank.Rerank`.

``make_reranker(spec, **options)`` builds one from a spec:

- ``ce:DIR`` — a cross-encoder from a local directory (:mod:`.cross_encoder`);
- ``llm:URL`` — an LLM behind an OpenAI-compatible chat endpoint, pointwise or listwise (:mod:`.llm`).

A reranker has ``model_id`` (a string naming the model and every setting that changes its scores;
the cache key), ``rerank(query, docs, cache, batch_size) -> (scores, n_cached)`` with ``docs`` a list of
(doc id, text) and ``scores`` one float per document (higher is better), and ``close()``. A new kind of
reranker is a class with these three members and one more branch in :func:`make_reranker`.
"""

from __future__ import annotations

import hashlib

from babelir.errors import BabelirError


def make_reranker(spec: str, **options):
    """The reranker for ``spec`` (``ce:DIR`` or ``llm:URL``); ``options`` as its class takes them.
    Raises :class:`BabelirError` for an unknown spec, an unknown option or a bad value."""
    if not isinstance(spec, str) or ":" not in spec:
        raise BabelirError(f"rerank: unknown reranker {spec!r} (give ce:DIR or llm:URL)")
    kind, target = spec.split(":", 1)
    if kind == "ce":
        from babelir.retrieve.rerankers.cross_encoder import CrossEncoderReranker as cls
    elif kind == "llm":
        from babelir.retrieve.rerankers.llm import LLMReranker as cls
    else:
        raise BabelirError(f"rerank: unknown reranker {spec!r} (give ce:DIR or llm:URL)")
    unknown = sorted(set(options) - set(cls.OPTIONS))
    if unknown:
        raise BabelirError(f"rerank({spec}): unknown option {unknown[0]!r} (known: {', '.join(sorted(cls.OPTIONS))})")
    if not target:
        raise BabelirError(f"rerank: {kind}: needs a {'directory' if kind == 'ce' else 'URL'} after the colon")
    return cls(target, **options)


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
