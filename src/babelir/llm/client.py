"""A small client for OpenAI-compatible chat completions (``POST {base}/chat/completions``).

Built on httpx. One :class:`LLMClient` holds one connection pool; it is safe to share between
threads. What it does for the caller:

- the API key is read from an environment variable the caller names (default
  ``BABELIR_LLM_API_KEY``) and sent as ``Authorization: Bearer …``; without it no header is sent
  (local servers need none);
- a timeout per request (connect, read, write), and bounded retries with exponential backoff
  (``backoff * 2**attempt``, capped at ``max_backoff``; a ``Retry-After`` of a 429/503 is honoured up
  to the cap) on connection errors, timeouts, 429 and 5xx. Any other 4xx (401, 403, 404, 400 …) is
  answered at once with a :class:`BabelirError` naming the status: retrying cannot fix it;
- a reply that is not the expected JSON raises :class:`LLMReplyError` (a BabelirError) in one line
  naming the URL and what was missing, e.g. ``no choices[0].message.content``;
- optional token log-probabilities (``logprobs`` / ``top_logprobs`` of the OpenAI API), returned as
  :class:`TokenLogprob` records.

Errors: :class:`BabelirError` for an endpoint that cannot be reached after the retries, refuses the
request, or times out every time; :class:`LLMReplyError` for a malformed reply.

>>> LLMClient("http://127.0.0.1:8000/v1", "qwen").url
'http://127.0.0.1:8000/v1/chat/completions'
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field

from babelir.errors import BabelirError

DEFAULT_API_KEY_ENV = "BABELIR_LLM_API_KEY"


class LLMReplyError(BabelirError):
    """The endpoint answered, but not with a chat completion this client can read."""


@dataclass
class TokenLogprob:
    """One generated token, its log-probability, and the alternatives the endpoint gave (token -> logprob)."""

    token: str
    logprob: float
    top: dict[str, float] = field(default_factory=dict)


@dataclass
class ChatReply:
    """``text``: the first choice's message content; ``logprobs``: its tokens (when asked for);
    ``finish_reason``; ``raw``: the decoded JSON reply."""

    text: str
    logprobs: list[TokenLogprob] | None
    finish_reason: str | None
    raw: dict


class LLMClient:
    """Chat completions from ``base_url`` (e.g. ``http://localhost:8000/v1``; a URL already ending in
    ``/chat/completions`` is used as it is) with the model ``model``.

    ``timeout``: seconds per request; ``retries``: further attempts after the first (so at most
    ``retries + 1`` requests per call); ``backoff`` / ``max_backoff``: seconds before the first retry
    and the most between two. ``transport``: an httpx transport (tests).
    """

    def __init__(self, base_url: str, model: str, *, api_key_env: str | None = DEFAULT_API_KEY_ENV,
                 timeout: float = 60.0, retries: int = 3, backoff: float = 1.0, max_backoff: float = 30.0,
                 transport=None):
        base = base_url.strip().rstrip("/")
        if not base.startswith(("http://", "https://")):
            raise BabelirError(f"LLM endpoint {base_url!r}: give an http:// or https:// URL "
                               "(e.g. http://localhost:8000/v1)")
        if not model:
            raise BabelirError("an LLM model name is needed (the endpoint's model id)")
        if timeout <= 0 or retries < 0 or backoff < 0 or max_backoff < 0:
            raise BabelirError("LLM client: timeout must be > 0, retries and backoff >= 0")
        self.url = base if base.endswith("/chat/completions") else base + "/chat/completions"
        self.model = model
        self.api_key_env = api_key_env
        self.timeout = float(timeout)
        self.retries = int(retries)
        self.backoff = float(backoff)
        self.max_backoff = float(max_backoff)
        self._transport = transport
        self._http = None

    # -- lifecycle ------------------------------------------------------------------------------
    def _client(self):
        if self._http is None:
            import httpx

            headers = {"Content-Type": "application/json"}
            key = os.environ.get(self.api_key_env) if self.api_key_env else None
            if key:
                headers["Authorization"] = f"Bearer {key}"
            self._http = httpx.Client(timeout=httpx.Timeout(self.timeout), headers=headers,
                                      transport=self._transport)
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def __enter__(self) -> "LLMClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- requests -------------------------------------------------------------------------------
    def chat(self, messages: list[dict] | str, *, max_tokens: int | None = None, temperature: float = 0.0,
             logprobs: bool = False, top_logprobs: int | None = None, extra: dict | None = None) -> ChatReply:
        """One chat completion. ``messages``: OpenAI messages, or a string sent as one user message.
        ``logprobs``: ask for the tokens' log-probabilities (``top_logprobs`` alternatives each).
        ``extra``: more fields for the request body (e.g. ``{"seed": 1}``)."""
        if isinstance(messages, str):
            messages = [{"role": "user", "content": messages}]
        body: dict = {"model": self.model, "messages": messages, "temperature": temperature}
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
        if logprobs:
            body["logprobs"] = True
            if top_logprobs is not None:
                body["top_logprobs"] = top_logprobs
        body.update(extra or {})
        return self._parse(self.post(body), logprobs)

    def post(self, body: dict) -> dict:
        """POST ``body`` with the retries described above; the decoded JSON object of the reply."""
        import httpx

        client = self._client()
        last = ""
        for attempt in range(self.retries + 1):
            wait = None
            try:
                response = client.post(self.url, json=body)
            except httpx.TimeoutException:
                last = f"no reply within {self.timeout:g} s"
            except httpx.TransportError as exc:
                last = f"cannot connect ({type(exc).__name__}: {_short(str(exc)) or 'no detail'})"
            else:
                status = response.status_code
                if status < 300:
                    return self._decode(response)
                detail = _short(response.text)
                if not _retryable(status):
                    raise BabelirError(f"{self.url}: HTTP {status}{_status_hint(status, self.api_key_env)}"
                                       + (f": {detail}" if detail else ""))
                last = f"HTTP {status}" + (f": {detail}" if detail else "")
                wait = _retry_after(response.headers.get("retry-after"))
            if attempt < self.retries:
                delay = self.backoff * 2 ** attempt if wait is None else wait
                time.sleep(min(delay, self.max_backoff))
        tries = self.retries + 1
        raise BabelirError(f"{self.url}: {last} (after {tries} attempt{'s' if tries > 1 else ''})")

    def _decode(self, response) -> dict:
        try:
            data = json.loads(response.content)
        except (ValueError, UnicodeDecodeError):
            raise LLMReplyError(f"{self.url}: the reply is not JSON ({_short(response.text) or 'empty'!r})") from None
        if not isinstance(data, dict):
            raise LLMReplyError(f"{self.url}: the reply is JSON but not an object ({type(data).__name__})")
        return data

    def _parse(self, data: dict, logprobs: bool) -> ChatReply:
        if "error" in data and "choices" not in data:
            raise LLMReplyError(f"{self.url}: the endpoint answered with an error: {_short(json.dumps(data['error']))}")
        choices = data.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            keys = ", ".join(map(str, data)) or "none"
            raise LLMReplyError(f"{self.url}: the reply has no choices[0] (keys: {keys})")
        message = choices[0].get("message")
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, str):
            raise LLMReplyError(f"{self.url}: the reply has no choices[0].message.content string")
        tokens = _logprobs(self.url, choices[0].get("logprobs")) if logprobs else None
        return ChatReply(content, tokens, choices[0].get("finish_reason"), data)


def _logprobs(url: str, block) -> list[TokenLogprob]:
    """``choices[0].logprobs.content`` as TokenLogprob records."""
    items = block.get("content") if isinstance(block, dict) else None
    if not isinstance(items, list):
        raise LLMReplyError(f"{url}: log-probabilities were asked for but the reply has no "
                            "choices[0].logprobs.content list (does the endpoint support logprobs?)")
    out = []
    for i, item in enumerate(items):
        try:
            top = {str(t["token"]): float(t["logprob"]) for t in item.get("top_logprobs") or []}
            out.append(TokenLogprob(str(item["token"]), float(item["logprob"]), top))
        except (KeyError, TypeError, ValueError, AttributeError):
            raise LLMReplyError(f"{url}: choices[0].logprobs.content[{i}] lacks a token or a numeric logprob") from None
    return out


def _retryable(status: int) -> bool:
    """Worth another try: a timeout (408), too early (425), too many requests (429), a server error (5xx)."""
    return status in (408, 425, 429) or status >= 500


def _status_hint(status: int, env: str | None) -> str:
    if status in (401, 403):
        where = f"${env}" if env else "an API key"
        state = "is not set" if env and not os.environ.get(env) else "was refused"
        return f" (the endpoint refused the request: {where} {state})"
    if status == 404:
        return " (wrong URL or model name?)"
    return ""


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _short(text: str, limit: int = 120) -> str:
    """One line, at most ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
