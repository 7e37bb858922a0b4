"""The demo collection shipped with babelir, written for this project.

20 short passages on shared topics in each of 12 languages (en es de fr ru ar hi th zh ja ko sw),
and 72 queries: 5 per language whose relevant passage is the topic's passage in that language,
and 1 cross-lingual query per language (id ``<lang>-x1``) for which the topic's passage in every
language is relevant. Doc ids are ``<lang>-<topic>``.
"""

from __future__ import annotations

import json
from importlib import resources

from babelir.io.collection import Collection
from babelir.types import Doc, Qrel, Query

DEMO_LANGS = ("en", "es", "de", "fr", "ru", "ar", "hi", "th", "zh", "ja", "ko", "sw")


def _load(name: str):
    return json.loads(resources.files("babelir.demo").joinpath(name).read_text(encoding="utf-8"))


def load_demo() -> Collection:
    """The demo collection (documents, queries, qrels)."""
    passages = _load("passages.json")
    docs = [Doc(f"{lang}-{topic}", text, lang=lang)
            for topic, by_lang in passages.items() for lang, text in by_lang.items()]
    queries, qrels = [], []
    for qid, lang, topic, scope, text in _load("queries.json"):
        queries.append(Query(qid, text, lang))
        targets = passages[topic] if scope == "all" else [lang]
        qrels.extend(Qrel(qid, f"{target}-{topic}", 1) for target in targets)
    return Collection("babelir-demo", docs, queries, qrels)


def is_cross_lingual(query_id: str) -> bool:
    """Whether a demo query is one of the cross-lingual ones."""
    return query_id.split("-", 1)[-1].startswith("x")
