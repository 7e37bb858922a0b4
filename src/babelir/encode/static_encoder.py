"""A static encoder (``static:DIR``): a sentence is the mean of its tokens' stored vectors.

DIR holds ``tokenizer.json`` (any ``tokenizers`` tokenizer), ``embeddings.npy`` (float32,
vocabulary × dimension, one row per token id; frequency weighting already folded into the rows)
and ``babelir_static.json`` (``{"teacher": …, "dim": …}``). No neural network runs at encoding
time: tokenising and one sum per text.

Input: texts. Output: float32 (n, dim), unit rows (a text without known tokens is a zero row).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from babelir.encode.base import normalise_rows
from babelir.errors import BabelirError

SETTINGS = "babelir_static.json"


class StaticEncoder:
    """Token-vector averaging from a directory written by ``babelir model distill-static``."""

    sparse_dim = 0

    def __init__(self, spec: str):
        from tokenizers import Tokenizer

        self.path = Path(spec.split(":", 1)[1]).expanduser().resolve()
        self.name = f"static:{self.path}"
        try:
            self.settings = json.loads((self.path / SETTINGS).read_text(encoding="utf-8"))
            self._tokenizer = Tokenizer.from_file(str(self.path / "tokenizer.json"))
            self._vectors = np.load(self.path / "embeddings.npy", mmap_mode="r")
        except (FileNotFoundError, ValueError, OSError) as exc:
            raise BabelirError(f"{spec}: not a static encoder directory ({exc})") from None
        self.dim = int(self._vectors.shape[1])

    def _encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(list(texts), add_special_tokens=False)
        ids = [np.asarray(e.ids, dtype=np.int64) for e in encodings]
        lengths = np.array([len(i) for i in ids])
        flat = np.concatenate(ids) if lengths.sum() else np.zeros(0, dtype=np.int64)
        rows = np.asarray(self._vectors[flat], dtype=np.float32)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        nonempty = lengths > 0
        out[nonempty] = np.add.reduceat(rows, starts[nonempty], axis=0)
        return normalise_rows(out)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts)

    def encode_sparse(self, texts: list[str], top_k: int = 256):
        raise BabelirError(f"{self.name} has no learned sparse head (--sparse needs e5-small)")

    def config(self) -> dict[str, Any]:
        stat = (self.path / "embeddings.npy").stat()
        return {"name": self.name, "impl": "static", "dim": self.dim, "teacher": self.settings.get("teacher"),
                "weights": f"embeddings.npy:{stat.st_size}:{int(stat.st_mtime)}"}
