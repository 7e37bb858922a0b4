"""Build or extend a BM25 index from a corpus, in committed batches, resumable.

``build_index(corpus, out)`` streams the corpus, resolves each document's language, and adds the
documents in batches; each batch is one commit. Documents already in the index (by id) are
skipped, so re-running after an interruption finishes the job.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from babelir.index.bm25 import BM25Params
from babelir.index.core import Index
from babelir.index.manifest import MANIFEST
from babelir.io.corpus import read_corpus
from babelir.io.records import BadRecords
from babelir.progress import progress
from babelir.text.analyzer import Analyzer
from babelir.text.langid import LOOK_ALIKES, ambiguity_note
from babelir.types import Doc, normalize_lang


@dataclass
class BuildSummary:
    """What :func:`build_index` did."""

    index: Path
    added: int = 0
    already_indexed: int = 0
    skipped_bad: int = 0
    bad_examples: list[str] = field(default_factory=list)
    detected: int = 0
    ambiguous: dict[str, int] = field(default_factory=dict)  # detected code -> documents (look-alike languages)
    doc_count: int = 0
    languages: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    ann: dict | None = None

    def lines(self) -> list[str]:
        """A human summary, one line per fact."""
        out = [f"indexed {self.added} documents into {self.index} in {self.seconds:.1f}s "
               f"({self.doc_count} in the index)"]
        if self.already_indexed:
            out.append(f"{self.already_indexed} documents were already in the index (kept)")
        if self.detected:
            out.append(f"language detected for {self.detected} documents without one")
        for code, count in self.ambiguous.items():
            out.append(f"{count} documents detected as {code}: {ambiguity_note(code)} (--lang, or a 'lang' field)")
        if self.skipped_bad:
            out.append(f"skipped {self.skipped_bad} bad records, e.g.:")
            out.extend(f"  {example}" for example in self.bad_examples)
        out.append("languages: " + ", ".join(f"{lang} {n}" for lang, n in self.languages.items()))
        if self.ann:
            kind = "one per language, corrected vectors" if self.ann["corrected"] else "one graph"
            out.append(f"ANN: HNSW (M {self.ann['M']}, efSearch {self.ann['ef_search']}), "
                       f"{len(self.ann['groups'])} graph(s) ({kind})")
        return out


def resolve_lang(doc: Doc, option: str | None) -> tuple[Doc, str]:
    """The document with its language set, and where that language came from.

    A document's own ``lang`` wins (``given``); otherwise ``option`` names one (``option``), or with
    ``auto`` / None the language is detected from the text (``detected``).
    """
    if doc.lang:
        return doc, "given"
    if option and option != "auto":
        return Doc(doc.id, doc.text, doc.title, option, doc.group), "option"
    from babelir.text.langid import detect

    return Doc(doc.id, doc.text, doc.title, detect(f"{doc.title} {doc.text}"), doc.group), "detected"


def build_index(corpus: str | Path, out: str | Path, lang: str | None = "auto", skip_bad: bool = False,
                batch_size: int = 10_000, params: BM25Params | None = None, quiet: bool = False,
                analyzer: Analyzer | str | None = None, subword_vocab: int = 32_000,
                encoder=None, dense: bool = True, sparse: bool = False, ann: bool = False) -> BuildSummary:
    """Index ``corpus`` (JSONL file or BEIR directory) into ``out``, creating the index if needed.

    ``analyzer`` and ``params`` apply to a new index; an existing one keeps those of its manifest.
    ``analyzer="subword"`` (or ``"language-aware+subword"``) first trains a SentencePiece model
    (``subword_vocab`` pieces) on the corpus. With an ``encoder`` every document also gets a dense
    vector (``dense``) and/or a learned sparse vector (``sparse``), in the same commits; an existing
    index without them is given them. ``ann`` then (re)builds the HNSW graphs over the dense
    vectors, unless they already match the latest commit.
    """
    started = time.perf_counter()
    out = Path(out)
    lang = None if lang in (None, "auto") else normalize_lang(lang)
    if (out / MANIFEST).exists():
        index = Index.open(out, writable=True)
        if encoder is not None:
            for kind, wanted in (("dense", dense), ("sparse", sparse)):
                if wanted:
                    index.encode_missing(encoder, quiet=quiet, kind=kind)
    else:
        if analyzer in ("subword", "language-aware+subword"):
            from babelir.text.analyzer import get_analyzer
            from babelir.text.subword import SubwordAnalyzer, WordsAndPiecesAnalyzer, train_subword_model

            texts = (d.text for d in read_corpus(corpus, BadRecords(skip=True)))
            pieces = SubwordAnalyzer(train_subword_model(texts, vocab_size=subword_vocab))
            analyzer = pieces if analyzer == "subword" else WordsAndPiecesAnalyzer(get_analyzer(pieces=False), pieces)
        index = Index.create(out, analyzer=analyzer, params=params, encoder=encoder, dense=dense, sparse=sparse)
    summary = BuildSummary(out)
    bad = BadRecords(skip=skip_bad)
    try:
        known = index.ids()
        batch: list[Doc] = []
        sources: list[str] = []
        bar = progress(desc="indexing", unit="doc", quiet=quiet)
        for doc in read_corpus(corpus, bad):
            if doc.id in known:
                summary.already_indexed += 1
                continue
            doc, source = resolve_lang(doc, lang)
            if source == "detected":
                summary.detected += 1
                if doc.lang in LOOK_ALIKES:
                    summary.ambiguous[doc.lang] = summary.ambiguous.get(doc.lang, 0) + 1
            batch.append(doc)
            sources.append(source)
            if len(batch) >= batch_size:
                index.add(batch, sources)
                summary.added += len(batch)
                bar.update(len(batch))
                batch, sources = [], []
        if batch:
            index.add(batch, sources)
            summary.added += len(batch)
            bar.update(len(batch))
        bar.close()
        index.impact()  # build the search postings now, so the first search does not wait
        if ann:
            summary.ann = index.ensure_ann(quiet=quiet)
        summary.doc_count = index.doc_count
        summary.languages = index.manifest["languages"]
    finally:
        index.close()
    summary.skipped_bad, summary.bad_examples = bad.count, bad.examples
    summary.seconds = time.perf_counter() - started
    return summary
