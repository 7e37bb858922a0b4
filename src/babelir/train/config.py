"""Configuration of ``babelir train``: a YAML/JSON file, flags override it, every field checked.

Input: a mapping (from a file or flags). Output: :class:`TrainConfig`; an unknown key or a bad
value is an :class:`~babelir.errors.InputError` naming the file and the field.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

from babelir.errors import InputError


@dataclass
class TrainConfig:
    """What to train, on what, and how. Paths are kept as given."""

    model: str                       # hf:DIR (or DIR) of the model to start from
    output: str                      # directory of the fine-tuned hf: model (checkpoints inside)
    data: str | None = None          # JSONL examples; or use xquadr + langs
    xquadr: str | None = None        # XQuAD-R directory: train on its fixed training split
    langs: list[str] | None = None   # XQuAD-R languages to train on
    negatives: int = 1               # hard negatives per example (mined when the data has none)
    mine_from: str = "bm25"          # bm25 | model | none
    epochs: float = 1.0
    batch_size: int = 16
    grad_accum: int = 1              # micro-batches per optimiser step (in-batch negatives per micro-batch)
    lr: float = 2e-5
    warmup: float = 0.1              # share of steps with a linear warm-up
    temperature: float = 0.01        # InfoNCE temperature (E5's)
    batching: str = "mixed"          # mixed | per-language
    teacher: str | None = None       # encoder spec giving teacher scores (e5-small, hf:DIR) for distillation
    distill_weight: float = 0.0      # weight of KL(teacher || student) over each query's candidates
    teacher_temperature: float = 0.05
    max_length: int = 128
    freeze_embeddings: bool = True   # the 250k x 384 vocabulary table is 80% of mE5-small's weights
    freeze_layers: int = 0           # lower transformer layers kept frozen (less backward work on a CPU)
    seed: int = 0
    checkpoint_every: int = 50       # optimiser steps between checkpoints
    device: str = "auto"             # auto | cpu | cuda


CHOICES = {"mine_from": ("bm25", "model", "none"), "batching": ("mixed", "per-language"),
           "device": ("auto", "cpu", "cuda")}


def load_config(path: str | Path | None, overrides: dict) -> TrainConfig:
    """The configuration from ``path`` (YAML or JSON; optional) with ``overrides`` (not None) applied."""
    where = str(path) if path else "flags"
    values: dict = {}
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InputError(where, None, None, "no such config file") from None
        if str(path).endswith(".json"):
            values = json.loads(text)
        else:
            import yaml

            try:
                values = yaml.safe_load(text) or {}
            except yaml.YAMLError as exc:
                raise InputError(where, None, None, f"not YAML: {exc}") from None
        if not isinstance(values, dict):
            raise InputError(where, None, None, "expected a mapping of settings")
    values.update({k: v for k, v in overrides.items() if v is not None})
    fields = {f.name: f for f in dataclasses.fields(TrainConfig)}
    for key in values:
        if key not in fields:
            raise InputError(where, None, key, f"unknown setting; known: {', '.join(fields)}")
    for key in ("model", "output"):
        if not values.get(key):
            raise InputError(where, None, key, "required")
    if not values.get("data") and not values.get("xquadr"):
        raise InputError(where, None, "data", "give a JSONL file of examples (data) or an XQuAD-R directory (xquadr)")
    if values.get("langs") and isinstance(values["langs"], str):
        values["langs"] = [x.strip() for x in values["langs"].split(",") if x.strip()]
    config = TrainConfig(**values)
    for key, allowed in CHOICES.items():
        if getattr(config, key) not in allowed:
            raise InputError(where, None, key, f"{getattr(config, key)!r} is not one of {', '.join(allowed)}")
    for key in ("batch_size", "grad_accum", "max_length", "checkpoint_every"):
        if int(getattr(config, key)) < 1:
            raise InputError(where, None, key, "must be at least 1")
    for key in ("lr", "temperature", "teacher_temperature", "epochs"):
        if not float(getattr(config, key)) > 0:
            raise InputError(where, None, key, "must be positive")
    if config.freeze_layers < 0:
        raise InputError(where, None, "freeze_layers", "must be 0 or more")
    if config.negatives < 0 or not 0 <= config.warmup < 1 or config.distill_weight < 0:
        raise InputError(where, None, "negatives/warmup/distill_weight", "out of range")
    if config.distill_weight > 0 and not config.teacher:
        raise InputError(where, None, "teacher", "distill_weight > 0 needs a teacher (e.g. e5-small)")
    return config
