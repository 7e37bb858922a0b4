"""The training examples a :class:`TrainConfig` asks for: read or built, negatives mined, teacher scored.

Input: the config. Output: the examples; a copy is written to ``OUTPUT/train-examples.jsonl`` so a
run can be inspected and repeated with ``data: OUTPUT/train-examples.jsonl``.
"""

from __future__ import annotations

from pathlib import Path

from babelir.errors import BabelirError
from babelir.train.config import TrainConfig
from babelir.train.data import Example, examples_from_collection, read_examples, write_examples, xquadr_part


def prepare_examples(config: TrainConfig, log=print) -> list[Example]:
    """Examples from ``config.data`` or XQuAD-R's training split of ``config.langs``, ready to train on."""
    from babelir.encode.base import get_encoder
    from babelir.encode.hf_encoder import hf_model_dir
    from babelir.train.negatives import add_teacher_scores, mine_negatives

    corpus = None
    if config.data:
        examples = read_examples(config.data)
    else:
        examples, corpus = [], []
        for lang in xquadr_langs(config.langs):
            part = xquadr_part(config.xquadr, lang, "train")
            examples += examples_from_collection(part)
            corpus += part.docs
    if config.negatives and config.mine_from != "none":
        encoder = get_encoder(f"hf:{hf_model_dir(config.model)}") if config.mine_from == "model" else None
        log(f"mining {config.negatives} hard negative(s) per example from {config.mine_from} "
            f"({len(examples)} examples)")
        examples = mine_negatives(examples, config.negatives, config.mine_from, corpus, encoder)
    if config.teacher and config.distill_weight > 0:
        log(f"scoring candidates with the teacher {config.teacher}")
        examples = add_teacher_scores(examples, get_encoder(config.teacher))
    Path(config.output).mkdir(parents=True, exist_ok=True)
    write_examples(Path(config.output) / "train-examples.jsonl", examples)
    return examples


def xquadr_langs(langs: list[str] | None) -> list[str]:
    """The XQuAD-R languages to train on: ``langs`` (every one when None); a BabelirError names the
    languages XQuAD-R lacks."""
    from babelir.io.xquadr import XQUADR_LANGS

    langs = langs or list(XQUADR_LANGS)
    unknown = sorted(set(langs) - set(XQUADR_LANGS))
    if unknown:
        raise BabelirError(f"XQuAD-R has no language {', '.join(unknown)}; it has {', '.join(XQUADR_LANGS)}")
    return langs
