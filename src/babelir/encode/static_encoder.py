"""A static encoder (``static:DIR``): a sentence is the mean of its tokens' stored vectors.

DIR holds ``tokenizer.json`` (any ``tokenizers`` tokenizer), ``embeddings.npy`` (float16 or
float32, vocabulary × dimension, one row per token id; frequency weighting already folded into the rows)
and ``babelir_static.json`` (``{"teacher": …, "dim": …}``; a ``"token_map"`` entry names a
``token_map.npy`` that maps token ids to rows of a smaller, semantic-token table). No neural network runs at encoding
time: tokenising and one sum per text.

Input: texts. Output: float32 (n, dim), unit rows (a text without known tokens is a zero row).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from babelir.encode.base import normalise_rows, register_encoder
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
            # read into memory once: gathering rows from a memory map pays page faults on every new token
            self._vectors = np.load(self.path / "embeddings.npy").astype(np.float32, copy=False)
        except (FileNotFoundError, ValueError, OSError) as exc:
            raise BabelirError(f"{spec}: not a static encoder directory ({exc})") from None
        self.dim = int(self._vectors.shape[1])
        self._token_map = None  # semantic tokens (babelir analyze semantic-tokens): token id -> table row
        if self.settings.get("token_map"):
            try:
                self._token_map = np.load(self.path / self.settings["token_map"]).astype(np.int64)
            except (FileNotFoundError, ValueError, OSError) as exc:
                raise BabelirError(f"{spec}: cannot read its token map ({exc})") from None

    def _encode(self, texts: list[str]) -> np.ndarray:
        from scipy.sparse import csr_matrix

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(list(texts), add_special_tokens=False)
        ids = [e.ids for e in encodings]
        lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
        flat = np.fromiter((i for row in ids for i in row), dtype=np.int64, count=int(lengths.sum()))
        if self._token_map is not None:
            flat = self._token_map[flat]
        # sums of token rows as one sparse (texts x vocabulary) product: no (tokens x dim) intermediate
        counts = csr_matrix((np.ones(len(flat), dtype=np.float32), flat, np.concatenate([[0], np.cumsum(lengths)])),
                            shape=(len(texts), self._vectors.shape[0]))
        out = np.asarray(counts @ self._vectors, dtype=np.float32)
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
                "weights": f"embeddings.npy:{stat.st_size}:{int(stat.st_mtime)}",
                "token_map": self.settings.get("token_map")}


# never cached: averaging token vectors is cheaper than a cache lookup
register_encoder("static:", StaticEncoder, cacheable=False)
