"""The document store: documents and their metadata in SQLite.

Table ``docs``: ``docno`` (internal number, also the key in the inverted index), ``id`` (the
user's id, unique), ``lang``, ``lang_source`` (``given``, ``option`` or ``detected``), ``title``,
``text`` and ``length`` (number of terms). A document's terms are not stored: the postings
segments hold them, and :meth:`babelir.index.core.Index.doc_terms` analyses a stored text again
(indexes written before kept a ``terms`` column, which is no longer read).
Table ``groups``: ``docno`` -> ``grp``, the group of the documents that have one (:class:`babelir.types.Doc`).
Table ``deleted``: docnos deleted while a postings segment still holds them (a merge that drops
them from the segments forgets them here).
Table ``meta``: the commit ``generation``, ``counts`` (documents, total length, the largest docno
ever stored and documents per language, kept by each insert and delete; stores written before
kept the top docno as ``top_docno``), ``segments`` (the live postings segments,
:mod:`babelir.index.segments`) and the vector encoders started.

The store is the source of truth of what is committed: a segment file it does not list (written
by an interrupted commit or merge) is never read, and the next writer removes it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    docno INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    lang TEXT,
    lang_source TEXT,
    title TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL,
    length INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS groups (docno INTEGER PRIMARY KEY, grp TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS deleted (docno INTEGER PRIMARY KEY);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS dense_chunks (name TEXT PRIMARY KEY, count INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sparse_chunks (name TEXT PRIMARY KEY, count INTEGER NOT NULL);
"""


COUNTS = "counts"  # meta key of DocStore.counts()


class DocStore:
    """SQLite-backed store of an index's documents. Writes happen inside :meth:`begin` ... :meth:`commit`."""

    def __init__(self, path: Path, readonly: bool = False):
        self.path = path
        try:
            self.db = _connect(path, readonly)
        except sqlite3.OperationalError:
            # a writer killed mid-commit leaves a hot journal, which only a read-write connection
            # may roll back (SQLite does so on its first read); then read as asked
            if not (readonly and path.with_name(path.name + "-journal").exists()):
                raise
            fixer = _connect(path, readonly=False)
            try:
                fixer.execute("SELECT count(*) FROM sqlite_master").fetchone()
            finally:
                fixer.close()
            self.db = _connect(path, readonly)
        self.db.execute("PRAGMA synchronous=FULL")
        if not readonly:
            self.db.executescript(SCHEMA)
        # a store written before documents' terms left it keeps its NOT NULL column: filled with ''
        self._terms_column = any(row[1] == "terms" for row in self.db.execute("PRAGMA table_info(docs)"))

    def close(self) -> None:
        self.db.close()

    # --- writes -------------------------------------------------------------------------------
    def begin(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        self.db.execute("COMMIT")

    def rollback(self) -> None:
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """:meth:`begin` … :meth:`commit`, rolled back if anything raises (Ctrl-C included)."""
        self.begin()
        try:
            yield
            self.commit()
        except BaseException:
            self.rollback()
            raise

    def insert(self, rows: Iterable[tuple]) -> None:
        """Insert (docno, id, lang, lang_source, title, text, length, ...) rows (what follows the
        length, the term counts, goes to the postings segment, not here); the counts follow."""
        rows = list(rows)
        counts = self.counts()
        languages = counts["languages"]
        for row in rows:
            key = row[2] or "und"
            languages[key] = languages.get(key, 0) + 1
        self._set_counts(counts["docs"] + len(rows), counts["length"] + sum(row[6] for row in rows),
                         max([counts["top"]] + [row[0] for row in rows]), languages)
        if self._terms_column:
            self.db.executemany("INSERT INTO docs (docno, id, lang, lang_source, title, text, length, terms) "
                                "VALUES (?,?,?,?,?,?,?,'')", (row[:7] for row in rows))
            return
        self.db.executemany("INSERT INTO docs (docno, id, lang, lang_source, title, text, length) "
                            "VALUES (?,?,?,?,?,?,?)", (row[:7] for row in rows))

    def insert_groups(self, rows: Iterable[tuple[int, str]]) -> None:
        """Record (docno, group) of the documents that have a group."""
        self.db.executemany("INSERT OR REPLACE INTO groups (docno, grp) VALUES (?, ?)", rows)

    def delete_ids(self, ids: Iterable[str]) -> list[int]:
        """Delete documents by id (recording their docnos in ``deleted``); returns the docnos removed."""
        removed = []
        counts = self.counts()
        length, languages = counts["length"], counts["languages"]
        for doc_id in ids:
            row = self.db.execute("SELECT docno, length, coalesce(lang, 'und') FROM docs WHERE id = ?",
                                  (doc_id,)).fetchone()
            if row:
                self.db.execute("DELETE FROM docs WHERE docno = ?", (row[0],))
                self.db.execute("DELETE FROM groups WHERE docno = ?", (row[0],))
                self.db.execute("INSERT OR IGNORE INTO deleted (docno) VALUES (?)", (row[0],))
                removed.append(row[0])
                length -= row[1]
                languages[row[2]] -= 1
                if not languages[row[2]]:
                    del languages[row[2]]
        if removed:
            self._set_counts(counts["docs"] - len(removed), length, counts["top"], languages)
        return removed

    def forget_deleted(self, docnos: list[int]) -> None:
        """Forget deleted docnos that no segment holds any more (a merge dropped them)."""
        self.db.executemany("DELETE FROM deleted WHERE docno = ?", ((int(n),) for n in docnos))

    def set_meta(self, key: str, value) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, json.dumps(value)))

    # --- reads --------------------------------------------------------------------------------
    def delete_meta(self, key: str) -> None:
        self.db.execute("DELETE FROM meta WHERE key = ?", (key,))

    def get_meta(self, key: str, default=None):
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def stats(self) -> tuple[int, int, int]:
        """(document count, total length in terms, largest docno ever stored or -1)."""
        counts = self.counts()
        return counts["docs"], counts["length"], counts["top"]

    def languages(self) -> dict[str, int]:
        """Documents per language (``und`` for none)."""
        return dict(sorted(self.counts()["languages"].items()))

    def counts(self) -> dict:
        """The committed documents' ``docs``, total ``length`` in terms, ``top`` docno and
        ``languages`` (code -> documents), kept in the meta table by every insert and delete in
        their transaction, so a commit to a large index scans nothing. A store written before
        has them counted once, by a scan, and kept from its next commit on."""
        found = self.get_meta(COUNTS)
        if found is not None:
            return found
        docs, length, top = self.db.execute(
            "SELECT count(*), coalesce(sum(length), 0), coalesce(max(docno), -1) FROM docs").fetchone()
        languages = dict(self.db.execute("SELECT coalesce(lang, 'und'), count(*) FROM docs GROUP BY 1").fetchall())
        return {"docs": docs, "length": length, "top": top, "languages": languages}

    def _set_counts(self, docs: int, length: int, top: int, languages: dict[str, int]) -> None:
        self.set_meta(COUNTS, {"docs": docs, "length": length, "top": top, "languages": languages})

    def ids(self) -> set[str]:
        return {row[0] for row in self.db.execute("SELECT id FROM docs")}

    def generation(self) -> int:
        """The commit counter: every committed add or delete increments it."""
        return int(self.get_meta("generation", 0))

    def add_chunk(self, name: str, count: int, kind: str = "dense") -> None:
        """Record a ``dense`` or ``sparse`` vector chunk (inside the batch's transaction)."""
        self.db.execute(f"INSERT OR REPLACE INTO {_chunk_table(kind)} (name, count) VALUES (?, ?)", (name, count))

    def chunks(self, kind: str = "dense") -> list[str]:
        """Names of the recorded ``dense`` or ``sparse`` chunks, in order of writing."""
        return [row[0] for row in self.db.execute(f"SELECT name FROM {_chunk_table(kind)} ORDER BY rowid")]

    def lang_map(self) -> dict[int, str]:
        """docno -> language (``und`` for none) of every document."""
        return dict(self.db.execute("SELECT docno, coalesce(lang, 'und') FROM docs"))

    def id_map(self) -> dict[int, str]:
        """docno -> id of every document."""
        return dict(self.db.execute("SELECT docno, id FROM docs"))

    def text_rows(self, docnos: list[int]) -> list[tuple[int, str, str]]:
        """(docno, title, text) of the given docnos, in docno order."""
        rows = []
        for start in range(0, len(docnos), 900):
            chunk = docnos[start:start + 900]
            rows += self.db.execute(f"SELECT docno, title, text FROM docs WHERE docno IN ({','.join('?' * len(chunk))})",
                                    chunk).fetchall()
        return sorted(rows)

    def deleted_docnos(self) -> list[int]:
        """Docnos deleted while a segment still holds them."""
        return [row[0] for row in self.db.execute("SELECT docno FROM deleted")]

    def version(self) -> tuple[int, int]:
        """What changes whenever anything is written to the store, by this connection or another:
        SQLite's ``data_version`` (other connections' commits) and this connection's
        ``total_changes``. Cheaper than :meth:`lexical_key`, which it gates."""
        return self.db.execute("PRAGMA data_version").fetchone()[0], self.db.total_changes

    def lexical_key(self) -> tuple:
        """What changes whenever the searchable postings do (a commit, a delete or a merge): one read."""
        return tuple(self.db.execute("SELECT key, value FROM meta WHERE key IN ('generation', 'segments') "
                                     "ORDER BY key").fetchall())

    def lexical_state(self) -> tuple[tuple, list[dict], list[int]]:
        """(:meth:`lexical_key`, live segment entries, deleted docnos), read in one transaction."""
        began = not self.db.in_transaction
        if began:
            self.db.execute("BEGIN")
        try:
            return self.lexical_key(), self.get_meta("segments", []), self.deleted_docnos()
        finally:
            if began:
                self.db.execute("COMMIT")

    def _has_table(self, name: str) -> bool:
        return self.db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None

    def has_groups(self) -> bool:
        """Whether any document has a group (stores written before groups existed have none)."""
        return self._has_table("groups") and self.db.execute("SELECT 1 FROM groups LIMIT 1").fetchone() is not None

    def groups(self, ids: list[str]) -> dict[str, str]:
        """``id -> group`` for the given ids that exist and have a group."""
        if not self._has_table("groups"):
            return {}
        out = {}
        for start in range(0, len(ids), 900):
            chunk = ids[start:start + 900]
            marks = ",".join("?" * len(chunk))
            out.update(self.db.execute(f"SELECT d.id, g.grp FROM docs d JOIN groups g ON g.docno = d.docno "
                                       f"WHERE d.id IN ({marks})", chunk).fetchall())
        return out

    def langs(self, ids: list[str]) -> dict[str, str]:
        """``id -> language`` (``und`` for none) for the given ids that exist."""
        out = {}
        for start in range(0, len(ids), 900):
            chunk = ids[start:start + 900]
            marks = ",".join("?" * len(chunk))
            out.update(self.db.execute(f"SELECT id, coalesce(lang, 'und') FROM docs WHERE id IN ({marks})",
                                       chunk).fetchall())
        return out

    def passages(self, ids: list[str]) -> dict[str, tuple[str, str]]:
        """``id -> (title, text)`` of those of ``ids`` the store holds."""
        out: dict[str, tuple[str, str]] = {}
        for start in range(0, len(ids), 900):
            chunk = ids[start:start + 900]
            out.update((row[0], (row[1], row[2])) for row in self.db.execute(
                f"SELECT id, title, text FROM docs WHERE id IN ({','.join('?' * len(chunk))})", chunk))
        return out

    def documents(self, ids: list[str]) -> dict[str, tuple[str | None, str, str]]:
        """``id -> (lang, title, text)`` for the given ids that exist."""
        out = {}
        for start in range(0, len(ids), 900):
            chunk = ids[start:start + 900]
            marks = ",".join("?" * len(chunk))
            for doc_id, lang, title, text in self.db.execute(
                    f"SELECT id, lang, title, text FROM docs WHERE id IN ({marks})", chunk):
                out[doc_id] = (lang, title, text)
        return out


def _connect(path: Path, readonly: bool) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), journal in DELETE mode."""
    uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"
    db = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    try:
        db.execute("PRAGMA journal_mode=DELETE")
    except BaseException:
        db.close()
        raise
    return db


def _chunk_table(kind: str) -> str:
    if kind not in ("dense", "sparse"):
        raise ValueError(f"unknown vector kind {kind!r}")
    return f"{kind}_chunks"
