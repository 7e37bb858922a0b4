"""XQuAD-R (LAReQA's sentence-split XQuAD) as retrieval collections.

Source files: ``<lang>.json`` in SQuAD format with ``sentences`` and ``sentence_breaks`` per
paragraph (Roy et al., 2020, "LAReQA: Language-agnostic answer retrieval from a multilingual pool").

- Candidates are the sentences; doc id ``<lang>-<paragraph#>-<sentence#>`` (paragraphs numbered in
  file order over all articles, from 0), group ``<lang>-<paragraph#>`` (the sentence's paragraph:
  search can add the paragraph's evidence, see :func:`babelir.fuse.group_evidence`).
- A question's relevant sentence is the one whose break range contains its first answer's
  ``answer_start``. Query id ``<lang>-<xquad id>``.
- The pool holds every language's sentences; a question is relevant to its answer sentence in every
  language (the XQuAD ids are shared by the translations).
"""

from __future__ import annotations

import json
from pathlib import Path

from babelir.errors import InputError
from babelir.io.collection import Collection
from babelir.types import Doc, Qrel, Query

XQUADR_LANGS = ("ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh")


def _answer_sentence(path: Path, qa: dict, breaks: list) -> int:
    try:
        start = int(qa["answers"][0]["answer_start"])
    except (KeyError, IndexError, TypeError, ValueError):
        raise InputError(str(path), None, f"answers of {qa.get('id')}", "missing answer_start") from None
    for i, (lo, hi) in enumerate(breaks):
        if lo <= start <= hi:
            return i
    raise InputError(str(path), None, f"answers of {qa.get('id')}", f"answer_start {start} is in no sentence range")


def load_language(source: str | Path, lang: str) -> tuple[Collection, dict[str, int]]:
    """One language's collection, and a map ``xquad id -> paragraph#/sentence#`` key for pooling.

    The second value maps each xquad question id to its answer's ``(paragraph#, sentence#)``
    encoded as ``"<p>-<s>"``.
    """
    path = Path(source) / f"{lang}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))["data"]
    except FileNotFoundError:
        raise InputError(str(path), None, None, "no such file (expected an XQuAD-R language file)") from None
    except (json.JSONDecodeError, KeyError) as exc:
        raise InputError(str(path), None, "data", f"not an XQuAD-R file: {exc}") from None
    docs, queries, qrels, answers = [], [], [], {}
    paragraph_no = 0
    for article in data:
        for paragraph in article["paragraphs"]:
            for s, sentence in enumerate(paragraph["sentences"]):
                docs.append(Doc(f"{lang}-{paragraph_no}-{s}", sentence, lang=lang, group=f"{lang}-{paragraph_no}"))
            for qa in paragraph["qas"]:
                s = _answer_sentence(path, qa, paragraph["sentence_breaks"])
                qid = f"{lang}-{qa['id']}"
                queries.append(Query(qid, qa["question"], lang))
                qrels.append(Qrel(qid, f"{lang}-{paragraph_no}-{s}", 1))
                answers[qa["id"]] = f"{paragraph_no}-{s}"
            paragraph_no += 1
    return Collection(f"xquad-r-{lang}", docs, queries, qrels), answers


def load_xquadr(source: str | Path, langs: tuple[str, ...] = XQUADR_LANGS) -> tuple[dict[str, Collection], Collection]:
    """All per-language collections and the multilingual pool."""
    per_lang: dict[str, Collection] = {}
    answers: dict[str, dict[str, str]] = {}
    for lang in langs:
        per_lang[lang], answers[lang] = load_language(source, lang)
    pool_docs = [d for c in per_lang.values() for d in c.docs]
    pool_queries = [q for c in per_lang.values() for q in c.queries]
    pool_qrels = []
    for lang, collection in per_lang.items():
        for query in collection.queries:
            xquad_id = query.id[len(lang) + 1:]
            for other in langs:
                key = answers[other].get(xquad_id)
                if key is not None:
                    pool_qrels.append(Qrel(query.id, f"{other}-{key}", 1))
    return per_lang, Collection("xquad-r-pool", pool_docs, pool_queries, pool_qrels)
