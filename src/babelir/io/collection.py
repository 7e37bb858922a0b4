"""A test collection in memory: documents, queries and qrels, with a name."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from babelir.types import Doc, Qrel, Query


@dataclass
class Collection:
    """Documents, queries and relevance judgments of one test collection."""

    name: str
    docs: list[Doc]
    queries: list[Query]
    qrels: list[Qrel] = field(default_factory=list)

    def write(self, directory: str | Path) -> Path:
        """Write as a BEIR directory plus ``topics.tsv`` and ``qrels.trec``; returns the directory."""
        from babelir.io.beir import write_beir
        from babelir.io.qrels import write_qrels_trec
        from babelir.io.topics import write_topics_tsv

        directory = Path(directory)
        write_beir(directory, self.docs, self.queries, self.qrels)
        write_topics_tsv(directory / "topics.tsv", self.queries)
        write_qrels_trec(directory / "qrels.trec", self.qrels)
        return directory
