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
        """Write as a BEIR directory plus ``topics.tsv`` and ``qrels.trec``; returns the directory.

        A directory that holds anything else than a previous collection's files is refused."""
        from babelir.io.beir import write_beir
        from babelir.io.qrels import write_qrels_trec
        from babelir.io.topics import write_topics_tsv

        directory = Path(directory)
        check_collection_dir(directory)
        write_beir(directory, self.docs, self.queries, self.qrels)
        write_topics_tsv(directory / "topics.tsv", self.queries)
        write_qrels_trec(directory / "qrels.trec", self.qrels)
        return directory


COLLECTION_FILES = frozenset({"corpus.jsonl", "queries.jsonl", "qrels", "topics.tsv", "qrels.trec",
                              "qrels.train.trec", "qrels.test.trec",
                              "topics.train.tsv", "topics.test.tsv", "subsets.tsv"})


def check_collection_dir(directory: str | Path) -> None:
    """Refuse ``directory`` as the output of a collection unless it is missing, empty or a previous
    collection's output (its files alone): writing into an index or another directory would mix
    the two."""
    from babelir.errors import BabelirError

    directory = Path(directory)
    if not directory.is_dir():
        return
    others = sorted(p.name for p in directory.iterdir()
                    if p.name not in COLLECTION_FILES and not (p.name.startswith(".") and p.name.endswith(".tmp")))
    if others:
        shown = ", ".join(others[:3]) + (", …" if len(others) > 3 else "")
        raise BabelirError(f"{directory}: directory is not empty and holds no babelir collection ({shown}); "
                           f"give a new or empty directory")


def check_collections_dir(directory: str | Path) -> None:
    """Like :func:`check_collection_dir`, for a directory of collections (``OUT/<name>/``)."""
    from babelir.errors import BabelirError

    directory = Path(directory)
    if not directory.is_dir():
        return
    for path in sorted(directory.iterdir()):
        if path.is_dir() and not path.is_symlink():
            check_collection_dir(path)
        elif not (path.name.startswith(".") and path.name.endswith(".tmp")):
            raise BabelirError(f"{directory}: directory is not empty and holds no babelir collections "
                               f"({path.name}); give a new or empty directory")
