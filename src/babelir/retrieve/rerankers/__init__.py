"""Rerankers: models that score (query, passage) pairs for :class:`babelir.retrieve.rerank.Rerank`.

``make_reranker(spec, **options)`` builds one from a spec:

- ``ce:DIR`` — a cross-encoder from a local directory (:mod:`.cross_encoder`);
- ``llm:URL`` — an LLM behind an OpenAI-compatible chat endpoint, pointwise or listwise (:mod:`.llm`).

A reranker has ``model_id`` (a string naming the model and every setting that changes its scores;
the cache key), ``rerank(query, docs, cache, batch_size) -> (scores, n_cached)`` with ``docs`` a list of
(doc id, text) and ``scores`` one float per document (higher is better), and ``close()``. A new kind of
reranker is a class with these three members (and ``OPTIONS``, the names of its keyword options) and
one more row in :data:`KINDS`. The implementations share the helpers of :mod:`.common` and do not
import this package back; it imports them by name, on first use.
"""

from __future__ import annotations

import importlib

from babelir.errors import BabelirError

# spec prefix -> (module, class, what follows the colon)
KINDS: dict[str, tuple[str, str, str]] = {
    "ce": ("babelir.retrieve.rerankers.cross_encoder", "CrossEncoderReranker", "directory"),
    "llm": ("babelir.retrieve.rerankers.llm", "LLMReranker", "URL"),
}


def make_reranker(spec: str, **options):
    """The reranker for ``spec`` (``ce:DIR`` or ``llm:URL``); ``options`` as its class takes them.
    Raises :class:`BabelirError` for an unknown spec, an unknown option or a bad value."""
    if not isinstance(spec, str) or ":" not in spec or spec.split(":", 1)[0] not in KINDS:
        raise BabelirError(f"rerank: unknown reranker {spec!r} (give ce:DIR or llm:URL)")
    kind, target = spec.split(":", 1)
    module, name, what = KINDS[kind]
    cls = getattr(importlib.import_module(module), name)
    unknown = sorted(set(options) - set(cls.OPTIONS))
    if unknown:
        raise BabelirError(f"rerank({spec}): unknown option {unknown[0]!r} (known: {', '.join(sorted(cls.OPTIONS))})")
    if not target:
        raise BabelirError(f"rerank: {kind}: needs a {what} after the colon")
    return cls(target, **options)
