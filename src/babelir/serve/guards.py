"""ASGI middlewares that guard every response of the service.

- :class:`Utf8Only`: a request whose path or query string is not valid UTF-8 once percent-decoded
  (a lone surrogate such as ``%ED%A0%80``, a stray ``%FF``) is refused with a 400, instead of
  reaching the endpoints with replacement characters in place of what the client sent. (JSON
  bodies are checked by the request models: a lone surrogate escape ``"\\ud800"`` in a string is
  a 422 naming the field.)
- :class:`SecurityHeaders`: every response carries a ``Content-Security-Policy`` (this origin's
  scripts, styles, images and requests only; no inline scripts, no framing, no plugins) and
  ``X-Content-Type-Options: nosniff``.
"""

from __future__ import annotations

import json
from urllib.parse import unquote_to_bytes

CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; "
                           "frame-ancestors 'none'")
HEADERS = [(b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
           (b"x-content-type-options", b"nosniff"),
           (b"referrer-policy", b"no-referrer")]


def _is_utf8(raw: bytes) -> bool:
    try:
        unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except (UnicodeDecodeError, ValueError):
        return False
    return True


class Utf8Only:
    """Answers 400 to a request whose path or query string is not UTF-8 once percent-decoded."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            raw_path = scope.get("raw_path") or scope.get("path", "").encode("utf-8", "surrogateescape")
            if not _is_utf8(raw_path) or not _is_utf8(scope.get("query_string", b"")):
                body = json.dumps({"detail": "the request URL is not valid UTF-8 (after percent-decoding)"}).encode()
                await send({"type": "http.response.start", "status": 400,
                            "headers": [(b"content-type", b"application/json"),
                                        (b"content-length", str(len(body)).encode()), *HEADERS]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


class SecurityHeaders:
    """Adds :data:`HEADERS` to every HTTP response (replacing any of the same name)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(message):
            if message["type"] == "http.response.start":
                names = {name for name, _ in HEADERS}
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message = {**message, "headers": headers + HEADERS}
            await send(message)

        await self.app(scope, receive, with_headers)
