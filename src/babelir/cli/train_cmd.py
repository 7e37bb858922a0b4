"""``babelir train [--config FILE] --model hf:DIR -o DIR (--data FILE | --xquadr DIR --langs th) [options]``

``babelir train --cross-encoder --model hf:DIR -o DIR (--data FILE | --xquadr DIR --langs …) [--negatives bm25,dense]
[--negatives-per-query 7] [--distill [kl|mse]] [options]``: a ``ce:`` reranker (:mod:`babelir.train.cross_encoder`).
"""

from __future__ import annotations

import sys

from babelir.cli.argtypes import non_negative_float, non_negative_int, output_dir, positive_float, positive_int

FLAGS = [  # (flag, config key, type, help)
    ("--model", "model", str, "hf:DIR of the model to start from (e.g. from babelir model export-e5)"),
    ("--output", "output", output_dir, "directory of the fine-tuned model (an hf: directory; checkpoints inside)"),
    ("--data", "data", str, "JSONL examples: {query, positive, [negatives], [lang], [teacher_scores]}"),
    ("--xquadr", "xquadr", str, "XQuAD-R directory: train on its fixed training split (36 of 48 articles)"),
    ("--langs", "langs", str, "XQuAD-R languages to train on, comma-separated"),
    ("--negatives", "negatives", str, "hard negatives per example (default 1); with --cross-encoder: the mining "
                                      "sources, bm25,dense (default), bm25, dense or none"),
    ("--mine-from", "mine_from", str, "where hard negatives come from: bm25 (default), model, none"),
    ("--epochs", "epochs", positive_float, "passes over the examples (default 1; fractions allowed)"),
    ("--batch-size", "batch_size", positive_int, "examples per micro-batch: the in-batch negatives (default 16)"),
    ("--grad-accum", "grad_accum", positive_int, "micro-batches per optimiser step (default 1)"),
    ("--lr", "lr", positive_float, "learning rate (default 2e-5)"),
    ("--temperature", "temperature", positive_float, "InfoNCE temperature (default 0.01)"),
    ("--batching", "batching", str, "mixed (default) or per-language batches"),
    ("--teacher", "teacher", str, "encoder whose scores to distil (e5-small, hf:DIR)"),
    ("--distill-weight", "distill_weight", non_negative_float, "weight of the distillation KL term (default 0: off)"),
    ("--max-length", "max_length", positive_int, "tokens per text (default 128; --cross-encoder: per pair, 256)"),
    ("--freeze-layers", "freeze_layers", non_negative_int, "lower transformer layers kept frozen (default 0)"),
    ("--seed", "seed", non_negative_int, "random seed (default 0)"),
    ("--checkpoint-every", "checkpoint_every", positive_int, "optimiser steps between checkpoints (default 50)"),
    ("--device", "device", str, "auto (default: a GPU when there is one), cpu or cuda"),
]


CE_KEYS = {"model", "output", "data", "xquadr", "langs", "negatives", "epochs", "batch_size", "lr", "teacher",
           "distill_weight", "max_length", "seed", "checkpoint_every", "device"}


def register(p) -> None:
    p.add_argument("--config", help="YAML or JSON file of settings; flags override it")
    p.add_argument("--cross-encoder", action="store_true",
                   help="train a ce: reranker (one logit over query and passage; listwise loss over hard negatives)")
    p.add_argument("--negatives-per-query", type=non_negative_int, default=None,
                   help="--cross-encoder: hard negatives per query group (default 7)")
    p.add_argument("--distill", nargs="?", const="kl", default=None, choices=("kl", "mse"),
                   help="--cross-encoder: add distillation from the bi-encoder's scores (kl, the default, or mse)")
    for flag, key, kind, help_text in FLAGS:
        names = [flag, "-o"] if key == "output" else [flag]
        p.add_argument(*names, dest=key, type=kind, default=None, help=help_text)
    p.add_argument("--train-embeddings", dest="freeze_embeddings", action="store_false", default=None,
                   help="also train the vocabulary table (frozen by default)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args) -> int:
    if args.cross_encoder:
        return _run_cross_encoder(args)
    from babelir.errors import InputError
    from babelir.train.config import load_config

    for flag in ("negatives_per_query", "distill"):
        if getattr(args, flag) is not None:
            raise InputError("flags", None, flag, "applies to --cross-encoder only")
    if args.negatives is not None:
        try:
            args.negatives = non_negative_int(args.negatives)
        except Exception:
            raise InputError("flags", None, "negatives", f"{args.negatives!r}: a whole number of 0 or more "
                                                         "(sources like bm25,dense are for --cross-encoder)") from None
    from babelir.train.loop import train
    from babelir.train.prepare import prepare_examples

    overrides = {key: getattr(args, key) for _, key, _, _ in FLAGS}
    overrides["freeze_embeddings"] = args.freeze_embeddings
    config = load_config(args.config, overrides)

    examples = prepare_examples(config, log=_log)
    result = train(config, examples, quiet=args.quiet, log=_log)
    _report(result, f"{len(examples)} examples", f"model in {result.output} (use it as --encoder hf:{result.output})")
    return 0


def _run_cross_encoder(args) -> int:
    from babelir.errors import InputError
    from babelir.train.ce_data import prepare_ce_examples
    from babelir.train.cross_encoder import ce_config, train_cross_encoder

    if args.config:
        raise InputError("flags", None, "config", "--config is for bi-encoder training; give --cross-encoder's "
                                                  "settings as flags")
    for flag, key, _, _ in FLAGS:
        if key not in CE_KEYS and getattr(args, key) is not None:
            raise InputError("flags", None, key, f"{flag} does not apply to --cross-encoder")
    values = {key: getattr(args, key) for key in CE_KEYS}
    values.update(negatives_per_query=args.negatives_per_query, distill=args.distill,
                  freeze_embeddings=args.freeze_embeddings)
    config = ce_config(values)

    examples = prepare_ce_examples(config, log=_log)
    result = train_cross_encoder(config, examples, quiet=args.quiet, log=_log)
    _report(result, f"{len(examples)} query groups", f"cross-encoder in {result.output} (use it as ce:{result.output})")
    return 0


def _log(message: str) -> None:
    print(message, file=sys.stderr)


def _report(result, trained_on: str, where: str) -> None:
    first = f"{result.losses[0]:.4f}" if result.losses else "-"
    last = f"{result.losses[-1]:.4f}" if result.losses else "-"
    print(f"trained {result.steps} steps on {trained_on} in {result.seconds:.0f} s (loss {first} -> {last}); {where}")
