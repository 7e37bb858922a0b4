"""The judging web app: assessors log in, read a query beside a passage, and grade it from the keyboard.

``create_judge_app(project_dir)`` serves one judging project (:mod:`babelir.judge.project`):

- ``GET /``: the page (``static/judge.html``; no script, style or font from the network);
- ``POST /api/login`` ``{"name", "secret"}`` → ``{"token", "assessor", "langs", "scale", "grades"}``,
  or 401. The secret is checked once (scrypt, :meth:`Project.login`); every other ``/api`` call sends
  ``Authorization: Bearer TOKEN`` and is a 401 without a valid one;
- ``GET /api/next`` → ``{"pair": PAIR | null}``: the pair to judge now, leased to the caller
  (:func:`babelir.judge.assign.next_pair`: a reload gets the same pair back);
- ``POST /api/judgments`` ``{"pair_id", "grade", "status": "judged"|"skip"|"cant", "seconds"}`` →
  ``{"judgment": id}``, answered once committed (:func:`babelir.judge.assign.record`);
- ``POST /api/undo`` → ``{"pair": PAIR | null}``: the caller's latest judgment withdrawn, its pair
  shown again (:func:`babelir.judge.assign.undo`);
- ``GET /api/progress`` → :func:`babelir.judge.assign.progress` (recomputed at most every
  :data:`PROGRESS_SECONDS`) plus ``"me"``: the caller's own counts, per language, always current;
- ``GET /api/guidelines`` → ``{"markdown": PROJECT/guidelines.md}``.

A PAIR is ``{id, query_id, query, query_lang, query_dir, doc_id, title, text, doc_lang, doc_dir,
marks, shown}``: ``*_dir`` is ``rtl`` for right-to-left languages (Arabic, Hebrew, Urdu, Persian …)
and ``marks`` the passage as ``[[text, is_match], …]`` segments, a word being a match when its
analysis (the pooled index's analyzer, :mod:`babelir.serve.highlight`) shares a term with the query's.

Errors are those of the search service (:mod:`babelir.serve.errors`): a bad value is a 422 with a
one-line reason, never a 500 and never a filesystem path. The project keeps one SQLite connection:
every use of it here holds :attr:`Project.lock` (the writes of :mod:`~babelir.judge.assign` take it
through their transactions).
"""

from __future__ import annotations

import sqlite3
import threading
import time
import unicodedata
from collections import OrderedDict
from pathlib import Path
from typing import Literal

from fastapi import Depends, FastAPI, Header, HTTPException
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field

from babelir.judge import assign
from babelir.judge.project import Project
from babelir.serve import errors
from babelir.serve.guards import SecurityHeaders, Utf8Only
from babelir.serve.limits import BodyLimit

STATIC = Path(__file__).parent / "static"
MAX_BODY_BYTES = 64_000
PROGRESS_SECONDS = 2.0       # the project-wide progress is shared by every caller for this long
MARKED_CHARS = 20_000        # a passage's first characters analysed for highlighting (the rest shown unmarked)
MARK_CACHE = 512             # highlighted passages kept (a reload or an undo shows one again)
RTL_LANGS = frozenset({"ar", "he", "iw", "fa", "ur", "ps", "sd", "ug", "yi", "dv", "ckb", "arz", "ary", "syr"})


class Login(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    secret: str = Field(min_length=1, max_length=256)


class Judgment(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    pair_id: int = Field(ge=1, le=2**62)
    grade: int | None = Field(default=None, ge=-1000, le=1000)  # the scale is checked by assign.record
    status: Literal["judged", "skip", "cant"] = "judged"
    seconds: float | int | None = Field(default=None, ge=0, le=7 * 86400, allow_inf_nan=False)


def text_direction(lang: str | None, text: str = "") -> str:
    """``rtl`` for a right-to-left language; for an unknown one (``und``), the direction of the first
    strongly directional character of ``text``; else ``ltr``."""
    if lang in RTL_LANGS:
        return "rtl"
    if lang in (None, "", "und"):
        for char in text[:2000]:
            kind = unicodedata.bidirectional(char)
            if kind in ("R", "AL"):
                return "rtl"
            if kind == "L":
                return "ltr"
    return "ltr"


class _Marker:
    """The passage as ``[[text, is_match], …]``, with the query's terms marked (a
    :class:`~babelir.serve.highlight.Highlighter` over the whole passage, up to :data:`MARKED_CHARS`)."""

    def __init__(self, project: Project):
        self.project = project
        self._analyzer = None
        self._lock = threading.Lock()  # analyzers (sudachi, kiwi …) are not thread-safe
        self._cache: OrderedDict[int, list] = OrderedDict()

    def analyzer(self):
        if self._analyzer is None:
            from babelir.text.analyzer import analyzer_from_config, get_analyzer

            analyzer = None
            with self.project.lock:
                stored = self.project.meta("index")
            try:  # the pooled index's analysis; the default one when the index is gone or unreadable
                from babelir.index.manifest import read_manifest

                config = read_manifest(Path(stored))["analyzer"]
                if config.get("name") == "language-aware":  # words alone: marks never use the mE5 pieces,
                    config = {**config, "pieces": False}     # whose vocabulary check costs seconds
                analyzer = analyzer_from_config(config, Path(stored))
            except Exception:  # noqa: BLE001 - highlighting is a help, never a reason to fail
                analyzer = get_analyzer()
            self._analyzer = analyzer
        return self._analyzer

    def warm(self) -> None:
        """Load the analyzer and each of the project's languages' word breakers now (a second or more
        for jieba, pythainlp, sudachi …), with one of its passages, not on the first pair shown."""
        with self.project.lock:
            samples = self.project.db.execute(
                "SELECT lang, substr(min(text), 1, 200) FROM docs GROUP BY lang").fetchall()
        for lang, text in samples or [("en", "warm up")]:
            try:
                self._segments(text, lang, text, lang)
            except Exception:  # noqa: BLE001 - the first pair shown will say what fails
                pass

    def marks(self, pair: dict) -> list[list]:
        found = self._cache.get(pair["id"])
        if found is not None:
            return found
        text = pair["text"] or ""
        head, tail = text[:MARKED_CHARS], text[MARKED_CHARS:]
        try:
            segments = self._segments(pair["query"], pair["query_lang"], head, pair["doc_lang"])
        except Exception:  # noqa: BLE001 - an analyzer that fails on one text: show it unmarked
            errors.log.exception("highlighting pair %s", pair["id"])
            segments = [[head, False]] if head else []
        if tail:
            segments.append([tail, False])
        with self._lock:
            self._cache[pair["id"]] = segments
            while len(self._cache) > MARK_CACHE:
                self._cache.popitem(last=False)
        return segments

    def _segments(self, query: str, query_lang: str | None, text: str, lang: str | None) -> list[list]:
        from babelir.serve.highlight import Highlighter, word_analysis

        if not text:
            return []
        with self._lock:
            analyzer = self.analyzer()
            terms = set(analyzer.analyze(query, query_lang))
        words_of = word_analysis(analyzer)

        def analyze_words(words, word_lang):
            with self._lock:
                return [words_of(word, word_lang) for word in words]

        shown, spans = Highlighter(query, query_lang, terms, analyze_words, size=len(text)).snippet(text, lang)
        if shown != text:  # never: the window is the whole text
            return [[text, False]]
        segments, at = [], 0
        for start, end in spans:
            if start > at:
                segments.append([text[at:start], False])
            segments.append([text[start:end], True])
            at = end
        if at < len(text):
            segments.append([text[at:], False])
        return segments


def create_judge_app(project_dir: str | Path, warm: bool = False) -> FastAPI:
    """The judging app over the project in ``project_dir`` (opened now: a directory that is not a
    project raises :class:`~babelir.errors.BabelirError`). The project languages' analyzers are
    loaded now with ``warm`` (``babelir judge serve``: a few seconds before it listens, so that no
    assessor's first pair waits on them), else in a background thread."""
    project = Project.open(project_dir)
    reader = _reader(project)  # progress reads a snapshot (WAL) on its own connection: no writer waits on it
    marker = _Marker(project)
    sessions: dict[str, str] = {}  # token -> assessor (sessions are never withdrawn)
    shared = {"at": 0.0, "progress": None, "every": PROGRESS_SECONDS}
    shared_lock = threading.Lock()
    app = FastAPI(title="babelir judge", version=_version(), docs_url=None, redoc_url=None,
                  default_response_class=errors.SafeJSONResponse,
                  description="Relevance judging of a pooled project, one pair at a time.")
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    app.add_middleware(Utf8Only)
    app.add_middleware(SecurityHeaders)
    errors.install(app, {"project": project_dir})
    forms = errors.path_forms({"project": project_dir})
    _install_one_line_errors(app, forms)

    def assessor(authorization: str | None = Header(None, max_length=512)) -> str:
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or len(token) > 200:
            raise HTTPException(401, "log in first (Authorization: Bearer TOKEN)",
                                headers={"WWW-Authenticate": "Bearer"})
        name = sessions.get(token)
        if name is None:
            with project.lock:
                name = project.session(token)
            if name is None:
                raise HTTPException(401, "unknown or expired session: log in again",
                                    headers={"WWW-Authenticate": "Bearer"})
            if len(sessions) < 100_000:
                sessions[token] = name
        return name

    def shown(pair: dict | None) -> dict | None:
        if pair is None:
            return None
        return {**pair, "query_dir": text_direction(pair["query_lang"], pair["query"]),
                "doc_dir": text_direction(pair["doc_lang"], pair["text"]), "marks": marker.marks(pair)}

    @app.get("/", include_in_schema=False)
    def page():
        return FileResponse(STATIC / "judge.html", media_type="text/html")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon():
        return Response(status_code=204)

    @app.post("/api/login")
    def login(body: Login) -> dict:
        token = project.login(body.name, body.secret)
        if token is None:
            raise HTTPException(401, "unknown name or wrong secret")
        with project.lock:
            _, langs = project.require_assessor(body.name)
            scale, grades = project.scale, list(project.grades)
        return {"token": token, "assessor": body.name, "langs": langs.split(","), "scale": scale, "grades": grades}

    @app.get("/api/next")
    def next_pair(name: str = Depends(assessor)) -> dict:
        with project.lock:  # next_pair reads the pair's texts after its transaction
            pair = assign.next_pair(project, name)
        return {"pair": shown(pair)}

    @app.post("/api/judgments")
    def judge(body: Judgment, name: str = Depends(assessor)) -> dict:
        seconds = None if body.seconds is None else float(body.seconds)
        judgment = assign.record(project, name, body.pair_id, body.grade, body.status, seconds)
        return {"judgment": judgment}

    @app.post("/api/undo")
    def undo(name: str = Depends(assessor)) -> dict:
        with project.lock:
            pair = assign.undo(project, name)
        return {"pair": shown(pair)}

    @app.get("/api/progress")
    def progress(name: str = Depends(assessor)) -> dict:
        with shared_lock:  # one caller recomputes; the others wait for it instead of recomputing too
            if shared["progress"] is None or time.monotonic() - shared["at"] > shared["every"]:
                began = time.monotonic()
                with reader.lock:
                    shared["progress"] = assign.progress(reader)
                shared["at"] = time.monotonic()
                # a large project's progress costs seconds: never spend more than a tenth of the time on it
                shared["every"] = max(PROGRESS_SECONDS, 10 * (shared["at"] - began))
            found = shared["progress"]
        with reader.lock:
            rows = reader.db.execute(
                "SELECT p.lang, j.status, count(*), sum(j.seconds) FROM judgments j JOIN pairs p ON p.id = j.pair_id "
                "WHERE j.assessor = ? AND j.undone = 0 GROUP BY p.lang, j.status", (name,)).fetchall()
        mine = {"name": name, "judged": 0, "skip": 0, "cant": 0, "seconds": 0.0, "by_lang": {}}
        for lang, status, count, seconds in rows:
            mine[status] += count
            mine["seconds"] += seconds or 0.0
            mine["by_lang"].setdefault(lang, {"judged": 0, "skip": 0, "cant": 0})[status] += count
        done = mine["judged"] + mine["skip"] + mine["cant"]
        mine["seconds"] = round(mine["seconds"] / done, 2) if done else 0.0
        return {**found, "me": mine}

    @app.get("/api/guidelines")
    def guidelines(name: str = Depends(assessor)) -> dict:
        return {"markdown": project.guidelines()}

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.state.project, app.state.reader = project, reader
    if warm:
        marker.warm()
    else:
        threading.Thread(target=marker.warm, name="babelir-judge-warm", daemon=True).start()
    return app


def _reader(project: Project) -> Project:
    """A second, read-only connection to the project's database, with its own lock."""
    from urllib.parse import quote

    from babelir.judge.project import DATABASE

    path = (project.directory / DATABASE).resolve()
    db = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, check_same_thread=False, timeout=30.0)
    return Project(project.directory, db)


def _install_one_line_errors(app: FastAPI, forms) -> None:
    """A request the models refuse is a 422 whose detail is one line (``field: reason; …``), or a 415
    for a body not sent as JSON; a database that stays locked is a 503."""
    from fastapi.exceptions import RequestValidationError

    @app.exception_handler(RequestValidationError)
    async def invalid(request, exc: RequestValidationError):
        if request.method == "POST" and not errors.is_json_body(request.headers.get("content-type")):
            return errors.SafeJSONResponse({"detail": "the body must be JSON, sent with Content-Type: "
                                                      "application/json"}, status_code=415)
        reasons = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "body"
            reasons.append(f"{where}: {error.get('msg', 'invalid')}")
        detail = errors.scrub("; ".join(reasons)[:500] or "invalid request", forms)
        return errors.SafeJSONResponse({"detail": detail}, status_code=422)

    @app.exception_handler(assign.PairNotYours)
    async def not_yours(request, exc: assign.PairNotYours):
        return errors.SafeJSONResponse({"detail": errors.scrub(str(exc), forms)}, status_code=409)

    @app.exception_handler(sqlite3.Error)
    async def busy(request, exc: sqlite3.Error):
        errors.log.error("%s %s: %s", request.method, request.url.path, exc)
        return errors.SafeJSONResponse({"detail": "the project database is busy; try again shortly"},
                                       status_code=503, headers={"Retry-After": "1"})


def _version() -> str:
    import babelir

    return babelir.__version__

