"""Encoders from a local model directory: ``hf:PATH`` (transformers) and ``st:PATH``
(sentence-transformers). Optional extra ``babelir[hf]``; torch must be installed first.

``hf:PATH`` loads ``AutoTokenizer`` and ``AutoModel`` from PATH (never from the network), pools the
last hidden states by the attention-masked mean (as E5 does) or the first token (``"pooling":
"cls"``), and unit-normalises. Prefixes, pooling and the maximum length come from an optional
``babelir_encoder.json`` in PATH (``{"query_prefix": "query: ", "passage_prefix": "passage: ",
"pooling": "mean", "max_length": 512}``); without one there are no prefixes. A ``"token_map":
"token_map.npy"`` entry (written by ``babelir analyze semantic-tokens``) maps each token id to a row
of a smaller embedding table before the model runs.

``st:PATH`` loads a ``SentenceTransformer`` from PATH and uses its ``query`` / ``passage``
(or ``document``) prompts when the model defines them; embeddings are unit-normalised.

Both name themselves by the resolved path, so an index reopens its encoder from anywhere, and
their cache key includes the size and modification time of the model's weight files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from babelir.encode.base import normalise_rows, register_encoder
from babelir.errors import BabelirError

SETTINGS = "babelir_encoder.json"
DEFAULTS = {"query_prefix": "", "passage_prefix": "", "pooling": "mean", "max_length": 512}


def _model_dir(spec: str) -> Path:
    path = Path(spec.split(":", 1)[1]).expanduser().resolve()
    if not path.is_dir():
        raise BabelirError(f"{spec}: no such model directory")
    return path


def hf_model_dir(spec: str | Path, full_vocabulary: bool = False) -> Path:
    """The directory of ``hf:DIR`` (or a bare ``DIR``); it must hold a transformers ``config.json``.

    With ``full_vocabulary``, a semantic-token model (a token map before a smaller table, which
    plain transformers code would index with the tokenizer's ids) is refused.
    """
    path = Path(str(spec).removeprefix("hf:")).expanduser()
    if not (path / "config.json").exists():
        raise BabelirError(f"{spec}: not a Hugging Face model directory (no config.json)")
    if full_vocabulary and (path / "token_map.npy").exists():
        raise BabelirError(f"{spec}: a semantic-token model (token_map.npy); this needs the full model it came from")
    return path


def mean_pool(hidden, attention_mask):
    """E5's pooling: the mean of the last hidden states over the real (unmasked) tokens (torch)."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)


def _fingerprint(path: Path) -> str:
    """Sizes and modification times of the weight files: a cached encoding is tied to the weights."""
    files = sorted(p for p in path.rglob("*") if p.suffix in (".safetensors", ".bin", ".pt", ".npy") and p.is_file())
    return ";".join(f"{p.relative_to(path)}:{p.stat().st_size}:{int(p.stat().st_mtime)}" for p in files)


class HFEncoder:
    """A transformers encoder from a local directory (``hf:PATH``); ``batch_size`` texts per pass."""

    sparse_dim = 0

    def __init__(self, spec: str, batch_size: int = 32):
        try:
            import torch
            from transformers import AutoModel, AutoTokenizer
        except ImportError:
            raise BabelirError(f"{spec} needs torch and transformers: pip install torch==2.13.0 "
                               "'babelir[hf]'") from None
        self.path = _model_dir(spec)
        self.name = f"hf:{self.path}"
        settings_file = self.path / SETTINGS
        self.settings = {**DEFAULTS, **(json.loads(settings_file.read_text(encoding="utf-8"))
                                        if settings_file.exists() else {})}
        if self.settings["pooling"] not in ("mean", "cls"):
            raise BabelirError(f"{settings_file}: pooling must be mean or cls, not {self.settings['pooling']!r}")
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # babelir shows its own progress; no per-load bar
        try:
            self._tokenizer = AutoTokenizer.from_pretrained(self.path, local_files_only=True)
            self._model = AutoModel.from_pretrained(self.path, local_files_only=True).eval()
        except (OSError, ValueError) as exc:
            raise BabelirError(f"{spec}: cannot load a transformers model: {exc}") from None
        self._torch = torch
        self.dim = int(self._model.config.hidden_size)
        # never longer than the model's position table (a tiny model may have 64 positions)
        positions = getattr(self._model.config, "max_position_embeddings", None)
        if positions:
            self.settings["max_length"] = min(int(self.settings["max_length"]), int(positions))
        self._token_map = None
        if self.settings.get("token_map"):
            map_file = self.path / self.settings["token_map"]
            if not map_file.exists():
                raise BabelirError(f"{settings_file}: token_map {map_file.name} is missing")
            self._token_map = torch.from_numpy(np.load(map_file).astype(np.int64))
        self.batch_size = batch_size

    def _encode(self, texts: list[str], prefix: str) -> np.ndarray:
        torch = self._torch
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        # batches of similar length waste little on padding; rows go back to the input order
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(texts), self.batch_size):
            rows = order[start:start + self.batch_size]
            chunk = [prefix + texts[i] for i in rows]
            batch = self._tokenizer(chunk, padding=True, truncation=True, max_length=self.settings["max_length"],
                                    return_tensors="pt")
            if self._token_map is not None:  # semantic tokens: token id -> group row
                batch["input_ids"] = self._token_map[batch["input_ids"]]
            with torch.inference_mode():
                hidden = self._model(**batch).last_hidden_state
            if self.settings["pooling"] == "cls":
                pooled = hidden[:, 0]
            else:
                pooled = mean_pool(hidden, batch["attention_mask"])
            out[rows] = pooled.float().numpy()
        return normalise_rows(out)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(list(texts), self.settings["query_prefix"])

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(list(texts), self.settings["passage_prefix"])

    def encode_sparse(self, texts: list[str], top_k: int = 256):
        raise BabelirError(f"{self.name} has no learned sparse head (--sparse needs e5-small)")

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "impl": "transformers", "dim": self.dim, "weights": _fingerprint(self.path),
                "query_prefix": self.settings["query_prefix"], "passage_prefix": self.settings["passage_prefix"],
                "pooling": self.settings["pooling"], "max_length": self.settings["max_length"]}


class STEncoder:
    """A sentence-transformers model from a local directory (``st:PATH``)."""

    sparse_dim = 0

    def __init__(self, spec: str, batch_size: int = 32):
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise BabelirError(f"{spec} needs torch and sentence-transformers: pip install torch==2.13.0 "
                               "'babelir[hf]'") from None
        self.path = _model_dir(spec)
        self.name = f"st:{self.path}"
        try:
            self._model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
        except (OSError, ValueError) as exc:
            raise BabelirError(f"{spec}: cannot load a sentence-transformers model: {exc}") from None
        prompts = getattr(self._model, "prompts", None) or {}
        self.prompts = {"query": "query" if "query" in prompts else None,
                        "passage": next((p for p in ("passage", "document") if p in prompts), None)}
        dimension = getattr(self._model, "get_embedding_dimension", None) or \
            self._model.get_sentence_embedding_dimension  # the older name, before sentence-transformers 6
        self.dim = int(dimension())
        self.batch_size = batch_size

    def _encode(self, texts: list[str], side: str) -> np.ndarray:
        vectors = self._model.encode(list(texts), batch_size=self.batch_size, prompt_name=self.prompts[side],
                                     convert_to_numpy=True, show_progress_bar=False)
        return normalise_rows(np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim))

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, "query")

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, "passage")

    def encode_sparse(self, texts: list[str], top_k: int = 256):
        raise BabelirError(f"{self.name} has no learned sparse head (--sparse needs e5-small)")

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "impl": "sentence-transformers", "dim": self.dim,
                "weights": _fingerprint(self.path), "prompts": self.prompts}


register_encoder("hf:", HFEncoder)
register_encoder("st:", STEncoder)
