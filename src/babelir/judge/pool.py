"""Depth-k pooling: the union of several runs' top documents per query, as a judging project.

The pool of a query is the union of each run's top ``depth`` documents (Spärck Jones & van
Rijsbergen 1975; the TREC practice, Voorhees & Harman 2005). Within a query, pairs are ordered for
judging by ``order``:

- ``rrf`` (default): the sum over runs of 1 / (60 + rank) (Cormack et al. 2009): documents that
  many runs rank high come first;
- ``rank``: the best rank any run gives it (ties: more runs first);
- ``random``: a seeded shuffle, for a pool whose judging order must not favour any system.

A per-query budget (``max_per_query``) keeps the first pairs in that order; the rest stay in the
project, unassigned, and come back into the budget when it is raised. Adding runs to a project adds
their pairs and orders every pair again; no judgment is touched.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from babelir.errors import BabelirError, InputError
from babelir.judge.project import DATABASE, GUIDELINES, Project
from babelir.run import Run
from babelir.types import Query

ORDERS = ("rrf", "rank", "random")
RRF_K = 60


@dataclass
class PoolStats:
    """Per query language: ``queries``, ``pairs`` (in the budget), ``single_run`` (pairs only one run
    contributed), ``new`` (pairs this pooling added); and the totals."""

    by_lang: dict[str, dict[str, int]] = field(default_factory=dict)

    def table(self) -> str:
        from babelir.evaluate.table import format_table

        rows = []
        totals = {key: 0 for key in ("queries", "pairs", "single_run", "new")}
        for lang, row in sorted(self.by_lang.items()):
            rows.append(_row(lang, row))
            for key in totals:
                totals[key] += row[key]
        rows.append(_row("all", totals))
        return format_table(["lang", "queries", "pairs", "docs/query", "single-run", "single-run %", "new"], rows)


def _row(lang: str, row: dict[str, int]) -> list[str]:
    per_query = row["pairs"] / row["queries"] if row["queries"] else 0.0
    share = 100.0 * row["single_run"] / row["pairs"] if row["pairs"] else 0.0
    return [lang, str(row["queries"]), str(row["pairs"]), f"{per_query:.1f}", str(row["single_run"]),
            f"{share:.1f}", str(row["new"])]


def pool(project_dir: str | Path, runs: list[str | Path], depth: int = 10, topics: str | Path | None = None,
         index: str | Path | None = None, order: str = "rrf", max_per_query: int | None = None,
         scale: str | None = None, overlap: float | None = None, seed: int = 0) -> PoolStats:
    """Pool the TREC run files ``runs`` into the project at ``project_dir`` (made when new).

    Query texts come from ``topics``, document texts and languages from ``index``; both are
    remembered by the project, so adding runs later needs neither. Raises an InputError naming the
    run file and line for a document the index does not hold (a run for another index) or a query
    the topics lack; a BabelirError for an index other than the project's, or a new project without
    an index or topics."""
    if order not in ORDERS:
        raise BabelirError(f"unknown order {order!r} ({', '.join(ORDERS)})")
    if overlap is not None and not 0.0 <= overlap <= 1.0:
        raise BabelirError(f"the overlap is a share of pairs, between 0 and 1, not {overlap}")
    if not runs:
        raise BabelirError("give at least one run to pool")
    project_dir = Path(project_dir)
    fresh = not (project_dir / DATABASE).exists()
    if fresh:
        Project.check_new(project_dir)
    existing = None if fresh else Project.open(project_dir)
    try:
        if existing is not None and scale is not None and scale != existing.scale:
            raise BabelirError(f"{project_dir}: the project judges on the {existing.scale} scale; it cannot "
                               f"change to {scale}")
        index_path = _index_path(existing.meta("index") if existing else None, index)
        known = {r[0] for r in existing.db.execute("SELECT id FROM queries")} if existing else set()
        read, queries, docs = _read(runs, depth, topics, index_path, known)
    except BaseException:
        if existing is not None:
            existing.close()
        raise
    if existing is not None:  # a failure from here on rolls the one transaction back
        with existing:
            return _store(existing, read, queries, docs, order, max_per_query, seed, index_path, overlap)
    made = not project_dir.exists()
    try:
        with Project.create(project_dir, scale=scale or "graded", overlap=0.1 if overlap is None else overlap) as project:
            return _store(project, read, queries, docs, order, max_per_query, seed, index_path, None)
    except BaseException:  # Ctrl-C or a full disk while making a new project: leave no half-made one
        _remove_new(project_dir, made)
        raise


def _read(runs: list, depth: int, topics, index_path: Path, known: set[str]) -> tuple[dict, dict, dict]:
    """The runs cut at ``depth`` (by resolved path), the topics' queries, and the pooled documents'
    ``(title, text, lang)`` from the index; an InputError for a query or document that is missing."""
    from babelir.index.core import Index
    from babelir.io.topics import read_topics

    read = {}
    for path in runs:
        key = str(Path(path).resolve())  # two files named run.trec in different directories are two runs
        read[key] = (Path(path), Run.from_trec(path).cutoff(depth))
    queries = {q.id: q for q in read_topics(topics)} if topics else {}
    docs: dict[str, tuple[str, str, str]] = {}
    with Index.open(index_path) as ix:
        wanted = sorted({d for _, run in read.values() for q in run for d in run[q]})
        found = ix.documents(wanted)
        for path, run in read.values():
            for q in run:
                if q not in queries and q not in known:
                    raise InputError(str(path), _line_of(path, q), "query id",
                                     f"query {q!r} is not in the topics" + (f" {topics}" if topics else
                                                                             " (give --topics with its text)"))
                for d in run[q]:
                    if d not in found:
                        raise InputError(str(path), _line_of(path, q, d), "doc id",
                                         f"document {d!r} is not in the index {index_path} "
                                         "(is this a run for another index?)")
    for d, (lang, title, text) in found.items():
        docs[d] = (title or "", text, lang or "und")
    return read, queries, docs


def _remove_new(project_dir: Path, made: bool) -> None:
    """Remove what creating a project at ``project_dir`` wrote (the directory too when it made it)."""
    import shutil

    if made:
        shutil.rmtree(project_dir, ignore_errors=True)
        return
    for name in (DATABASE, f"{DATABASE}-wal", f"{DATABASE}-shm", f"{DATABASE}-journal", GUIDELINES):
        try:
            (project_dir / name).unlink()
        except OSError:
            pass


def _store(project: Project, read: dict, queries: Mapping[str, Query], docs: dict, order: str,
           max_per_query: int | None, seed: int, index_path: Path, overlap: float | None) -> PoolStats:
    from babelir.evaluate.metrics import query_languages

    db = project.db
    langs = query_languages(queries.keys(), queries.values())
    stats = PoolStats()
    with project.transaction():
        project.set_meta("index", str(index_path))
        project.set_meta("order", order)
        project.set_meta("max_per_query", max_per_query or 0)
        project.set_meta("seed", seed)
        if overlap is not None:
            project.set_meta("overlap", overlap)
        position = db.execute("SELECT coalesce(max(position), -1) + 1 FROM queries").fetchone()[0]
        for q in queries.values():  # new queries go after the known ones, in topic order
            if db.execute("UPDATE queries SET text = ?, lang = ? WHERE id = ?", (q.text, langs[q.id], q.id)).rowcount == 0:
                db.execute("INSERT INTO queries VALUES (?, ?, ?, ?)", (q.id, q.text, langs[q.id], position))
                position += 1
        db.executemany("INSERT OR IGNORE INTO docs VALUES (?, ?, ?, ?)",
                       [(d, title, text, lang) for d, (title, text, lang) in docs.items()])
        new_from = db.execute("SELECT coalesce(max(id), 0) FROM pairs").fetchone()[0]  # later ids are new
        for name, (path, run) in read.items():
            db.execute("INSERT OR REPLACE INTO runs VALUES (?, ?, strftime('%s','now'))", (name, str(path)))
            db.execute("DELETE FROM contributions WHERE run = ?", (name,))
            for q in run:
                for rank, (d, _) in enumerate(run.ranking(q), start=1):
                    db.execute("INSERT OR IGNORE INTO pairs(qid, docno, lang) VALUES (?, ?, ?)", (q, d, docs[d][2]))
                    pair_id = db.execute("SELECT id FROM pairs WHERE qid = ? AND docno = ?", (q, d)).fetchone()[0]
                    db.execute("INSERT INTO contributions VALUES (?, ?, ?)", (pair_id, name, rank))
        _order(project, order, max_per_query, seed, new_from, stats)
    return stats


def _order(project: Project, order: str, max_per_query: int | None, seed: int, new_from: int,
           stats: PoolStats) -> None:
    """Give every pair its position (queries in order, then priority) and how many people it needs."""
    db = project.db
    contributions: dict[int, list[int]] = {}
    for pair_id, rank in db.execute("SELECT pair_id, rank FROM contributions"):
        contributions.setdefault(pair_id, []).append(rank)
    judged = {r[0] for r in db.execute("SELECT DISTINCT pair_id FROM judgments WHERE undone = 0")}
    overlap = project.overlap
    rows = db.execute("SELECT p.id, p.qid, p.docno, q.position, q.lang FROM pairs p JOIN queries q ON q.id = p.qid"
                      ).fetchall()

    def priority(row) -> tuple:
        pair_id, qid, docno = row[0], row[1], row[2]
        ranks = contributions.get(pair_id, [])
        if order == "rrf":
            key = -sum(1.0 / (RRF_K + r) for r in ranks)
        elif order == "rank":
            key = (min(ranks, default=10**9), -len(ranks))
        else:
            key = _fraction(f"{seed}\t{qid}\t{docno}")
        return (row[3], key, docno)

    rows.sort(key=priority)
    updates, seen, counted = [], {}, set()
    for position, row in enumerate(rows):
        pair_id, qid, docno, _, lang = row
        seen[qid] = seen.get(qid, 0) + 1
        in_budget = max_per_query is None or seen[qid] <= max_per_query or pair_id in judged
        needed = 0 if not in_budget else (2 if _fraction(f"overlap\t{qid}\t{docno}") < overlap else 1)
        updates.append((position, needed, pair_id))
        if in_budget and contributions.get(pair_id):
            entry = stats.by_lang.setdefault(lang, {"queries": 0, "pairs": 0, "single_run": 0, "new": 0})
            entry["pairs"] += 1
            entry["queries"] += qid not in counted
            counted.add(qid)
            entry["single_run"] += len(contributions[pair_id]) == 1
            entry["new"] += pair_id > new_from
    db.executemany("UPDATE pairs SET position = ?, needed = ? WHERE id = ?", updates)


def _fraction(text: str) -> float:
    """A stable number in [0, 1) from ``text`` (the same on every machine and run)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big") / 2**64


def _index_path(stored: str | None, index: str | Path | None) -> Path:
    """The index to take documents from: ``index`` (resolved), which must be the project's when it
    has one, else the project's."""
    if index is None:
        if stored is None:
            raise BabelirError("a new project needs --index: the documents' texts and languages come from it")
        return Path(stored)
    index = Path(index).resolve()
    if stored is not None and Path(stored) != index:
        raise BabelirError(f"{index}: the project was pooled from another index ({stored}); its runs would "
                           "name other documents")
    return index


def _line_of(path: Path, qid: str, docno: str | None = None) -> int | None:
    """The first line of a run file with ``qid`` (and ``docno``): read again, only for a message."""
    from babelir.io.textfile import open_lines

    for lineno, line in open_lines(path):
        parts = line.split()
        if len(parts) == 6 and parts[0] == qid and (docno is None or parts[2] == docno):
            return lineno
    return None
