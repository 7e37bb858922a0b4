"""Every error answer of the service: JSON ``{"detail": …}`` that never shows a filesystem path
and can always be encoded.

``install(app, directories)`` registers the handlers: a validation error is a 422 listing where
and why (not the input: it may be large, or not encodable), or a 415 when a body was sent as
something other than JSON (``Content-Type: text/plain``, a form); an :class:`HTTPException` keeps its
status, a :class:`~babelir.errors.BabelirError` is a 422, an ``OSError`` (a full disk, a read-only
directory) a 503, and anything else a 500 with no detail (its traceback goes to the server's log
only). Every message passes through :func:`scrub`. Messages may quote a short identifier the
client sent (a document id, an index name, a language code): JSON-escaped, and encodable, since
whatever cannot be encoded is written as its escape (:class:`SafeJSONResponse`).
"""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path

from fastapi.responses import JSONResponse

log = logging.getLogger("babelir.serve")

# an absolute path (POSIX, ~/…, a Windows drive or share), or a relative one that starts with ./ or ../
_PART = r"[^\s'\"`,;()<>\[\]{}]"  # a character of a path; one never ends in ':' or '.' (the message's own)
_PATH = re.compile(rf"(?:(?<![\w.~/\\-])(?:~?/|[A-Za-z]:[\\/]|\\\\)|(?<![\w/\\-])\.{{1,2}}/){_PART}+(?<![:.])")


class SafeJSONResponse(JSONResponse):
    """A JSON response whose body always encodes: a lone surrogate in a string (which UTF-8 cannot
    carry) is written as its JSON escape ``\\udXXX`` instead of failing the response."""

    def render(self, content) -> bytes:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        return text.encode("utf-8", errors="backslashreplace")  # only ever hits characters inside strings


def path_forms(directories: dict[str, str | Path]) -> list[tuple[str, str]]:
    """``(spelling, replacement)`` for each way a served directory may be spelled in a message
    (as given, absolute, resolved), longest first."""
    forms: dict[str, str] = {}
    for name, directory in directories.items():
        path = Path(directory)
        for form in (str(directory), str(path), str(path.absolute()), str(path.resolve())):
            if form not in (".", "", os.sep):
                forms.setdefault(form, f"index {name!r}")
    return sorted(forms.items(), key=lambda item: -len(item[0]))


def scrub(message: str, forms: list[tuple[str, str]]) -> str:
    """``message`` with each served directory (and any file in it) replaced by its index's name,
    and any other path by ``<path>``."""
    for form, replacement in forms:
        if form in message:
            spelled = rf"(?<![\w.\\/-]){re.escape(form)}(?:[/\\]{_PART}*(?<![:.]))?(?![\w-])"  # and files in it
            message = re.sub(spelled, replacement, message)
    return _PATH.sub("<path>", message)


def is_json_body(content_type: str | None) -> bool:
    """Whether a request's ``Content-Type`` announces JSON (``application/json``, ``…+json``), or
    announces nothing (a body without a type is read as JSON, as FastAPI does)."""
    if content_type is None:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def install(app, directories: dict[str, str | Path]) -> None:
    """Register the error handlers on ``app`` for the index ``directories`` it serves."""
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException

    from babelir.errors import BabelirError
    from babelir.index.writing import IndexBusy

    forms = path_forms(directories)

    def answer(status: int, detail, headers=None) -> SafeJSONResponse:
        if isinstance(detail, str):
            detail = scrub(detail, forms)
        return SafeJSONResponse({"detail": detail}, status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request, exc: RequestValidationError):
        if request.method in ("POST", "PUT", "PATCH") and not is_json_body(request.headers.get("content-type")):
            return answer(415, "the body must be JSON, sent with Content-Type: application/json")
        problems = [{"loc": [str(part) for part in error.get("loc", ())],
                     "msg": scrub(str(error.get("msg", "invalid")), forms),
                     "type": str(error.get("type", "value_error"))} for error in exc.errors()]
        return answer(422, problems)

    @app.exception_handler(HTTPException)
    async def http_error(request, exc: HTTPException):
        detail = exc.detail if isinstance(exc.detail, (str, list, dict)) else str(exc.detail)
        return answer(exc.status_code, detail, exc.headers)

    @app.exception_handler(BabelirError)
    async def user_error(request, exc: BabelirError):
        return answer(422, str(exc))

    @app.exception_handler(IndexBusy)
    async def busy(request, exc: IndexBusy):  # the CLI is writing the same index: not the client's fault
        return answer(503, "another process is writing this index; try again shortly", {"Retry-After": "2"})

    @app.exception_handler(OSError)
    async def os_error(request, exc: OSError):
        log.error("%s %s: %s", request.method, request.url.path, exc)  # the server's log may name the file
        reason = exc.strerror or type(exc).__name__  # never str(exc): it names the file
        return answer(503, f"the index could not be read or written ({reason}); try again later")

    @app.exception_handler(Exception)
    async def internal_error(request, exc: Exception):
        from babelir.serve.guards import HEADERS

        log.exception("%s %s", request.method, request.url.path)  # answered outside the other middlewares:
        headers = {name.decode(): value.decode() for name, value in HEADERS}  # their headers are added here
        return answer(500, "internal error (logged by the server)", headers)
