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
- A cross-lingual task ``X:Y`` (:func:`load_cross`) holds language Y's sentences and language X's
  questions; a question is relevant to its answer sentence in Y.
- The split (:data:`XQUADR_TEST_ARTICLES`, :func:`doc_part`): by article, the same in every language.
  The 12 test articles are those at positions 3, 7, …, 47 of the files (every fourth); the other 36
  are for training (and for choosing settings). A question belongs to its answer's article.
"""

from __future__ import annotations

import json
from pathlib import Path

from babelir.errors import InputError
from babelir.io.collection import Collection
from babelir.types import Doc, Qrel, Query, id_problem, text_problem

XQUADR_LANGS = ("ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh")
XQUADR_TEST_ARTICLES = ("Nikola_Tesla", "Southern_California", "Steam_engine", "European_Union_law",
                        "Packet_switching", "Victoria_and_Albert_Museum", "Immune_system", "Harvard_University",
                        "University_of_Chicago", "Chloroplast", "Islamism", "Force")


def _answer_sentence(path: Path, qa: dict, breaks: list) -> int:
    try:
        start = int(qa["answers"][0]["answer_start"])
    except (KeyError, IndexError, TypeError, ValueError):
        raise InputError(str(path), None, f"answers of {qa.get('id')}", "missing answer_start") from None
    for i, (lo, hi) in enumerate(breaks):
        if lo <= start <= hi:
            return i
    raise InputError(str(path), None, f"answers of {qa.get('id')}", f"answer_start {start} is in no sentence range")


def _read(source: str | Path, lang: str) -> tuple[Path, list[dict]]:
    """The path and the articles of one XQuAD-R language file (SQuAD layout, checked down to the
    fields babelir reads); a missing or malformed file is an :class:`InputError`."""
    path = Path(source) / f"{lang}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(str(path), None, None, "no such file (expected an XQuAD-R language file)") from None
    except OSError as exc:
        raise InputError(str(path), None, None, f"cannot be read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise InputError(str(path), None, None, f"invalid UTF-8 (byte {exc.start} of the file)") from None
    except json.JSONDecodeError as exc:
        message = exc.msg.removesuffix(" at")  # "Unterminated string starting at" + the column
        raise InputError(str(path), exc.lineno, None, f"not JSON: {message} at column {exc.colno}") from None
    except RecursionError:
        raise InputError(str(path), None, None, "not JSON: nested too deeply") from None
    except ValueError as exc:
        raise InputError(str(path), None, None, f"not JSON: {exc}") from None
    articles = data.get("data") if isinstance(data, dict) else None
    if not isinstance(articles, list):
        raise InputError(str(path), None, "data", "not an XQuAD-R file: expected {\"data\": [articles]}")
    for a, article in enumerate(articles):
        paragraphs = article.get("paragraphs") if isinstance(article, dict) else None
        if not isinstance(paragraphs, list):
            raise InputError(str(path), None, f"data[{a}].paragraphs", "missing or not a list")
        for p, paragraph in enumerate(paragraphs):
            for key in ("sentences", "sentence_breaks", "qas"):
                if not isinstance(paragraph, dict) or not isinstance(paragraph.get(key), list):
                    raise InputError(str(path), None, f"data[{a}].paragraphs[{p}].{key}", "missing or not a list")
            for q, qa in enumerate(paragraph["qas"]):
                if not isinstance(qa, dict) or not isinstance(qa.get("id"), str) or not isinstance(qa.get("question"), str):
                    raise InputError(str(path), None, f"data[{a}].paragraphs[{p}].qas[{q}]", "needs an id and a question")
                problem = id_problem(qa["id"]) or text_problem(qa["question"])
                if problem is not None:
                    raise InputError(str(path), None, f"data[{a}].paragraphs[{p}].qas[{q}]", problem)
            for s, sentence in enumerate(paragraph["sentences"]):
                if not isinstance(sentence, str) or text_problem(sentence):
                    raise InputError(str(path), None, f"data[{a}].paragraphs[{p}].sentences[{s}]",
                                     text_problem(sentence) if isinstance(sentence, str) else "not a string")
    return path, articles


def load_language(source: str | Path, lang: str) -> tuple[Collection, dict[str, int]]:
    """One language's collection, and a map ``xquad id -> paragraph#/sentence#`` key for pooling.

    The second value maps each xquad question id to its answer's ``(paragraph#, sentence#)``
    encoded as ``"<p>-<s>"``.
    """
    path, data = _read(source, lang)
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


def load_cross(source: str | Path, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], Collection]:
    """Cross-lingual tasks: for each ``(x, y)``, language ``y``'s sentences as the collection and
    language ``x``'s questions, each relevant to its answer sentence in ``y``."""
    loaded: dict[str, tuple[Collection, dict[str, str]]] = {}
    for lang in sorted({code for pair in pairs for code in pair}):
        loaded[lang] = load_language(source, lang)
    tasks = {}
    for x, y in pairs:
        (questions, _), (sentences, answers) = loaded[x], loaded[y]
        queries, qrels = [], []
        for query in questions.queries:
            key = answers.get(query.id[len(x) + 1:])
            if key is not None:
                queries.append(query)
                qrels.append(Qrel(query.id, f"{y}-{key}", 1))
        tasks[(x, y)] = Collection(f"xquad-r-{x}-{y}", sentences.docs, queries, qrels)
    return tasks


def parse_pairs(specs: list[str], langs: tuple[str, ...] = XQUADR_LANGS) -> list[tuple[str, str]]:
    """``["de:en", "en:*", "*:th", "all"]`` as (query language, document language) pairs; ``*``
    stands for every other language, ``all`` for every pair of different languages. A language
    XQuAD-R does not have, or a malformed spec, is a :class:`BabelirError`."""
    from babelir.errors import BabelirError

    from babelir.types import normalize_lang

    pairs: list[tuple[str, str]] = []
    for spec in specs:
        for item in spec.split(","):
            item = item.strip()
            if item == "all":
                item = "*:*"
            sides = [side.strip() for side in item.split(":")]
            if len(sides) != 2 or not all(sides):
                raise BabelirError(f"--cross takes X:Y (query language : document language), e.g. de:en; got {item!r}")
            codes = []
            for side in sides:
                try:
                    code = side if side == "*" else normalize_lang(side)
                except BabelirError as exc:
                    raise BabelirError(f"--cross {item}: {exc}") from None
                if code != "*" and code not in langs:
                    raise BabelirError(f"--cross {item}: XQuAD-R has no language {side!r} (it has {', '.join(langs)})")
                codes.append(code)
            x, y = codes
            found = [(qx, dy) for qx in (langs if x == "*" else (x,)) for dy in (langs if y == "*" else (y,)) if qx != dy]
            if not found:
                raise BabelirError(f"--cross {item}: names no pair of two different languages")
            pairs.extend(pair for pair in found if pair not in pairs)
    if not pairs:
        raise BabelirError("--cross names no pair of two different languages")
    return pairs


def paragraph_articles(source: str | Path, lang: str) -> list[str]:
    """Article title of each paragraph, in file order (paragraph numbers of babelir's doc ids)."""
    path, data = _read(source, lang)
    titles = [article.get("title", "") for article in data for _ in article["paragraphs"]]
    missing = set(XQUADR_TEST_ARTICLES) - set(titles)
    if missing:
        raise InputError(str(path), None, "title", f"test articles missing: {sorted(missing)}")
    return titles


def doc_part(titles: list[str], doc_id: str) -> str:
    """``"test"`` or ``"train"``: the part of an XQuAD-R sentence id (``<lang>-<paragraph>-<n>``),
    given the article title of each paragraph (:func:`paragraph_articles`)."""
    return "test" if titles[int(doc_id.split("-")[1])] in XQUADR_TEST_ARTICLES else "train"


def query_parts(collection: Collection, titles: list[str]) -> dict[str, str]:
    """query id -> ``"train"`` / ``"test"``: the part of the article of its (first) relevant sentence."""
    parts: dict[str, str] = {}
    for qrel in collection.qrels:
        parts.setdefault(qrel.query_id, doc_part(titles, qrel.doc_id))
    return parts


def write_split_qrels(collection: Collection, titles: list[str], directory: str | Path) -> dict[str, int]:
    """Write ``qrels.train.trec`` and ``qrels.test.trec`` (the collection's qrels of the questions of
    the train / test articles) into ``directory``; returns the questions in each part."""
    from babelir.io.qrels import write_qrels_trec

    parts = query_parts(collection, titles)
    counts = {}
    for part in ("train", "test"):
        write_qrels_trec(Path(directory) / f"qrels.{part}.trec", [q for q in collection.qrels if parts[q.query_id] == part])
        counts[part] = sum(1 for value in parts.values() if value == part)
    return counts
