"""A local cache of encodings, keyed by the encoder's configuration, the side (query or passage)
and the text's hash. It lives outside any repository: ``$BABELIR_CACHE_DIR`` or
``~/.cache/babelir``, in one SQLite file per encoder. Re-encoding the same text is free.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np


def cache_dir() -> Path:
    return Path(os.environ.get("BABELIR_CACHE_DIR") or Path.home() / ".cache" / "babelir")


class CachedEncoder:
    """Wraps an encoder; encodes only the texts the cache does not hold."""

    def __init__(self, encoder, directory: Path | None = None):
        self.encoder = encoder
        self.name, self.dim = encoder.name, encoder.dim
        key = hashlib.sha256(json.dumps(encoder.config(), sort_keys=True).encode()).hexdigest()[:16]
        directory = directory or cache_dir()
        directory.mkdir(parents=True, exist_ok=True)
        label = "".join(c if c.isalnum() or c in "-_." else "-" for c in encoder.name)[-40:].strip("-")
        self._db = sqlite3.connect(directory / f"encodings-{label}-{key}.sqlite", check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vector BLOB NOT NULL)")
        self._db.execute("CREATE TABLE IF NOT EXISTS sparse (key BLOB PRIMARY KEY, indices BLOB NOT NULL, "
                         "vals BLOB NOT NULL)")
        self.hits = self.misses = 0

    def config(self) -> dict[str, Any]:
        return self.encoder.config()

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(list(texts), "q", self.encoder.encode_queries)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(list(texts), "p", self.encoder.encode_passages)

    @property
    def sparse_dim(self) -> int:
        return self.encoder.sparse_dim

    def encode_sparse(self, texts: list[str], top_k: int = 256) -> list[tuple[np.ndarray, np.ndarray]]:
        """Cached learned sparse vectors (see the wrapped encoder)."""
        keys = [hashlib.sha256(f"s{top_k}\x00{t}".encode()).digest() for t in texts]
        found = {}
        for start in range(0, len(keys), 900):
            chunk = keys[start:start + 900]
            rows = self._db.execute(f"SELECT key, indices, vals FROM sparse WHERE key IN ({','.join('?' * len(chunk))})",
                                    chunk)
            found.update((k, (np.frombuffer(i, dtype=np.int32), np.frombuffer(v, dtype=np.float32))) for k, i, v in rows)
        missing = [i for i, k in enumerate(keys) if k not in found]
        self.hits += len(keys) - len(missing)
        self.misses += len(missing)
        if missing:
            fresh = self.encoder.encode_sparse([texts[i] for i in missing], top_k=top_k)
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO sparse VALUES (?, ?, ?)",
                                     ((keys[i], idx.astype(np.int32).tobytes(), val.astype(np.float32).tobytes())
                                      for i, (idx, val) in zip(missing, fresh)))
            found.update((keys[i], vector) for i, vector in zip(missing, fresh))
        return [found[k] for k in keys]

    def _encode(self, texts: list[str], side: str, encode) -> np.ndarray:
        keys = [hashlib.sha256(f"{side}\x00{t}".encode()).digest() for t in texts]
        found: dict[bytes, np.ndarray] = {}
        for start in range(0, len(keys), 900):
            chunk = keys[start:start + 900]
            rows = self._db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({','.join('?' * len(chunk))})", chunk)
            found.update((k, np.frombuffer(v, dtype=np.float32)) for k, v in rows)
        missing = [i for i, k in enumerate(keys) if k not in found]
        self.hits += len(keys) - len(missing)
        self.misses += len(missing)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        if missing:
            fresh = encode([texts[i] for i in missing])
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                                     ((keys[i], fresh[j].astype(np.float32).tobytes()) for j, i in enumerate(missing)))
            for j, i in enumerate(missing):
                out[i] = fresh[j]
        for i, k in enumerate(keys):
            if k in found:
                out[i] = found[k]
        return out
