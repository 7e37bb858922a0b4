"""``babelir train [--config FILE] --model hf:DIR -o DIR (--data FILE | --xquadr DIR --langs th) [options]``"""

from __future__ import annotations

import sys

from babelir.cli.argtypes import non_negative_float, non_negative_int, output_dir, positive_float, positive_int

FLAGS = [  # (flag, config key, type, help)
    ("--model", "model", str, "hf:DIR of the model to start from (e.g. from babelir model export-e5)"),
    ("--output", "output", output_dir, "directory of the fine-tuned model (an hf: directory; checkpoints inside)"),
    ("--data", "data", str, "JSONL examples: {query, positive, [negatives], [lang], [teacher_scores]}"),
    ("--xquadr", "xquadr", str, "XQuAD-R directory: train on its fixed training split (36 of 48 articles)"),
    ("--langs", "langs", str, "XQuAD-R languages to train on, comma-separated"),
    ("--negatives", "negatives", non_negative_int, "hard negatives per example (default 1)"),
    ("--mine-from", "mine_from", str, "where hard negatives come from: bm25 (default), model, none"),
    ("--epochs", "epochs", positive_float, "passes over the examples (default 1; fractions allowed)"),
    ("--batch-size", "batch_size", positive_int, "examples per micro-batch: the in-batch negatives (default 16)"),
    ("--grad-accum", "grad_accum", positive_int, "micro-batches per optimiser step (default 1)"),
    ("--lr", "lr", positive_float, "learning rate (default 2e-5)"),
    ("--temperature", "temperature", positive_float, "InfoNCE temperature (default 0.01)"),
    ("--batching", "batching", str, "mixed (default) or per-language batches"),
    ("--teacher", "teacher", str, "encoder whose scores to distil (e5-small, hf:DIR)"),
    ("--distill-weight", "distill_weight", non_negative_float, "weight of the distillation KL term (default 0: off)"),
    ("--max-length", "max_length", positive_int, "tokens per text (default 128)"),
    ("--freeze-layers", "freeze_layers", non_negative_int, "lower transformer layers kept frozen (default 0)"),
    ("--seed", "seed", non_negative_int, "random seed (default 0)"),
    ("--checkpoint-every", "checkpoint_every", positive_int, "optimiser steps between checkpoints (default 50)"),
    ("--device", "device", str, "auto (default: a GPU when there is one), cpu or cuda"),
]


def register(p) -> None:
    p.add_argument("--config", help="YAML or JSON file of settings; flags override it")
    for flag, key, kind, help_text in FLAGS:
        names = [flag, "-o"] if key == "output" else [flag]
        p.add_argument(*names, dest=key, type=kind, default=None, help=help_text)
    p.add_argument("--train-embeddings", dest="freeze_embeddings", action="store_false", default=None,
                   help="also train the vocabulary table (frozen by default)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args) -> int:
    from babelir.train.config import load_config
    from babelir.train.loop import train
    from babelir.train.prepare import prepare_examples

    overrides = {key: getattr(args, key) for _, key, _, _ in FLAGS}
    overrides["freeze_embeddings"] = args.freeze_embeddings
    config = load_config(args.config, overrides)

    def log(message: str) -> None:
        print(message, file=sys.stderr)

    examples = prepare_examples(config, log=log)
    result = train(config, examples, quiet=args.quiet, log=log)
    first = f"{result.losses[0]:.4f}" if result.losses else "-"
    last = f"{result.losses[-1]:.4f}" if result.losses else "-"
    print(f"trained {result.steps} steps on {len(examples)} examples in {result.seconds:.0f} s "
          f"(loss {first} -> {last}); model in {result.output} (use it as --encoder hf:{result.output})")
    return 0
