"""A judging project: a directory holding the pool, the assessors and every judgment, in SQLite.

``PROJECT/project.sqlite`` holds

- ``meta``: the project format, the grade scale (``graded`` 0–3 or ``binary`` 0–1), the share of
  pairs given to two assessors (``overlap``), the pooling order and budget, the index it was pooled
  from;
- ``queries`` (id, text, language), ``docs`` (id, title, text, language): what assessors read;
- ``pairs``: one (query, document) pair to judge, its language (the document's: the assessor reads
  the passage), its place in the judging order, and how many people must judge it (0 beyond the
  budget, 1, or 2 for the agreement sample); ``contributions``: which run put it in the pool, at
  which rank;
- ``assessors`` (people with a scrypt-hashed secret and their languages, or models, whose names
  begin with ``model:``), ``sessions``, ``leases`` (the pair an assessor is looking at) and
  ``judgments`` (assessor, grade or skip / can't judge, time, seconds spent, undone).

``PROJECT/guidelines.md`` holds the guidelines the judging page shows; edit it freely.

Every write is one transaction, committed with ``synchronous=FULL`` in WAL mode before it is
acknowledged: a killed process loses nothing that was acknowledged.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import time
from pathlib import Path

from babelir.errors import BabelirError

FORMAT = 1
DATABASE = "project.sqlite"
GUIDELINES = "guidelines.md"
SCALES = {"graded": (0, 1, 2, 3), "binary": (0, 1)}
STATUSES = ("judged", "skip", "cant")
MODEL_PREFIX = "model:"
LEASE_SECONDS = 600.0  # a pair shown to an assessor is theirs for 10 minutes, renewed when shown again

DEFAULT_GUIDELINES = """\
# Judging guidelines

Read the query, then the passage. Grade how well the passage answers the query:

- **3 — perfectly relevant**: the passage answers the query; nothing else is needed.
- **2 — highly relevant**: it holds the answer, among other things, or most of it.
- **1 — related**: it is on the topic but does not answer the query.
- **0 — not relevant**: it has nothing to do with the query.

On a binary project: **1** when the passage answers the query, else **0**.

Keys: 0–3 grade · s skip (someone else may judge it) · x can't judge (language or content
beyond you) · u undo the last judgment · g these guidelines.

Judge the passage as written; do not look the answer up elsewhere. When unsure between two
grades, take the lower one.
"""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS queries(id TEXT PRIMARY KEY, text TEXT NOT NULL, lang TEXT NOT NULL,
                                   position INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS docs(id TEXT PRIMARY KEY, title TEXT NOT NULL, text TEXT NOT NULL, lang TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs(name TEXT PRIMARY KEY, path TEXT NOT NULL, added REAL NOT NULL);
CREATE TABLE IF NOT EXISTS pairs(id INTEGER PRIMARY KEY, qid TEXT NOT NULL, docno TEXT NOT NULL,
                                 lang TEXT NOT NULL, position INTEGER NOT NULL DEFAULT 0,
                                 needed INTEGER NOT NULL DEFAULT 1, claimed INTEGER NOT NULL DEFAULT 0,
                                 UNIQUE(qid, docno));
CREATE INDEX IF NOT EXISTS pairs_open ON pairs(lang, position) WHERE claimed < needed;
CREATE TABLE IF NOT EXISTS contributions(pair_id INTEGER NOT NULL, run TEXT NOT NULL, rank INTEGER NOT NULL,
                                         PRIMARY KEY(pair_id, run));
CREATE TABLE IF NOT EXISTS assessors(name TEXT PRIMARY KEY, secret TEXT, langs TEXT NOT NULL DEFAULT '*',
                                     kind TEXT NOT NULL, added REAL NOT NULL);
CREATE TABLE IF NOT EXISTS sessions(token TEXT PRIMARY KEY, assessor TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS leases(assessor TEXT PRIMARY KEY, pair_id INTEGER NOT NULL, shown REAL NOT NULL,
                                  until REAL NOT NULL);
CREATE INDEX IF NOT EXISTS leases_until ON leases(until);
CREATE TABLE IF NOT EXISTS judgments(id INTEGER PRIMARY KEY, pair_id INTEGER NOT NULL, assessor TEXT NOT NULL,
                                     grade INTEGER, status TEXT NOT NULL, at REAL NOT NULL,
                                     seconds REAL NOT NULL, undone INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS judgments_pair ON judgments(pair_id, assessor) WHERE undone = 0;
CREATE INDEX IF NOT EXISTS judgments_assessor ON judgments(assessor, id) WHERE undone = 0;
"""


class Project:
    """An open judging project (one SQLite connection; safe to share between threads that hold
    :attr:`lock`-free read access only through :meth:`transaction`).

    Raises :class:`BabelirError` for a directory that is not a project, or one made by a newer
    babelir (its format is above :data:`FORMAT`).
    """

    def __init__(self, directory: Path, db: sqlite3.Connection):
        import threading

        self.directory = directory
        self.db = db
        self.lock = threading.RLock()  # one connection, shared by the web app's threads

    # -- opening --------------------------------------------------------------------------------
    @classmethod
    def create(cls, directory: str | Path, scale: str = "graded", overlap: float = 0.1) -> "Project":
        """A new project in ``directory`` (created; it must not hold anything else)."""
        directory = Path(directory)
        if scale not in SCALES:
            raise BabelirError(f"unknown scale {scale!r} (graded or binary)")
        cls.check_new(directory)
        directory.mkdir(parents=True, exist_ok=True)
        project = cls(directory, _connect(directory / DATABASE))
        project.db.executescript(_SCHEMA)  # idempotent (IF NOT EXISTS); executescript commits by itself
        with project.transaction():
            for key, value in (("format", FORMAT), ("scale", scale), ("overlap", overlap), ("created", time.time())):
                project.db.execute("INSERT OR IGNORE INTO meta VALUES (?, ?)", (key, str(value)))
        if not (directory / GUIDELINES).exists():
            from babelir.io.atomic import atomic_write_text

            atomic_write_text(directory / GUIDELINES, DEFAULT_GUIDELINES)
        return project

    @staticmethod
    def check_new(directory: Path) -> None:
        """Refuse to make a project where a file is, or in a directory that holds anything else."""
        if directory.exists() and not directory.is_dir():
            raise BabelirError(f"{directory}: exists and is not a directory")
        if directory.is_dir() and any(directory.iterdir()) and not (directory / DATABASE).exists():
            raise BabelirError(f"{directory}: exists and is not a judging project; choose another with -o")

    @classmethod
    def open(cls, directory: str | Path) -> "Project":
        """Open an existing project; refuse a missing one and one of a newer format."""
        directory = Path(directory)
        path = directory / DATABASE
        if not path.is_file():
            raise BabelirError(f"{directory}: not a judging project (no {DATABASE}; make one with babelir pool)")
        db = _connect(path)
        try:
            row = db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
        except sqlite3.DatabaseError as exc:
            db.close()
            raise BabelirError(f"{path}: not a judging project database ({exc})") from None
        if row is None or not row[0].isdigit():
            db.close()
            what = "no format" if row is None else f"its format {row[0]!r} is not a number"
            raise BabelirError(f"{path}: not a judging project database ({what})")
        found = int(row[0])
        if found > FORMAT:
            db.close()
            raise BabelirError(f"{path}: made by a newer babelir (project format {found}; this babelir reads "
                               f"format {FORMAT} and older): upgrade babelir to open it")
        return cls(directory, db)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Project":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def transaction(self):
        """A write transaction (BEGIN IMMEDIATE … COMMIT, rolled back on an exception)."""
        return _Transaction(self)

    # -- settings -------------------------------------------------------------------------------
    def meta(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value) -> None:
        """Inside a transaction."""
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, str(value)))

    @property
    def scale(self) -> str:
        return self.meta("scale", "graded")

    @property
    def grades(self) -> tuple[int, ...]:
        return SCALES[self.scale]

    @property
    def overlap(self) -> float:
        return float(self.meta("overlap", "0"))

    def guidelines(self) -> str:
        try:
            return (self.directory / GUIDELINES).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return DEFAULT_GUIDELINES

    def check_grade(self, grade: object) -> int:
        """``grade`` as an int on the project's scale; a BabelirError naming the scale otherwise."""
        if type(grade) is not int or grade not in self.grades:
            shown = "null" if grade is None else repr(grade)
            raise BabelirError(f"grade {shown} is outside the project's {self.scale} scale "
                               f"({', '.join(map(str, self.grades))})")
        return grade

    # -- assessors ------------------------------------------------------------------------------
    def add_assessor(self, name: str, langs: list[str] | None, secret: str | None = None) -> str:
        """Add a person (a secret is made when none is given) and return the secret. Refuses an
        existing name, and a name beginning ``model:`` (model assessors come from ``judge prejudge``)."""
        _check_name(name)
        if name.startswith(MODEL_PREFIX):
            raise BabelirError(f"assessor names beginning {MODEL_PREFIX!r} are for models (babelir judge prejudge "
                               "adds them); choose another name")
        secret = secret or secrets.token_urlsafe(12)
        if len(secret) < 8:
            raise BabelirError("a secret needs at least 8 characters")
        with self.transaction():
            if self.db.execute("SELECT 1 FROM assessors WHERE name = ?", (name,)).fetchone():
                raise BabelirError(f"assessor {name!r} exists already (change languages with 'judge assessor langs')")
            self.db.execute("INSERT INTO assessors VALUES (?, ?, ?, 'person', ?)",
                            (name, _hash_secret(secret), _langs_text(langs), time.time()))
        return secret

    def ensure_model_assessor(self, name: str) -> str:
        """The model assessor ``model:NAME`` (added when new); returns its full name."""
        full = name if name.startswith(MODEL_PREFIX) else MODEL_PREFIX + name
        _check_name(full)
        with self.transaction():
            self.db.execute("INSERT OR IGNORE INTO assessors VALUES (?, NULL, '*', 'model', ?)", (full, time.time()))
        return full

    def set_languages(self, name: str, langs: list[str] | None) -> None:
        with self.transaction():
            self.require_assessor(name)
            self.db.execute("UPDATE assessors SET langs = ? WHERE name = ?", (_langs_text(langs), name))

    def require_assessor(self, name: str) -> tuple[str, str]:
        """``(kind, langs)`` of an assessor; a BabelirError for an unknown name."""
        row = self.db.execute("SELECT kind, langs FROM assessors WHERE name = ?", (name,)).fetchone()
        if row is None:
            known = ", ".join(r[0] for r in self.db.execute("SELECT name FROM assessors ORDER BY name"))
            raise BabelirError(f"unknown assessor {name!r} (known: "
                               f"{known or 'none yet; add one with babelir judge assessor add'})")
        return row

    def assessors(self) -> list[tuple[str, str, str]]:
        """``[(name, kind, langs)]``, by name."""
        return self.db.execute("SELECT name, kind, langs FROM assessors ORDER BY name").fetchall()

    def login(self, name: str, secret: str) -> str | None:
        """A session token for a person whose secret matches, else None."""
        with self.lock:  # the web app's threads share the connection
            row = self.db.execute("SELECT secret FROM assessors WHERE name = ? AND kind = 'person'", (name,)).fetchone()
        if row is None or not _verify_secret(secret, row[0]):
            return None
        token = secrets.token_urlsafe(24)
        with self.transaction():
            self.db.execute("INSERT INTO sessions VALUES (?, ?, ?)", (_token_key(token), name, time.time()))
        return token

    def session(self, token: str) -> str | None:
        """The assessor a session token belongs to, or None."""
        row = self.db.execute("SELECT assessor FROM sessions WHERE token = ?", (_token_key(token),)).fetchone()
        return row[0] if row else None

    # -- reading --------------------------------------------------------------------------------
    def pair_details(self, pair_id: int) -> dict | None:
        """The pair with its query and document, as the judging page shows it."""
        row = self.db.execute(
            "SELECT p.id, p.qid, q.text, q.lang, p.docno, d.title, d.text, d.lang FROM pairs p "
            "JOIN queries q ON q.id = p.qid JOIN docs d ON d.id = p.docno WHERE p.id = ?", (pair_id,)).fetchone()
        if row is None:
            return None
        keys = ("id", "query_id", "query", "query_lang", "doc_id", "title", "text", "doc_lang")
        return dict(zip(keys, row))

    def live_judgments(self, people_only: bool = False):
        """``[(pair id, query id, doc id, lang, assessor, grade, status, at, seconds)]`` not undone,
        oldest first."""
        where = "AND a.kind = 'person'" if people_only else ""
        return self.db.execute(
            "SELECT j.pair_id, p.qid, p.docno, p.lang, j.assessor, j.grade, j.status, j.at, j.seconds "
            "FROM judgments j JOIN pairs p ON p.id = j.pair_id JOIN assessors a ON a.name = j.assessor "
            f"WHERE j.undone = 0 {where} ORDER BY j.id").fetchall()


class _Transaction:
    def __init__(self, project: Project):
        self.project = project

    def __enter__(self):
        self.project.lock.acquire()
        try:
            self.project.db.execute("BEGIN IMMEDIATE")
        except BaseException:
            self.project.lock.release()
            raise
        return self.project.db

    def __exit__(self, kind, exc, tb):
        try:
            self.project.db.execute("COMMIT" if kind is None else "ROLLBACK")
        finally:
            self.project.lock.release()


def _connect(path: Path) -> sqlite3.Connection:
    """Autocommit mode (transactions are explicit), WAL journal, durable commits, waits for writers."""
    db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30.0)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA foreign_keys=OFF")
    except sqlite3.DatabaseError as exc:
        db.close()
        raise BabelirError(f"{path}: not a judging project database ({exc})") from None
    return db


def _check_name(name: str) -> None:
    from babelir.types import id_problem

    problem = id_problem(name)
    if problem is not None or len(name) > 64:
        raise BabelirError(f"assessor name {problem or 'is longer than 64 characters'}")


def _langs_text(langs: list[str] | None) -> str:
    from babelir.types import normalize_lang

    if not langs:
        return "*"
    return ",".join(sorted({normalize_lang(lang) for lang in langs}))


def _hash_secret(secret: str) -> str:
    """scrypt (RFC 7914) with a random salt: ``salt$hash`` in hex."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"{salt.hex()}${digest.hex()}"


def _verify_secret(secret: str, stored: str | None) -> bool:
    if not stored or "$" not in stored:
        return False
    salt, digest = stored.split("$", 1)
    found = hashlib.scrypt(secret.encode(), salt=bytes.fromhex(salt), n=2**14, r=8, p=1)
    return hmac.compare_digest(found.hex(), digest)


def _token_key(token: str) -> str:
    """Sessions are stored by the token's SHA-256: a copy of the database does not log anyone in."""
    return hashlib.sha256(token.encode()).hexdigest()
