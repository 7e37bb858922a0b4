"""Training examples for contrastive fine-tuning, and XQuAD-R's fixed train / test split.

An example is ``(query, positive, [negatives], lang, [teacher scores])``. They come from:

- a JSONL file, one object per line: ``{"query": "...", "positive": "...", "negatives": ["..."],
  "lang": "th", "teacher_scores": [s_pos, s_neg1, ...]}`` (``negatives``, ``lang`` and
  ``teacher_scores`` optional; teacher scores, when given, cover the positive then each negative);
- any collection with qrels (:func:`examples_from_collection`): one example per relevant pair.

XQuAD-R split (:func:`xquadr_part`): by article, the same in every language. The 12 test articles
are those at positions 3, 7, …, 47 of the files (every fourth), listed in
:data:`babelir.io.xquadr.XQUADR_TEST_ARTICLES`; the other 36 are for training. Questions and sentences of a test article never reach training.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from babelir.errors import InputError
from babelir.io.collection import Collection
from babelir.io.xquadr import XQUADR_TEST_ARTICLES, doc_part, paragraph_articles  # noqa: F401 (part of this module's API)


@dataclass
class Example:
    """One training example; ``teacher_scores`` cover ``[positive, *negatives]`` when present."""

    query: str
    positive: str
    negatives: list[str] = field(default_factory=list)
    lang: str | None = None
    teacher_scores: list[float] | None = None


def read_examples(path: str | Path) -> list[Example]:
    """Examples from a JSONL file; a bad line is an :class:`InputError` naming line and field."""
    path = Path(path)
    examples = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise InputError(str(path), None, None, "no such file") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(str(path), number, None, f"not JSON: {exc.msg}") from None
        if not isinstance(record, dict):
            raise InputError(str(path), number, None, "expected a JSON object")
        for name in ("query", "positive"):
            if not isinstance(record.get(name), str) or not record[name].strip():
                raise InputError(str(path), number, name, "missing or not a non-empty string")
        negatives = record.get("negatives", [])
        if not isinstance(negatives, list) or not all(isinstance(n, str) for n in negatives):
            raise InputError(str(path), number, "negatives", "must be a list of strings")
        scores = record.get("teacher_scores")
        if scores is not None and (not isinstance(scores, list) or len(scores) != 1 + len(negatives)
                                   or not all(isinstance(s, (int, float)) for s in scores)):
            raise InputError(str(path), number, "teacher_scores",
                             f"must be {1 + len(negatives)} numbers (the positive, then each negative)")
        examples.append(Example(record["query"], record["positive"], negatives, record.get("lang"),
                                None if scores is None else [float(s) for s in scores]))
    if not examples:
        raise InputError(str(path), None, None, "no training examples")
    return examples


def write_examples(path: str | Path, examples: list[Example]) -> Path:
    """Write examples as JSONL (the format :func:`read_examples` reads)."""
    path = Path(path)
    with path.open("w", encoding="utf-8") as out:
        for ex in examples:
            record = {"query": ex.query, "positive": ex.positive, "negatives": ex.negatives, "lang": ex.lang}
            if ex.teacher_scores is not None:
                record["teacher_scores"] = ex.teacher_scores
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def examples_from_collection(collection: Collection) -> list[Example]:
    """One example per (query, relevant document) pair of the collection's qrels."""
    docs = {d.id: d for d in collection.docs}
    queries = {q.id: q for q in collection.queries}
    examples = []
    for qrel in collection.qrels:
        if qrel.relevance > 0 and qrel.query_id in queries and qrel.doc_id in docs:
            query = queries[qrel.query_id]
            examples.append(Example(query.text, docs[qrel.doc_id].text, [], query.lang or docs[qrel.doc_id].lang))
    return examples


def xquadr_part(source: str | Path, lang: str, part: str) -> Collection:
    """One language's XQuAD-R restricted to the ``train`` or ``test`` articles (sentences and questions)."""
    from babelir.io.xquadr import load_language

    if part not in ("train", "test"):
        raise ValueError(f"part must be train or test, not {part!r}")
    source = Path(source)
    titles = paragraph_articles(source, lang)
    collection, _ = load_language(source, lang)

    def wanted(doc_id: str) -> bool:
        return doc_part(titles, doc_id) == part

    docs = [d for d in collection.docs if wanted(d.id)]
    qrels = [q for q in collection.qrels if wanted(q.doc_id)]
    keep = {q.query_id for q in qrels}
    queries = [q for q in collection.queries if q.id in keep]
    return Collection(f"xquad-r-{lang}-{part}", docs, queries, qrels)
