"""XQuAD-R test collections with and without an answer, in the manner of NoMIRACL.

NoMIRACL (Thakur et al., 2024, "NoMIRACL: Knowing When You Don't Know: Evaluating LLM Robustness
in Multilingual Retrieval-Augmented Generation") pairs a *relevant* subset (queries whose collection
holds a relevant passage) with a *non-relevant* subset (queries whose collection holds none), and
measures the hallucination rate on the second and the error rate on the first. This module makes
such a pair from XQuAD-R (read by :mod:`babelir.io.xquadr`, whose ids and article split it keeps).

The split is fixed and the same in every language: within each article, every second paragraph
(the article's 2nd, 4th, … paragraph; XQuAD-R's articles have 5, so 2 of 5) is *removed*. The
questions of removed paragraphs form the non-relevant subset, the other questions the relevant
subset. Both subsets occur in the train and in the test articles
(:data:`babelir.io.xquadr.XQUADR_TEST_ARTICLES`); a question's part is its paragraph's article.

Each collection holds the sentences of the kept paragraphs only (in the pool: a removed paragraph's
sentences are gone in every language), so a non-relevant question has neither its answer sentence
nor any other sentence of its paragraph in the collection; a relevant question's answer sentence is
there. Every question is a query; only relevant-subset questions have qrels.

Layout written by :func:`write_no_answer` (``babelir datasets xquad-r SRC -o OUT --no-answer-split``):
``OUT/<lang>/`` for the 11 languages and ``OUT/pool/`` (every language's kept sentences and every
question; a relevant question is relevant to its answer sentence in every language), or
``OUT/X-Y/`` with ``--cross X:Y`` (Y's kept sentences, X's questions). In each collection:

- ``corpus.jsonl``, ``queries.jsonl`` (all questions), ``qrels/test.tsv``: BEIR;
- ``topics.tsv``: all questions; ``topics.train.tsv`` / ``topics.test.tsv``: all questions of the
  train / test articles (both subsets);
- ``qrels.trec``: the relevant subset's qrels; ``qrels.train.trec`` / ``qrels.test.trec``: those of
  the train / test articles;
- ``subsets.tsv``: header ``query_id<TAB>subset<TAB>part``, then one line per question with subset
  ``relevant`` or ``non-relevant`` and part ``train`` or ``test``.
"""

from __future__ import annotations

from pathlib import Path

from babelir.errors import BabelirError
from babelir.io.collection import Collection

SUBSETS_HEADER = "query_id\tsubset\tpart\n"


def removed_paragraphs(titles: list[str]) -> set[int]:
    """Paragraph numbers (file order, as in babelir's XQuAD-R doc ids) of the removed paragraphs:
    the 2nd, 4th, … paragraph of each article. ``titles``: the article title of each paragraph
    (:func:`babelir.io.xquadr.paragraph_articles`); an article is a run of equal titles."""
    removed, position = set(), 0
    for p, title in enumerate(titles):
        position = position + 1 if p and titles[p - 1] == title else 0
        if position % 2 == 1:
            removed.add(p)
    return removed


def _paragraph(doc_id: str) -> int:
    return int(doc_id.split("-")[1])


def no_answer_split(collection: Collection, titles: list[str]) -> tuple[Collection, dict[str, tuple[str, str]]]:
    """The collection without its removed paragraphs, and ``query id -> (subset, part)``.

    ``collection``: an XQuAD-R collection of :mod:`babelir.io.xquadr` (a language, the pool or a
    cross-lingual task), every query with at least one qrel (its answer sentence); ``titles``: the
    article of each paragraph. A query's paragraph is that of its first qrel. Returns a collection
    with the kept paragraphs' sentences, all queries, and the relevant queries' qrels; subset is
    ``"relevant"`` / ``"non-relevant"``, part ``"train"`` / ``"test"``. A query without a qrel is a
    :class:`BabelirError`.
    """
    from babelir.io.xquadr import XQUADR_TEST_ARTICLES

    removed = removed_paragraphs(titles)
    paragraph: dict[str, int] = {}
    for qrel in collection.qrels:
        paragraph.setdefault(qrel.query_id, _paragraph(qrel.doc_id))
    subsets: dict[str, tuple[str, str]] = {}
    for query in collection.queries:
        if query.id not in paragraph:
            raise BabelirError(f"{collection.name}: query {query.id} has no answer sentence; cannot place it in a subset")
        p = paragraph[query.id]
        subsets[query.id] = ("non-relevant" if p in removed else "relevant",
                             "test" if titles[p] in XQUADR_TEST_ARTICLES else "train")
    docs = [d for d in collection.docs if _paragraph(d.id) not in removed]
    qrels = [q for q in collection.qrels if subsets[q.query_id][0] == "relevant"]
    kept = {d.id for d in docs}
    lost = next((q for q in qrels if q.doc_id not in kept), None)
    if lost is not None:  # a relevant question's answer in a removed paragraph: paragraphs not aligned
        raise BabelirError(f"{collection.name}: {lost.query_id}'s answer {lost.doc_id} is in a removed paragraph "
                           f"(paragraphs differ between languages?)")
    return Collection(f"{collection.name}-noanswer", docs, collection.queries, qrels), subsets


def write_split(collection: Collection, subsets: dict[str, tuple[str, str]], titles: list[str],
                directory: str | Path) -> dict[tuple[str, str], int]:
    """Write a :func:`no_answer_split` collection into ``directory`` (the files listed in the module
    docstring); returns the number of questions per ``(subset, part)``."""
    from babelir.io.atomic import atomic_write_text
    from babelir.io.topics import write_topics_tsv
    from babelir.io.xquadr import write_split_qrels

    directory = collection.write(directory)
    write_split_qrels(collection, titles, directory)
    for part in ("train", "test"):
        write_topics_tsv(directory / f"topics.{part}.tsv", [q for q in collection.queries if subsets[q.id][1] == part])
    atomic_write_text(directory / "subsets.tsv", SUBSETS_HEADER + "".join(
        f"{q.id}\t{subsets[q.id][0]}\t{subsets[q.id][1]}\n" for q in collection.queries))
    counts = {(s, p): 0 for s in ("relevant", "non-relevant") for p in ("train", "test")}
    for value in subsets.values():
        counts[value] += 1
    return counts


def write_no_answer(source: str | Path, output: str | Path, pairs: list[tuple[str, str]] | None = None) -> list[str]:
    """Read XQuAD-R from ``source`` and write the with/without-answer collections into ``output``:
    ``<lang>/`` and ``pool/``, or ``X-Y/`` for each cross-lingual pair. Returns one summary line per
    collection (documents, queries per subset and part, judgments).

    Every language read must have the same articles and paragraphs as English (XQuAD-R's do; the
    split is defined on paragraph numbers), else a :class:`BabelirError`. Errors of the source files
    are :class:`babelir.errors.InputError` (see :mod:`babelir.io.xquadr`).
    """
    from babelir.io.xquadr import XQUADR_LANGS, load_cross, load_xquadr, paragraph_articles

    if pairs:
        collections = {f"{x}-{y}": task for (x, y), task in load_cross(source, pairs).items()}
        langs = sorted({code for pair in pairs for code in pair})
    else:
        per_lang, pool = load_xquadr(source)
        collections = {**per_lang, "pool": pool}
        langs = list(XQUADR_LANGS)
    titles = paragraph_articles(source, "en")
    for lang in langs:
        if lang != "en" and paragraph_articles(source, lang) != titles:
            raise BabelirError(f"{Path(source) / f'{lang}.json'}: its articles and paragraphs differ from en.json's; "
                               f"the no-answer split needs the same paragraphs in every language")
    lines = []
    for name, full in collections.items():
        collection, subsets = no_answer_split(full, titles)
        directory = Path(output) / name
        counts = write_split(collection, subsets, titles, directory)
        shown = "; ".join(f"{s}: {counts[s, 'train']} train / {counts[s, 'test']} test" for s in ("relevant", "non-relevant"))
        lines.append(f"{directory}: {len(collection.docs)} documents, {len(collection.queries)} queries ({shown}), "
                     f"{len(collection.qrels)} judgments")
    return lines
