"""A fake OpenAI-compatible chat-completions endpoint on 127.0.0.1, for tests (stdlib http.server in a thread).

It grades a UMBRELA-style prompt (``Query: …`` / ``Passage: …`` lines) by word overlap: the number
of distinct query words of three or more letters found in the passage, at most 3, answered as
``##final score: N``. A passage holding ``NOGRADE`` gets a reply without a grade.

Misbehaviour, per request: ``fake.plan`` is a list of behaviours taken one per request (then
``fake.default``): ``"ok"``, ``"malformed"`` (not JSON), ``"nochoices"`` (JSON without choices),
``"500"``, ``"429"``, ``"401"``, ``"slow"`` (sleeps ``fake.delay`` seconds, then answers).
``fake.requests`` holds the decoded request bodies, ``fake.headers`` their headers.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def grade_for(prompt: str) -> int | None:
    """The fake's grade of a prompt (None: a reply without a grade)."""
    query = re.search(r"^Query: (.*)$", prompt, re.M)
    passage = re.search(r"^Passage: (.*)", prompt, re.M | re.S)
    if not query or not passage:
        return 0
    text = passage.group(1).split("\n\nSplit this problem")[0]
    if "NOGRADE" in text:
        return None
    words = {w for w in re.findall(r"\w+", query.group(1).lower()) if len(w) >= 3}
    return min(3, sum(1 for w in words if w in text.lower()))


class FakeLLM:
    def __init__(self):
        self.plan: list[str] = []
        self.default = "ok"
        self.delay = 2.0
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                with fake._lock:
                    fake.requests.append(body)
                    fake.headers.append(dict(self.headers))
                    how = fake.plan.pop(0) if fake.plan else fake.default
                if how == "slow":
                    time.sleep(fake.delay)
                    how = "ok"
                if how in ("500", "429", "401"):
                    return self._send(int(how), json.dumps({"error": {"message": f"fake {how}"}}).encode())
                if how == "malformed":
                    return self._send(200, b"{not json")
                if how == "nochoices":
                    return self._send(200, json.dumps({"id": "x", "object": "chat.completion"}).encode())
                prompt = body["messages"][-1]["content"]
                grade = grade_for(prompt)
                text = "I cannot tell." if grade is None else f"M: 2, T: 2\n##final score: {grade}"
                reply = {"id": "fake", "object": "chat.completion", "model": body.get("model"),
                         "choices": [{"index": 0, "finish_reason": "stop",
                                      "message": {"role": "assistant", "content": text}}]}
                if body.get("logprobs"):
                    reply["choices"][0]["logprobs"] = {"content": [
                        {"token": text[-1], "logprob": -0.1, "top_logprobs": [{"token": text[-1], "logprob": -0.1},
                                                                              {"token": "0", "logprob": -2.5}]}]}
                self._send(200, json.dumps(reply).encode())

            def _send(self, status, payload):
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def __enter__(self) -> "FakeLLM":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
