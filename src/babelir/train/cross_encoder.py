"""Training a multilingual cross-encoder (a ``ce:`` reranker) on top of an ``hf:`` encoder.

Model: ``AutoModelForSequenceClassification.from_pretrained(DIR, num_labels=1)``: the encoder reads
``query </s></s> passage`` (the tokenizer's pair template; no E5 prefixes) and a linear head on the
first token gives one relevance logit.

Loss: the listwise softmax cross-entropy over each query's group ``[positive, *hard negatives]``
(monoBERT trained with "localized contrastive estimation", Gao, Dai and Callan, ECIR 2021,
https://arxiv.org/abs/2101.08751): per group, ``-log softmax(logits)[positive]``; groups with
fewer negatives are padded with ``-inf``. With ``distill`` a term towards the bi-encoder's cosines
``t`` over the same group is added, ``distill_weight`` times:

- ``kl``: KL(softmax(t / teacher_temperature) ‖ softmax(logits));
- ``mse``: the mean squared error between the centred logits and the centred ``t / teacher_temperature``
  (Margin-MSE in spirit, Hofstätter et al. 2020: only differences within a group are matched).

The vocabulary table is frozen by default (most of mE5-small's weights; one language's data touches
few rows). Checkpoints and resume are the bi-encoder loop's (:func:`babelir.train.loop.save_checkpoint`,
:func:`~babelir.train.loop.restore_checkpoint`): re-running the same command resumes, other settings
are refused.

Output: a ``ce:`` directory that ``sentence_transformers.CrossEncoder(OUT)`` loads (``config.json``
with ``sentence_transformers.activation_fn`` = identity, so scores are raw logits; the tokenizer
with ``model_max_length`` = the training length), plus ``babelir_reranker.json`` and
``babelir_training.json`` (settings, loss of every step).

Input: :class:`CETrainConfig` and examples (:mod:`babelir.train.ce_data`). Output:
:class:`babelir.train.loop.TrainResult`.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from babelir.errors import InputError
from babelir.train.data import Example


@dataclass
class CETrainConfig:
    """What to train, on what, and how (``babelir train --cross-encoder``)."""

    model: str                       # hf:DIR of the encoder to start from
    output: str                      # the ce: directory to write (checkpoints inside while training)
    data: str | None = None          # JSONL groups; or xquadr + langs
    xquadr: str | None = None
    langs: list[str] | None = None
    negatives: list[str] = field(default_factory=lambda: ["bm25", "dense"])  # mining sources, in order
    negatives_per_query: int = 7
    distill: str | None = None       # None | kl | mse
    distill_weight: float = 1.0
    teacher: str | None = None       # bi-encoder for dense negatives and distillation (default: model as hf:)
    teacher_temperature: float = 0.05
    epochs: float = 1.0
    batch_size: int = 8              # groups per step
    lr: float = 2e-5
    warmup: float = 0.1
    max_length: int = 256            # tokens per (query, passage) pair
    freeze_embeddings: bool = True
    seed: int = 0
    checkpoint_every: int = 50
    device: str = "auto"             # auto | cpu | cuda


def ce_config(values: dict) -> CETrainConfig:
    """A checked :class:`CETrainConfig` from flags (``None`` values dropped); bad values are :class:`InputError`."""
    values = {k: v for k, v in values.items() if v is not None}
    for key in ("model", "output"):
        if not values.get(key):
            raise InputError("flags", None, key, "required")
    if not values.get("data") and not values.get("xquadr"):
        raise InputError("flags", None, "data", "give a JSONL file of groups (--data) or an XQuAD-R directory "
                                                "(--xquadr)")
    for key in ("langs", "negatives"):
        if isinstance(values.get(key), str):
            values[key] = [x.strip() for x in values[key].split(",") if x.strip()]
    if values.get("negatives") in (["none"], []):
        values["negatives"] = []
    config = CETrainConfig(**values)
    bad = [s for s in config.negatives if s not in ("bm25", "dense")]
    if bad:
        raise InputError("flags", None, "negatives", f"{bad[0]!r}: sources are bm25, dense (comma-separated) or none")
    if config.distill not in (None, "kl", "mse"):
        raise InputError("flags", None, "distill", f"{config.distill!r} is not one of kl, mse")
    if config.device not in ("auto", "cpu", "cuda"):
        raise InputError("flags", None, "device", f"{config.device!r} is not one of auto, cpu, cuda")
    for key in ("batch_size", "max_length", "checkpoint_every"):
        if int(getattr(config, key)) < 1:
            raise InputError("flags", None, key, "must be at least 1")
    for key in ("lr", "epochs", "teacher_temperature"):
        if not float(getattr(config, key)) > 0:
            raise InputError("flags", None, key, "must be positive")
    if config.negatives_per_query < 0 or not 0 <= config.warmup < 1 or config.distill_weight < 0:
        raise InputError("flags", None, "negatives_per_query/warmup/distill_weight", "out of range")
    return config


def group_scores(model, tokenizer, batch: list[Example], max_length: int, device: str):
    """Logits of every (query, candidate) pair, ``(groups, 1 + most negatives)``; missing candidates ``-inf``."""
    import torch

    width = 1 + max(len(ex.negatives) for ex in batch)
    queries, texts, where = [], [], []
    for i, ex in enumerate(batch):
        for j, text in enumerate([ex.positive, *ex.negatives]):
            queries.append(ex.query)
            texts.append(text)
            where.append(i * width + j)
    encoded = tokenizer(queries, texts, padding=True, truncation=True, max_length=max_length,
                        return_tensors="pt").to(device)
    logits = model(**encoded).logits.squeeze(-1).float()
    scores = torch.full((len(batch) * width,), float("-inf"), device=logits.device)
    scores = scores.index_put((torch.tensor(where, device=logits.device),), logits)
    return scores.view(len(batch), width)


def group_loss(scores, batch: list[Example], config: CETrainConfig):
    """Listwise softmax cross-entropy towards each group's positive (column 0), plus the distillation term."""
    import torch
    import torch.nn.functional as F

    loss = F.cross_entropy(scores, torch.zeros(len(batch), dtype=torch.long, device=scores.device))
    if not config.distill:
        return loss
    terms = []
    for i, ex in enumerate(batch):
        if ex.teacher_scores is None or len(ex.teacher_scores) < 2:
            continue
        student = scores[i, :len(ex.teacher_scores)]
        teacher = torch.tensor(ex.teacher_scores, device=scores.device) / config.teacher_temperature
        if config.distill == "kl":
            terms.append(F.kl_div(torch.log_softmax(student, -1), torch.log_softmax(teacher, -1), log_target=True,
                                  reduction="sum"))
        else:
            terms.append(F.mse_loss(student - student.mean(), teacher - teacher.mean()))
    return loss + config.distill_weight * torch.stack(terms).mean() if terms else loss


def train_cross_encoder(config: CETrainConfig, examples: list[Example], quiet: bool = False,
                        stop_after: int | None = None, log=print):
    """Train the cross-encoder; ``stop_after`` optimiser steps ends early (a checkpoint stays). Returns TrainResult.

    Raises :class:`BabelirError` when torch/transformers are missing, the output is the model
    itself, or a checkpoint in the output was made with other settings.
    """
    from babelir.progress import progress
    from babelir.train.loop import TrainingState, TrainResult, plan_batches, save_checkpoint, start_training

    torch, source, output, device, tokenizer = start_training(config)
    from transformers import AutoModelForSequenceClassification
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # "classifier newly initialised" is the point here, not a warning
    try:
        model = AutoModelForSequenceClassification.from_pretrained(source, num_labels=1, local_files_only=True)
    finally:
        hf_logging.set_verbosity(verbosity)
    model.to(device)
    if config.freeze_embeddings:
        model.get_input_embeddings().weight.requires_grad_(False)
    batches = plan_batches(examples, config.batch_size, "mixed", config.seed, config.epochs)
    total_steps = max(1, len(batches))
    state = TrainingState.start(model, config, examples, output, device, total_steps, log)
    trainable, optimiser, schedule, checkpoints, fingerprint = (state.trainable, state.optimiser, state.schedule,
                                                                state.checkpoints, state.fingerprint)
    step, losses = state.step, state.losses
    resumed_from = step
    max_length = min(config.max_length, getattr(model.config, "max_position_embeddings", config.max_length))
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if device == "cuda" else _nothing()
    started = time.time()
    bar = progress(total=total_steps, desc="train ce", unit="step", quiet=quiet)
    bar.update(step)
    while step < total_steps and (stop_after is None or step < stop_after):
        optimiser.zero_grad(set_to_none=True)
        batch = [examples[i] for i in batches[step]]
        with autocast:
            scores = group_scores(model, tokenizer, batch, max_length, device)
        loss = group_loss(scores, batch, config)
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for _, p in trainable], 1.0)
        optimiser.step()
        schedule.step()
        step += 1
        losses.append(float(loss.detach()))
        bar.update(1)
        bar.set_postfix(loss=f"{losses[-1]:.4f}")
        if step % config.checkpoint_every == 0 or step == total_steps or step == stop_after:
            save_checkpoint(checkpoints, step, model, trainable, optimiser, schedule, losses, fingerprint)
    bar.close()
    result = TrainResult(output, step, resumed_from, losses, time.time() - started, step >= total_steps)
    if result.finished:
        write_ce_model(output, model, tokenizer, max_length, source,
                       {"settings": dataclasses.asdict(config), "examples": len(examples), "steps": total_steps,
                        "seconds": round(result.seconds, 1), "resumed_from": resumed_from,
                        "loss_first": losses[0] if losses else None, "loss_last": losses[-1] if losses else None,
                        "losses": [round(x, 5) for x in losses]})
        shutil.rmtree(checkpoints, ignore_errors=True)
    return result


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def write_ce_model(output: Path, model, tokenizer, max_length: int, source, record: dict | None = None) -> Path:
    """Write ``model`` (a sequence classifier with one label) and ``tokenizer`` as a ``ce:`` directory, atomically.

    Files: the transformers weights and config (with ``sentence_transformers.activation_fn`` set to
    identity), the tokenizer (``model_max_length`` = ``max_length``), ``babelir_reranker.json`` and,
    when given, ``babelir_training.json``. Existing files of those names in ``output`` are replaced.
    """
    output = Path(output)
    staging = output / "final.partial"
    shutil.rmtree(staging, ignore_errors=True)
    model.config.sentence_transformers = {"activation_fn": "torch.nn.modules.linear.Identity"}
    model.save_pretrained(staging, safe_serialization=True)
    tokenizer.model_max_length = max_length
    tokenizer.save_pretrained(staging)
    (staging / "babelir_reranker.json").write_text(json.dumps(
        {"kind": "cross-encoder", "base": str(source), "max_length": max_length, "scores": "logits",
         "loss": "listwise softmax cross-entropy (LCE)"}, indent=2) + "\n", encoding="utf-8")
    if record is not None:
        (staging / "babelir_training.json").write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n",
                                                       encoding="utf-8")
    from babelir.train.loop import publish

    publish(staging, output)
    return output

