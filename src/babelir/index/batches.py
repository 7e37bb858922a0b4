"""The batches an index build commits: the corpus's new documents, in order, each with its
language resolved; shared by the local build (:mod:`babelir.index.build`) and the Ray build
(:mod:`babelir.index.ray_build`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from babelir.io.corpus import read_corpus
from babelir.text.langid import LOOK_ALIKES
from babelir.types import Doc


def resolve_lang(doc: Doc, option: str | None, held: dict[str, int] | None = None) -> tuple[Doc, str]:
    """The document with its language set, and where that language came from.

    A document's own ``lang`` wins (``given``); otherwise ``option`` names one (``option``), or with
    ``auto`` / None the language is detected from the text (``detected``), kept to the languages
    the index ``held`` (``code -> count``) where one is plausible
    (:func:`babelir.text.langid.detect_document`).
    """
    if doc.lang:
        return doc, "given"
    if option and option != "auto":
        return Doc(doc.id, doc.text, doc.title, option, doc.group), "option"
    from babelir.text.langid import detect_document

    return Doc(doc.id, doc.text, doc.title, detect_document(f"{doc.title} {doc.text}", held), doc.group), "detected"


def corpus_batches(index, corpus, bad, lang: str | None, batch_size: int, summary) -> Iterator[tuple[list[Doc], list[str]]]:
    """The batches to commit, in corpus order: of each ``batch_size`` records, the documents the
    index does not hold yet (a resumed build's batches are smaller where it left off), each with
    its language (given, or detected with the languages held so far as a prior; :func:`resolve_lang`)
    and where that came from. The languages held are counted here as batches are yielded (a batch
    counts from the next one on), so that a Ray build can prepare batches before the earlier ones
    commit (:mod:`babelir.index.ray_build`) and still resolve languages as a local build does."""
    from collections import Counter
    from itertools import islice

    tally = Counter(index.manifest["languages"])
    held = dict(tally)
    records = read_corpus(corpus, bad)
    while chunk := list(islice(records, batch_size)):
        known = index.store.passages([doc.id for doc in chunk])  # one lookup per batch, not every id in memory
        batch: list[Doc] = []
        sources: list[str] = []
        for doc in chunk:
            if doc.id in known:
                summary.already_indexed += 1
                if known[doc.id] != (doc.title, doc.text):
                    summary.changed.append(doc.id)
                continue
            doc, source = resolve_lang(doc, lang, held)
            if source != "detected":
                held[doc.lang] = held.get(doc.lang, 0) + 1
            else:
                summary.detected += 1
                if doc.lang in LOOK_ALIKES:
                    summary.ambiguous[doc.lang] = summary.ambiguous.get(doc.lang, 0) + 1
            batch.append(doc)
            sources.append(source)
        if batch:
            yield batch, sources
            tally.update(d.lang or "und" for d in batch)  # what the store's languages say after the commit
            held = dict(sorted(tally.items()))


def committing_before_errors(batches: Iterator, commit_read: Callable[[], None]) -> Iterator:
    """``batches`` (from :func:`corpus_batches`), for a build that reads ahead of its commits: when
    reading fails further on (bad input, a BabelirError), ``commit_read()`` first commits the
    batches already read, as a build that commits each batch before reading the next would have,
    then the error propagates."""
    from babelir.errors import BabelirError

    while True:
        try:
            item = next(batches)
        except StopIteration:
            return
        except BabelirError:
            commit_read()
            raise
        yield item
