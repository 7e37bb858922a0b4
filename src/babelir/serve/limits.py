"""An ASGI middleware that bounds request bodies: a declared ``Content-Length`` over the limit is
refused at once, and a body without one (chunked) is counted as it arrives, so that nothing has
to be buffered twice and the application still reads the body itself."""

from __future__ import annotations

import json


class _TooLarge(Exception):
    pass


class BodyLimit:
    """Answers 413 to requests whose body exceeds ``limit`` bytes."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            return await self._refuse(send)
        received, started, refused = 0, False, False

        async def counted_receive():
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    if not started and not refused:  # answer now: the app may turn the error into its own
                        refused = True
                        await self._refuse(send)
                    raise _TooLarge
            return message

        async def watched_send(message):
            nonlocal started
            if refused:
                return  # the 413 is the response
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except _TooLarge:
            pass

    async def _refuse(self, send) -> None:
        body = json.dumps({"detail": f"request body over {self.limit} bytes"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
