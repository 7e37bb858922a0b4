"""Contrastive fine-tuning of an ``hf:`` encoder: InfoNCE over in-batch and hard negatives, optional
distillation from a teacher's scores, gradient accumulation, checkpoints and resume.

Per micro-batch of B examples with n negatives each: queries (with the model's query prefix) and the
B positives plus B·n negatives (passage prefix) are encoded (masked mean pooling, unit length);
``scores = Q · Dᵀ / temperature``; the loss is cross-entropy towards each query's own positive. A
candidate whose text is the query's positive but sits in another column (two questions over one
sentence) is masked, so it is never treated as a negative. With a teacher, ``distill_weight`` ×
KL(softmax(teacher / τ_t) ‖ softmax(student / τ)) over each query's own candidates is added.

Checkpoints (``OUTPUT/checkpoints/step-N.pt``: trainable weights, optimiser, schedule, RNG) are
written atomically every ``checkpoint_every`` optimiser steps; a new run with the same settings
resumes from the latest. The fine-tuned model is written to ``OUTPUT`` as an ``hf:`` directory
(with the start model's tokenizer and prefixes) plus ``babelir_training.json`` (settings, losses).

Input: a :class:`TrainConfig` and examples. Output: :class:`TrainResult`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from babelir.encode.hf_encoder import hf_model_dir, mean_pool
from babelir.errors import BabelirError
from babelir.train.config import TrainConfig
from babelir.train.data import Example

CARRY_FILES = ("babelir_encoder.json", "modules.json", "sentence_bert_config.json", "config_sentence_transformers.json")


@dataclass
class TrainResult:
    output: Path
    steps: int
    resumed_from: int
    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0
    finished: bool = True


def plan_batches(examples: list[Example], batch_size: int, batching: str, seed: int, epochs: float) -> list[list[int]]:
    """The micro-batches (example indices) of the whole run, epoch after epoch, reproducible from ``seed``."""
    per_epoch = []
    whole = math.ceil(epochs)
    for epoch in range(whole):
        rng = np.random.default_rng(seed + epoch)
        if batching == "per-language":
            groups: dict = {}
            for i, ex in enumerate(examples):
                groups.setdefault(ex.lang, []).append(i)
            batches = []
            for members in groups.values():
                members = list(rng.permutation(members))
                batches += [members[s:s + batch_size] for s in range(0, len(members), batch_size)]
            order = rng.permutation(len(batches))
            batches = [batches[i] for i in order]
        else:
            order = [int(i) for i in rng.permutation(len(examples))]
            batches = [order[s:s + batch_size] for s in range(0, len(order), batch_size)]
        # a lone leftover example has no in-batch negatives: it waits for the next epoch's order
        per_epoch.append([[int(i) for i in b] for b in batches if len(b) > 1 or len(examples) == 1])
    flat = [b for batches in per_epoch for b in batches]
    return flat[:max(1, round(len(per_epoch[0]) * epochs))] if per_epoch else []


def _settings_hash(config: TrainConfig, examples: list[Example]) -> str:
    keep = {k: v for k, v in dataclasses.asdict(config).items() if k not in ("checkpoint_every", "device")}
    digest = hashlib.sha256(json.dumps(keep, sort_keys=True).encode())
    for ex in examples:
        digest.update(json.dumps(dataclasses.asdict(ex), sort_keys=True, ensure_ascii=False).encode())
    return digest.hexdigest()[:16]


class _Encoder:
    """Mean-pooled, normalised embeddings with gradients."""

    def __init__(self, model, tokenizer, settings, max_length, device):
        self.model, self.tokenizer, self.settings = model, tokenizer, settings
        self.max_length, self.device = max_length, device

    def __call__(self, texts: list[str], prefix_key: str):
        import torch

        batch = self.tokenizer([self.settings.get(prefix_key, "") + t for t in texts], padding=True,
                               truncation=True, max_length=self.max_length, return_tensors="pt").to(self.device)
        hidden = self.model(**batch).last_hidden_state
        return torch.nn.functional.normalize(mean_pool(hidden, batch["attention_mask"]), dim=-1)


def batch_loss(encode, batch: list[Example], config: TrainConfig):
    """InfoNCE (+ distillation) loss of one micro-batch; returns the loss tensor."""
    import torch

    q = encode([ex.query for ex in batch], "query_prefix")
    texts = [ex.positive for ex in batch] + [n for ex in batch for n in ex.negatives]
    d = encode(texts, "passage_prefix")
    scores = q @ d.T
    same = torch.tensor([[t == ex.positive and j != i for j, t in enumerate(texts)] for i, ex in enumerate(batch)],
                        device=scores.device)
    logits = (scores / config.temperature).masked_fill(same, float("-inf"))
    loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(batch), device=scores.device))
    if config.distill_weight > 0:
        kl, start = [], len(batch)
        for i, ex in enumerate(batch):
            columns = [i] + list(range(start, start + len(ex.negatives)))
            start += len(ex.negatives)
            if ex.teacher_scores is None or len(columns) < 2:
                continue
            teacher = torch.tensor(ex.teacher_scores, device=scores.device) / config.teacher_temperature
            student = scores[i, columns] / config.temperature
            kl.append(torch.nn.functional.kl_div(torch.log_softmax(student, -1), torch.log_softmax(teacher, -1),
                                                 log_target=True, reduction="sum"))
        if kl:
            loss = loss + config.distill_weight * torch.stack(kl).mean()
    return loss


def _latest_checkpoint(directory: Path) -> Path | None:
    found = sorted(directory.glob("step-*.pt"), key=lambda p: int(p.stem.split("-")[1]))
    return found[-1] if found else None


def train(config: TrainConfig, examples: list[Example], quiet: bool = False, stop_after: int | None = None,
          log=print) -> TrainResult:
    """Fine-tune ``config.model`` on ``examples``; ``stop_after`` optimiser steps ends early (a checkpoint stays)."""
    torch, source, output, device, tokenizer = start_training(config)
    from transformers import AutoModel

    from babelir.progress import progress

    settings_file = source / "babelir_encoder.json"
    settings = json.loads(settings_file.read_text(encoding="utf-8")) if settings_file.exists() else {}
    model = AutoModel.from_pretrained(source, local_files_only=True).to(device)
    if config.freeze_embeddings:
        model.get_input_embeddings().weight.requires_grad_(False)
    layers = getattr(getattr(model, "encoder", None), "layer", [])
    if config.freeze_layers > len(layers):
        raise BabelirError(f"freeze_layers {config.freeze_layers}: the model has {len(layers)} layers")
    for layer in list(layers)[:config.freeze_layers]:
        layer.requires_grad_(False)
    batches = plan_batches(examples, config.batch_size, config.batching, config.seed, config.epochs)
    total_steps = max(1, math.ceil(len(batches) / config.grad_accum))
    state = TrainingState.start(model, config, examples, output, device, total_steps, log)
    trainable, optimiser, schedule, checkpoints, fingerprint = (state.trainable, state.optimiser, state.schedule,
                                                                state.checkpoints, state.fingerprint)
    step, losses = state.step, state.losses
    resumed_from = step
    max_length = min(config.max_length, getattr(model.config, "max_position_embeddings", config.max_length))
    encode = _Encoder(model, tokenizer, settings, max_length, device)
    started = time.time()
    bar = progress(total=total_steps, desc="train", unit="step", quiet=quiet)
    bar.update(step)
    while step < total_steps and (stop_after is None or step < stop_after):
        optimiser.zero_grad(set_to_none=True)
        group = batches[step * config.grad_accum:(step + 1) * config.grad_accum]
        value = 0.0
        for micro in group:
            loss = batch_loss(encode, [examples[i] for i in micro], config) / len(group)
            loss.backward()
            value += float(loss.detach())
        torch.nn.utils.clip_grad_norm_([p for _, p in trainable], 1.0)
        optimiser.step()
        schedule.step()
        step += 1
        losses.append(value)
        bar.update(1)
        bar.set_postfix(loss=f"{value:.4f}")
        if step % config.checkpoint_every == 0 or step == total_steps or step == stop_after:
            save_checkpoint(checkpoints, step, model, trainable, optimiser, schedule, losses, fingerprint)
    bar.close()
    result = TrainResult(output, step, resumed_from, losses, time.time() - started, step >= total_steps)
    if result.finished:
        _write_model(output, source, model, tokenizer, config, result, len(examples), total_steps)
        shutil.rmtree(checkpoints, ignore_errors=True)
    return result


def start_training(config):
    """What every training run begins with: ``(torch, source dir, output dir, device, tokenizer)``.

    Raises :class:`BabelirError` when torch/transformers are missing, or the output is the model
    being trained. Seeds torch with ``config.seed``; ``config.device`` "auto" picks CUDA when there is one.
    Shared by :func:`train` and :func:`babelir.train.cross_encoder.train_cross_encoder`."""
    try:
        import torch
        from transformers import AutoTokenizer
        from transformers.utils import logging as hf_logging
    except ImportError:
        raise BabelirError("babelir train needs torch and transformers: pip install torch==2.13.0 "
                           "'babelir[train]'") from None
    hf_logging.disable_progress_bar()
    source, output = hf_model_dir(config.model, full_vocabulary=True), Path(config.output)
    if output.resolve() == source.resolve():
        raise BabelirError(f"output {output} is the model being trained; choose another directory")
    device = ("cuda" if torch.cuda.is_available() else "cpu") if config.device == "auto" else config.device
    torch.manual_seed(config.seed)
    return torch, source, output, device, AutoTokenizer.from_pretrained(source, local_files_only=True)


@dataclass
class TrainingState:
    """The optimiser (AdamW, weight decay 0.01), the linear warm-up schedule and the checkpoint
    directory of a run over ``model``'s trainable parameters, restored from the latest checkpoint
    (``step``, ``losses``) when there is one made with the same settings."""

    trainable: list
    optimiser: object
    schedule: object
    checkpoints: Path
    fingerprint: str
    step: int
    losses: list[float]

    @classmethod
    def start(cls, model, config, examples, output: Path, device: str, total_steps: int, log=print) -> "TrainingState":
        import torch
        from transformers import get_linear_schedule_with_warmup

        model.train()
        trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        optimiser = torch.optim.AdamW([p for _, p in trainable], lr=config.lr, weight_decay=0.01)
        schedule = get_linear_schedule_with_warmup(optimiser, int(config.warmup * total_steps), total_steps)
        checkpoints = output / "checkpoints"
        checkpoints.mkdir(parents=True, exist_ok=True)
        fingerprint = _settings_hash(config, examples)
        step, losses = restore_checkpoint(checkpoints, fingerprint, model, optimiser, schedule, device, total_steps,
                                          log)
        return cls(trainable, optimiser, schedule, checkpoints, fingerprint, step, losses)


def restore_checkpoint(checkpoints: Path, fingerprint: str, model, optimiser, schedule, device: str, total_steps: int,
                       log=print) -> tuple[int, list[float]]:
    """Load the latest checkpoint in ``checkpoints`` into model, optimiser, schedule and RNG; ``(step, losses)``.

    ``(0, [])`` when there is none; a checkpoint whose ``fingerprint`` differs is a :class:`BabelirError`.
    Shared by the bi-encoder loop and :mod:`babelir.train.cross_encoder`.
    """
    import torch

    latest = _latest_checkpoint(checkpoints)
    if latest is None:
        return 0, []
    state = torch.load(latest, map_location=device, weights_only=False)
    if state["fingerprint"] != fingerprint:
        raise BabelirError(f"{latest} was made with other settings or data; use the same ones to resume, "
                           f"or remove {checkpoints}")
    model.load_state_dict(state["model"], strict=False)
    optimiser.load_state_dict(state["optimizer"])
    schedule.load_state_dict(state["scheduler"])
    torch.set_rng_state(state["rng"])
    if state.get("cuda_rng") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda_rng"])
    log(f"resuming from {latest} (step {state['step']} of {total_steps})")
    return state["step"], state["losses"]


def save_checkpoint(directory, step, model, trainable, optimiser, schedule, losses, fingerprint) -> None:
    import torch

    names = {n for n, _ in trainable}
    state = {"model": {n: p for n, p in model.state_dict().items() if n in names}, "optimizer": optimiser.state_dict(),
             "scheduler": schedule.state_dict(), "rng": torch.get_rng_state(), "step": step, "losses": losses,
             "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
             "fingerprint": fingerprint}
    partial = directory / f"step-{step}.pt.partial"
    torch.save(state, partial)
    partial.rename(directory / f"step-{step}.pt")
    for old in directory.glob("step-*.pt"):
        if old.name != f"step-{step}.pt":
            old.unlink()


def _write_model(output: Path, source: Path, model, tokenizer, config, result, n_examples, total_steps) -> None:
    staging = output / "final.partial"
    shutil.rmtree(staging, ignore_errors=True)
    model.save_pretrained(staging, safe_serialization=True)
    tokenizer.save_pretrained(staging)
    for name in CARRY_FILES:
        if (source / name).exists():
            shutil.copy(source / name, staging / name)
    if (source / "1_Pooling").is_dir():
        shutil.copytree(source / "1_Pooling", staging / "1_Pooling")
    record = {"settings": dataclasses.asdict(config), "examples": n_examples, "steps": total_steps,
              "seconds": round(result.seconds, 1), "resumed_from": result.resumed_from,
              "loss_first": result.losses[0] if result.losses else None,
              "loss_last": result.losses[-1] if result.losses else None, "losses": [round(x, 5) for x in result.losses]}
    (staging / "babelir_training.json").write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n",
                                                   encoding="utf-8")
    publish(staging, output)


def publish(staging: Path, output: Path) -> None:
    """Move every file of a finished model from ``staging`` into ``output`` (replacing those of the same
    names), then remove ``staging``: the model appears only once it is whole."""
    for item in staging.iterdir():
        target = output / item.name
        if target.is_dir():
            shutil.rmtree(target)
        item.rename(target)
    staging.rmdir()
