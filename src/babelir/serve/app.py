"""The FastAPI app: ``/v1/search``, ``/v1/indexes``, ``/v1/docs``, ``/health`` and the web page at ``/``.

``create_app({"name": directory, …}, writable=False, api_key=None)``. Requests name indexes, never
paths. Parameters are bounded (query length, k, offset, languages, body size); a bad parameter is a
422 with the reason, an unknown index or document a 404, a write without the API key a 401, and
a write to a read-only server a 403, a body that is not sent as JSON a 415. No answer shows a
filesystem path or input that cannot be encoded (:mod:`babelir.serve.errors`); a URL that is not UTF-8 is a 400 and every response carries a
Content-Security-Policy and ``X-Content-Type-Options: nosniff`` (:mod:`babelir.serve.guards`). The
OpenAPI description is at ``/openapi.json``; there is no ``/docs`` page (it would load its scripts
from a CDN: nothing here needs the network).
"""

from __future__ import annotations

import hmac
from pathlib import Path
from typing import Literal

from fastapi import Body, FastAPI, Header, HTTPException, Query
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, field_validator

from babelir.errors import BabelirError
from babelir.serve import errors
from babelir.serve.guards import SecurityHeaders, Utf8Only
from babelir.serve.limits import BodyLimit
from babelir.serve.service import FUSION_DEPTH, MAX_DEPTH, IndexService
from babelir.text.searchable import NOT_SEARCHABLE, has_searchable_text
from babelir.types import id_problem

STATIC = Path(__file__).parent / "static"
MAX_BODY_BYTES = 1_000_000
MAX_QUERY_CHARS = 1000
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class NewDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field ("txt", "language") is a 422, not ignored

    id: str = Field(min_length=1, max_length=256)
    text: str = Field(min_length=1, max_length=100_000)
    title: str | None = Field(default=None, max_length=1000)
    lang: str | None = Field(default=None, max_length=16)
    group: str | None = Field(default=None, max_length=256)

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:  # the one id check of every reader (types.id_problem)
        problem = id_problem(value)
        if problem is not None:
            raise ValueError(f"id {problem}")
        return value


class NewDocuments(BaseModel):
    model_config = ConfigDict(extra="forbid")

    documents: list[NewDocument] = Field(min_length=1, max_length=1000)


def create_app(indexes: dict[str, str | Path], writable: bool = False, api_key: str | None = None) -> FastAPI:
    """The app over the named index directories (opened now; a bad one raises BabelirError)."""
    if writable and not api_key:
        raise BabelirError("a writable server needs an API key (--api-key or BABELIR_API_KEY)")
    services = {name: IndexService(name, path, writable=writable) for name, path in indexes.items()}
    app = FastAPI(title="babelir", version=_version(), docs_url=None, redoc_url=None,
                  default_response_class=errors.SafeJSONResponse,
                  description="Multilingual and cross-lingual search over named babelir indexes.")

    def service(name: str) -> IndexService:
        if name not in services:
            raise HTTPException(404, f"no index named {name!r} (known: {', '.join(sorted(services))})")
        return services[name]

    def authorise(key: str | None) -> None:
        if not writable:
            raise HTTPException(403, "this server is read-only (start it with --writable)")
        if key is None or not hmac.compare_digest(key.encode(), api_key.encode()):
            raise HTTPException(401, "a valid X-API-Key header is required")

    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    app.add_middleware(Utf8Only)
    app.add_middleware(SecurityHeaders)  # the outermost: every answer, the 400s and 413s of the others too
    errors.install(app, indexes)  # an error about an index names it by its registered name, never its directory

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok", "indexes": sorted(services)}

    @app.get("/v1/indexes")
    def list_indexes() -> dict:
        return {"indexes": [s.describe() for _, s in sorted(services.items())]}

    @app.get("/v1/search", description=(
        f"The ranked results of one query, ``k`` from ``offset``. ``total`` counts the results the search "
        f"ranks, the same at every offset: every match up to {MAX_DEPTH} (bm25, dense, sparse); a hybrid fuses "
        f"each mode's top {FUSION_DEPTH} (as ``babelir search --mode hybrid``), so its total is at most their union. "
        f"A query without searchable text (only spaces, punctuation, marks or invisible characters) is a 422. "
        f"``abstain``: when the index holds a calibration of this search's pipeline (``babelir abstain calibrate``), "
        f"``{{p, answerable, threshold, lang, model, k}}``: P(a relevant document is in the top k of the ranking, "
        f"whatever the page), answerable when p >= threshold (the query language's threshold; ``model``: the "
        f"language whose model decided, ``*`` for all languages); else null."))
    def search(index: str = Query(pattern=NAME_PATTERN, description="a registered index name"),
               q: str = Query(min_length=1, max_length=MAX_QUERY_CHARS, description="the query, any language"),
               k: int = Query(10, ge=1, le=100), offset: int = Query(0, ge=0, le=MAX_DEPTH - 1),
               mode: Literal["bm25", "dense", "sparse", "hybrid"] | None = None,
               langs: str | None = Query(None, max_length=200, pattern=r"^[A-Za-z_,-]*$",
                                         description="only documents in these languages, e.g. th,zh"),
               lang: str | None = Query(None, max_length=16, pattern=r"^[A-Za-z_-]*$",
                                        description="the query's language (default: detected among the "
                                                    "index's languages)"),
               max_hallucination: float | None = Query(
                   None, ge=0, le=1, allow_inf_nan=False,
                   description="abstention: the threshold at which at most this share of the calibration's queries "
                               "without a relevant document is marked answerable (default: the balanced threshold)"),
               ) -> dict:
        from babelir.retrieve.language_gate import held_counts
        from babelir.text.langid import detect, look_alikes, plausible_languages
        from babelir.types import normalize_lang

        target = service(index)
        if not q.strip():
            raise HTTPException(422, "q is blank")
        if not has_searchable_text(q):
            raise HTTPException(422, f"q has no searchable text ({NOT_SEARCHABLE})")
        held = held_counts(target.index)
        if lang:
            query_lang = normalize_lang(lang)
            written_in = frozenset({query_lang})
        else:  # the plausible languages, computed once, serve detection and the hybrid's language check
            written_in = plausible_languages(q)
            query_lang = detect(q, among=held or None, plausible=written_in)
        doc_langs = target.index.language_filter(langs) if langs else None
        chosen = mode or target.modes()[0]
        hits, evidence = target.search(q, query_lang, chosen, MAX_DEPTH, doc_langs, written_in,  # whatever the page
                                       with_evidence=True)
        calibrated = target.abstention.lookup(chosen, doc_langs)
        abstain = None
        if calibrated is not None:  # P(relevant in the top k) of the pipeline babelir abstain calibrate ran
            top = target.pipeline_top(evidence, calibrated.calibration.k)
            abstain = target.abstention.decide(calibrated, query_lang, top, evidence.first_stages, max_hallucination,
                                               text=q)
        page = hits[offset:offset + k]
        docs = target.documents([d for d, _ in page])
        highlighter = target.highlighter(q, query_lang, target.query_terms(q, query_lang))
        results = []
        for doc_id, score in page:
            if doc_id not in docs:  # deleted (by another writer) after the ranking was read
                continue
            doc_lang, title, text = docs[doc_id]
            text_snippet, marks = highlighter.snippet(text, doc_lang)
            results.append({"id": doc_id, "score": round(float(score), 6), "lang": doc_lang, "title": title,
                            "snippet": text_snippet, "highlights": marks})
        alternatives = [] if lang else [code for code in look_alikes(query_lang) if code != query_lang]
        return {"query": q, "detected_lang": query_lang, "lang_alternatives": alternatives, "mode": chosen,
                "total": len(hits), "offset": offset, "k": k, "abstain": abstain, "results": results}

    @app.get("/v1/docs/{index}/{doc_id:path}")  # an id may hold "/" (send "%" and "?" percent-encoded)
    def get_document(index: str, doc_id: str) -> dict:
        found = service(index).documents([doc_id])
        if doc_id not in found:
            raise HTTPException(404, f"no document {doc_id!r} in index {index!r}")
        doc_lang, title, text = found[doc_id]
        return {"id": doc_id, "lang": doc_lang, "title": title, "text": text}

    @app.post("/v1/docs/{index}", status_code=201)
    def add_documents(index: str, body: NewDocuments = Body(...),
                      x_api_key: str | None = Header(None)) -> dict:
        from babelir.types import Doc, normalize_lang

        authorise(x_api_key)
        target = service(index)
        blank = [d.id for d in body.documents if not d.text.strip()]
        if blank:
            raise HTTPException(422, f"documents without text: {', '.join(blank[:10])}")
        ids = [d.id for d in body.documents]
        if len(set(ids)) != len(ids):
            raise HTTPException(422, "the same id appears twice in the request")
        existing = sorted(target.documents(ids))
        if existing:
            raise HTTPException(409, f"already in the index: {', '.join(existing[:10])}")
        held = dict(target.index.manifest.get("languages", {}))  # detection keeps to these where plausible,
        for d in body.documents:                                  # and to the languages given beside
            if d.lang:
                held[normalize_lang(d.lang)] = held.get(normalize_lang(d.lang), 0) + 1
        docs = [Doc(d.id, d.text, title=d.title or "",
                    lang=normalize_lang(d.lang) if d.lang else _detect(d.text, held),
                    group=(d.group or "").strip()) for d in body.documents]
        return {"added": target.add(docs)}

    @app.delete("/v1/docs/{index}/{doc_id:path}")
    def delete_document(index: str, doc_id: str, x_api_key: str | None = Header(None)) -> dict:
        authorise(x_api_key)
        if not service(index).delete([doc_id]):
            raise HTTPException(404, f"no document {doc_id!r} in index {index!r}")
        return {"deleted": 1}

    @app.get("/", include_in_schema=False)
    def page():
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon():  # browsers ask for it: no icon, and no 404 in the console
        from fastapi.responses import Response

        return Response(status_code=204)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.state.services = services
    return app


def _detect(text: str, held: dict[str, int]) -> str | None:
    from babelir.text.langid import detect_document

    return detect_document(text, held)


def _version() -> str:
    import babelir

    return babelir.__version__
