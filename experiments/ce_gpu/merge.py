"""Step 3 of the GPU recipe (run here): the full ``ce:`` directory from the local export + the returned files.

    python experiments/ce_gpu/merge.py --model models/e5-small --returned /work/.device/.../files -o models/ce-xquadr

The export's encoder (full 250k vocabulary) gets the returned fp16 deltas added to every weight
but the frozen word table, and the returned classifier head; the export's tokenizer is kept. The
result is written with :func:`babelir.train.cross_encoder.write_ce_model` (what ``babelir train
--cross-encoder`` writes). Then the merged model's logits on ``check.json``'s pairs are compared
with the GPU's: they must agree (max difference ≤ 0.02; fp16 deltas, another tokenizer's ids).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def merge(model: Path, returned: Path, output: Path) -> Path:
    import torch
    from safetensors.torch import load_file
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    from babelir.train.cross_encoder import write_ce_model

    hf_logging.set_verbosity_error()
    record = json.loads((returned / "babelir_training.json").read_text(encoding="utf-8"))
    max_length = record["settings"]["max_length"]
    ce = AutoModelForSequenceClassification.from_pretrained(model, num_labels=1, local_files_only=True)
    state = ce.state_dict()
    changed = set()
    with torch.no_grad():
        for name, value in load_file(str(returned / "head.safetensors")).items():
            state[name].copy_(value)
            changed.add(name)
        for part in sorted(returned.glob("delta-*.safetensors")):
            for name, delta in load_file(str(part)).items():
                state["bert." + name].add_(delta.float())
                changed.add("bert." + name)
    missing = sorted(set(state) - changed - {"bert.embeddings.word_embeddings.weight"})
    if missing:
        raise SystemExit(f"the returned files lack {len(missing)} weights, e.g. {missing[:3]}")
    tokenizer = AutoTokenizer.from_pretrained(model, local_files_only=True)
    record["merged_from"] = {"model": str(model), "returned": str(returned)}
    return write_ce_model(output, ce, tokenizer, max_length, model, record)


def check(output: Path, returned: Path) -> float:
    from sentence_transformers import CrossEncoder

    expected = json.loads((returned / "check.json").read_text(encoding="utf-8"))
    got = CrossEncoder(str(output), device="cpu", local_files_only=True).predict(
        [tuple(p) for p in expected["pairs"]], batch_size=32)
    return max(abs(float(a) - float(b)) for a, b in zip(got, expected["logits"]))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", required=True, help="the local export (babelir model export-e5 -o DIR)")
    p.add_argument("--returned", required=True, help="folder of the files train_gpu.py wrote")
    p.add_argument("-o", "--output", required=True)
    args = p.parse_args(argv)
    model, returned, output = Path(args.model.removeprefix("hf:")), Path(args.returned), Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    merge(model, returned, output)
    worst = check(output, returned)
    print(f"wrote {output} (use it as ce:{output}); largest logit difference to the GPU's on 32 pairs: {worst:.4f}")
    if worst > 0.02:
        print("the merged model does not reproduce the trained one", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
