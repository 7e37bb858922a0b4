"""``ce:DIR``: a cross-encoder from a local directory scores each (query, passage) pair jointly.

The directory is a sentence-transformers ``CrossEncoder`` or a plain transformers model with a
sequence-classification head (``AutoModelForSequenceClassification``, e.g. a saved
``BertForSequenceClassification``); nothing is downloaded. Method: Nogueira & Cho 2019, "Passage
Re-ranking with BERT" (arXiv:1901.04085): the query and the passage go through the model as one
sequence pair (``[CLS] query [SEP] passage [SEP]``) and the head's output is the relevance score.

Score: with one label, the sigmoid of its logit; with several, the softmax probability of the last
label (the "relevant" class of a two-label model). Both backends give the same scale.

Options: ``max_length`` (tokens of the pair, truncated longest-first; default: the model's position
limit, at most 512), ``backend`` (``auto``: sentence-transformers when installed, else transformers;
``st``; ``hf``), ``device`` (default: CUDA when available, else the CPU).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from babelir.errors import BabelirError
from babelir.retrieve.rerankers.common import as_int, pointwise


class CrossEncoderReranker:
    """Scores (query, passage) pairs with the cross-encoder in ``directory``.

    ``scores(query, passages, batch_size) -> numpy float array (n,)``; :meth:`rerank` adds the cache.
    Errors: :class:`BabelirError` when the directory is missing, holds no loadable model, or torch /
    transformers are not installed."""

    OPTIONS = ("max_length", "backend", "device")

    def __init__(self, directory: str, max_length=None, backend: str = "auto", device: str | None = None):
        path = Path(directory).expanduser()
        self.label = f"ce:{directory}"
        if not (path / "config.json").is_file():
            raise BabelirError(f"{self.label}: no config.json there (give a local cross-encoder model directory)")
        if backend not in ("auto", "st", "hf"):
            raise BabelirError(f"{self.label}: backend must be auto, st or hf, not {backend!r}")
        try:
            config = json.loads((path / "config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise BabelirError(f"{self.label}: config.json is not readable JSON ({exc})") from None
        self.max_length = as_int("max_length", max_length, 1) if max_length is not None else _default_length(config)
        self.path, self.device = path.resolve(), device
        if backend == "auto":
            try:
                import sentence_transformers  # noqa: F401
                backend = "st"
            except ImportError:
                backend = "hf"
        self.backend = backend
        self.model_id = f"ce:{self.path}#{_fingerprint(self.path)}|max_length={self.max_length}"
        self._model = self._tokenizer = None
        self._load()

    def _load(self) -> None:
        try:
            import torch
        except ImportError:
            raise BabelirError(f"{self.label} needs torch and transformers: pip install torch==2.13.0 "
                               "'babelir[hf]'") from None
        device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
        try:
            if self.backend == "st":
                from sentence_transformers import CrossEncoder

                self._model = CrossEncoder(str(self.path), device=device, max_length=self.max_length,
                                           local_files_only=True)
                self.num_labels = self._model.num_labels
            else:
                from transformers import AutoModelForSequenceClassification, AutoTokenizer

                self._tokenizer = AutoTokenizer.from_pretrained(str(self.path), local_files_only=True)
                self._model = AutoModelForSequenceClassification.from_pretrained(str(self.path), local_files_only=True)
                self._model.to(device).eval()
                self.num_labels = self._model.config.num_labels
        except ImportError as exc:
            raise BabelirError(f"{self.label} needs sentence-transformers or transformers ({exc}): "
                               "pip install 'babelir[hf]'") from None
        except (OSError, ValueError, KeyError) as exc:
            reason = " ".join(str(exc).split())[:160]
            raise BabelirError(f"{self.label}: cannot load a cross-encoder ({reason})") from None
        self._device = device

    def scores(self, query: str, passages: list[str], batch_size: int = 32):
        """One score per passage (float array of shape (n,)), higher = more relevant."""
        import numpy as np

        if not passages:
            return np.zeros(0)
        if self.backend == "st":
            out = np.asarray(self._model.predict([(query, p) for p in passages], batch_size=batch_size,
                                                 show_progress_bar=False, apply_softmax=self.num_labels > 1,
                                                 convert_to_numpy=True), dtype=float)
            return out if out.ndim == 1 else out[:, -1]
        import torch

        parts = []
        with torch.inference_mode():
            for start in range(0, len(passages), batch_size):
                chunk = passages[start:start + batch_size]
                batch = self._tokenizer([query] * len(chunk), chunk, padding=True, truncation=True,
                                        max_length=self.max_length, return_tensors="pt").to(self._device)
                logits = self._model(**batch).logits.float()
                probs = torch.sigmoid(logits[:, 0]) if logits.shape[1] == 1 else torch.softmax(logits, -1)[:, -1]
                parts.append(probs.cpu().numpy())
        return np.concatenate(parts).astype(float)

    def rerank(self, query: str, docs: list[tuple[str, str]], cache, batch_size: int):
        """(scores in ``docs`` order, how many came from ``cache``)."""
        return pointwise(self.model_id, query, docs, cache, lambda items: self.scores(query, [t for _, t in items], batch_size),
                         batch_size)

    def close(self) -> None:
        self._model = self._tokenizer = None


def _default_length(config: dict) -> int:
    """The model's usable positions (RoBERTa-style models reserve two), at most 512."""
    positions = int(config.get("max_position_embeddings") or 512)
    if "roberta" in str(config.get("model_type", "")):
        positions -= 2
    return max(8, min(512, positions))


def _fingerprint(path: Path) -> str:
    """A hash of the directory's files (names, sizes, modification times): a retrained model in the
    same directory gets a new cache key."""
    entries = sorted((str(p.relative_to(path)), p.stat().st_size, p.stat().st_mtime_ns)
                     for p in path.rglob("*") if p.is_file())
    return hashlib.sha256(json.dumps(entries).encode()).hexdigest()[:16]
