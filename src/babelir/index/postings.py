"""The inverted index on tantivy: which documents hold which terms.

babelir analyses the text itself; tantivy receives the terms joined by spaces and only splits
them on whitespace (its ``whitespace`` tokenizer), so the postings hold exactly babelir's terms.
Fields: ``docno`` (u64, indexed and fast) and ``body`` (terms with their frequencies).

tantivy's own BM25 has k1 and b fixed (1.2, 0.75; tantivy issue #2195), and tantivy-py exposes no
postings, so BM25 search reads babelir's postings cache (:mod:`babelir.index.impact`), derived
from the document store; tantivy holds the durable inverted index.
"""

from __future__ import annotations

from pathlib import Path

WRITER_HEAP = 64_000_000


def _schema():
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_unsigned_field("docno", stored=False, indexed=True, fast=True)
    builder.add_text_field("body", stored=False, tokenizer_name="whitespace", index_option="freq")
    return builder.build()


class Postings:
    """A tantivy index in ``directory``: add / delete / commit."""

    def __init__(self, directory: Path, create: bool = False):
        import tantivy

        self._tantivy = tantivy
        self.schema = _schema()
        if create:
            directory.mkdir(parents=True, exist_ok=True)
        self.index = tantivy.Index(self.schema, path=str(directory), reuse=not create)
        self._writer = None

    # --- writes -------------------------------------------------------------------------------
    @property
    def writer(self):
        if self._writer is None:
            self._writer = self.index.writer(WRITER_HEAP, 1)
        return self._writer

    def add(self, docno: int, terms: list[str]) -> None:
        doc = self._tantivy.Document()
        doc.add_unsigned("docno", docno)
        doc.add_text("body", " ".join(terms))
        self.writer.add_document(doc)

    def delete_docnos(self, docnos: list[int]) -> None:
        for docno in docnos:
            self.writer.delete_documents_by_term("docno", docno)

    def delete_above(self, docno: int) -> None:
        """Delete every document whose docno is greater than ``docno`` (an interrupted batch)."""
        query = self._tantivy.Query.range_query(self.schema, "docno", self._tantivy.FieldType.Unsigned,
                                                docno + 1, None)
        self.writer.delete_documents_by_query(query)

    def commit(self) -> None:
        self.writer.commit()

    def rollback(self) -> None:
        if self._writer is not None:
            self._writer.rollback()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.wait_merging_threads()
            self._writer = None

    # --- reads --------------------------------------------------------------------------------
    def max_docno(self) -> int:
        """The largest docno in the index, or -1 when it is empty."""
        self.index.reload()
        searcher = self.index.searcher()
        if searcher.num_docs == 0:
            return -1
        result = searcher.search(self._tantivy.Query.all_query(), 1, order_by_field="docno")
        return searcher.fast_field_values("docno", [result.hits[0][1]])[0]
