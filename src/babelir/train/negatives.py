"""Hard negatives for training examples, mined from BM25 or from a dense model, never a positive.

Input: examples, the corpus to mine from (documents; by default every text the examples hold), the
number of negatives, and ``bm25`` or an encoder. Output: the examples with ``negatives`` filled in
(examples that already have enough keep theirs). Every text that is a positive of the same query
is excluded, so duplicate questions over one sentence never push their answer down.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

from babelir.train.data import Example
from babelir.types import Doc, Query

DEPTH = 30  # candidates looked at per query


def _corpus(examples: list[Example]) -> list[Doc]:
    texts = dict.fromkeys(t for ex in examples for t in (ex.positive, *ex.negatives))
    langs = {ex.positive: ex.lang for ex in examples}
    return [Doc(f"t{i}", text, lang=langs.get(text)) for i, text in enumerate(texts)]


def mine_negatives(examples: list[Example], count: int, source: str = "bm25", corpus: list[Doc] | None = None,
                   encoder=None) -> list[Example]:
    """Fill each example's negatives up to ``count`` from the top ``DEPTH`` of BM25 (or dense) search."""
    from babelir.index.core import Index
    from babelir.retrieve.stage import BM25, Dense

    if count == 0 or source == "none" or all(len(ex.negatives) >= count for ex in examples):
        return examples
    corpus = corpus or _corpus(examples)
    text_of = {d.id: d.text for d in corpus}
    positives: dict[str, set[str]] = defaultdict(set)
    for ex in examples:
        positives[ex.query].add(ex.positive)
    queries = {}
    for ex in examples:
        queries.setdefault(ex.query, Query(f"q{len(queries)}", ex.query, ex.lang))
    with tempfile.TemporaryDirectory() as tmp:
        index = Index.create(Path(tmp) / "mine", encoder=encoder if source == "model" else None)
        index.add(corpus)
        run = (Dense(index) if source == "model" else BM25(index)).retrieve(list(queries.values()), DEPTH)
        index.close()
    mined = []
    for ex in examples:
        ranking = [text_of[doc_id] for doc_id, _ in run.ranking(queries[ex.query].id)]
        have = list(ex.negatives)
        for text in ranking:
            if len(have) >= count:
                break
            if text not in positives[ex.query] and text not in have:
                have.append(text)
        mined.append(replace(ex, negatives=have, teacher_scores=ex.teacher_scores if have == ex.negatives else None))
    return mined


def add_teacher_scores(examples: list[Example], teacher) -> list[Example]:
    """Each example's teacher scores (cosine of query and candidate) over ``[positive, *negatives]``."""
    import numpy as np

    need = [ex for ex in examples if ex.teacher_scores is None]
    if not need:
        return examples
    q = teacher.encode_queries([ex.query for ex in need])
    texts = list(dict.fromkeys(t for ex in need for t in (ex.positive, *ex.negatives)))
    row = {t: i for i, t in enumerate(texts)}
    p = teacher.encode_passages(texts)
    scored = iter([[float(np.dot(q[i], p[row[t]])) for t in (ex.positive, *ex.negatives)]
                   for i, ex in enumerate(need)])
    return [ex if ex.teacher_scores is not None else replace(ex, teacher_scores=next(scored)) for ex in examples]
