"""A fake OpenAI-compatible chat-completions endpoint on 127.0.0.1, for tests (stdlib http.server in a thread).

It grades a UMBRELA-style prompt (``Query: …`` / ``Passage: …`` lines) by word overlap: the number
of distinct query words of three or more letters found in the passage, at most 3, answered as
``##final score: N``. A passage holding ``NOGRADE`` gets a reply without a grade.

Misbehaviour, per request: ``fake.plan`` is a list of behaviours taken one per request (then
``fake.default``): ``"ok"``, ``"malformed"`` (not JSON), ``"nochoices"`` (JSON without choices),
``"500"``, ``"429"``, ``"401"``, ``"slow"`` (sleeps ``fake.delay`` seconds, then answers).
``fake.requests`` holds the decoded request bodies, ``fake.headers`` their headers.

For the rerankers: a yes/no prompt ("Answer Yes or No.") is answered ``Yes`` (grade >= 2) or ``No``,
with log-probabilities giving P(yes) = (grade + 0.5) / 4 between Yes and No; a RankGPT listwise
conversation ("Search Query: …" last) is answered with the passages ``[i]`` ordered by overlap with the
query, most first (ties by number), e.g. ``[2] > [1] > [3]``. ``fake.logprobs = False``: never any
log-probabilities. NoMIRACL's prompt is answered by :func:`nomiracl`. A plan entry ``"text:…"`` answers that text as the content; ``"close"`` drops the
connection without a reply; ``fake.replies`` counts the replies sent.
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
    text = re.split(r"\n\n(?:Split this problem|Does the passage)", passage.group(1))[0]
    if "NOGRADE" in text:
        return None
    return min(3, overlap(query.group(1), text))


def overlap(query: str, text: str) -> int:
    """Distinct query words of three or more letters found in ``text``."""
    words = {w for w in re.findall(r"\w+", query.lower()) if len(w) >= 3}
    return sum(1 for w in words if w in text.lower())


def listwise_reply(messages: list[dict]) -> str:
    """The fake's RankGPT answer: passage numbers by overlap with the query, most first."""
    query = re.search(r"Search Query: (.*?)\. \nRank the", messages[-1]["content"], re.S).group(1)
    passages = [re.match(r"\[(\d+)\] (.*)", m["content"], re.S) for m in messages[:-1] if m["role"] == "user"]
    found = [(int(m.group(1)), overlap(query, m.group(2))) for m in passages if m]
    return " > ".join(f"[{i}]" for i, _ in sorted(found, key=lambda item: (-item[1], item[0])))


def yes_no(prompt: str) -> tuple[str, list[dict]]:
    """The fake's yes/no answer and its top log-probabilities."""
    import math

    grade = grade_for(prompt) or 0
    p = (grade + 0.5) / 4
    text = "Yes" if grade >= 2 else "No"
    return text, [{"token": "Yes", "logprob": math.log(p)}, {"token": "No", "logprob": math.log(1 - p)}]


def nomiracl(prompt: str) -> tuple[str, list[dict]]:
    """The fake's answer to NoMIRACL's prompt ("QUESTION:" / "CONTEXTS:" with passages ``[i] …``):
    "Yes, answer is present" when a passage shares 2 or more query words with the question, else "I
    don't know"; a passage holding ``NOGRADE`` gets "Maybe."; log-probabilities give P(Yes) =
    (best overlap + 0.5) / 4 between "Yes" and "I"."""
    import math

    question = re.search(r"QUESTION:\n(.*?)\n\nCONTEXTS:\n", prompt, re.S).group(1)
    contexts = re.search(r"CONTEXTS:\n(.*)\n\nOUTPUT:", prompt, re.S).group(1)
    passages = re.split(r"(?:^|\n\n)\[\d+\] ", contexts)[1:]
    if any("NOGRADE" in p for p in passages):
        return "Maybe.", []
    best = max((min(3, overlap(question, p)) for p in passages), default=0)
    p = (best + 0.5) / 4
    text = "Yes, answer is present" if best >= 2 else "I don't know"
    return text, [{"token": "Yes", "logprob": math.log(p)}, {"token": "I", "logprob": math.log(1 - p)}]


class FakeLLM:
    def __init__(self):
        self.plan: list[str] = []
        self.default = "ok"
        self.delay = 2.0
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        self.logprobs = True
        self.replies = 0
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
                if how == "close":
                    self.close_connection = True
                    return
                if how == "nochoices":
                    return self._send(200, json.dumps({"id": "x", "object": "chat.completion"}).encode())
                prompt = body["messages"][-1]["content"]
                top = None
                if how.startswith("text:"):
                    text = how[5:]
                elif prompt.startswith("Search Query:"):
                    text = listwise_reply(body["messages"])
                elif "Answer Yes or No." in prompt:
                    text, top = yes_no(prompt)
                elif "If any of the contexts answers the question" in prompt:
                    text, top = nomiracl(prompt)
                    top = top or None
                else:
                    grade = grade_for(prompt)
                    text = "I cannot tell." if grade is None else f"M: 2, T: 2\n##final score: {grade}"
                reply = {"id": "fake", "object": "chat.completion", "model": body.get("model"),
                         "choices": [{"index": 0, "finish_reason": "stop",
                                      "message": {"role": "assistant", "content": text}}]}
                if body.get("logprobs") and fake.logprobs and top is not None:
                    first = next(t for t in top if text.startswith(t["token"]))
                    reply["choices"][0]["logprobs"] = {"content": [dict(first, top_logprobs=top)]}
                elif body.get("logprobs") and fake.logprobs:
                    reply["choices"][0]["logprobs"] = {"content": [
                        {"token": text[-1], "logprob": -0.1, "top_logprobs": [{"token": text[-1], "logprob": -0.1},
                                                                              {"token": "0", "logprob": -2.5}]}]}
                self._send(200, json.dumps(reply).encode())
                with fake._lock:
                    fake.replies += 1

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
