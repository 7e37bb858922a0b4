"""``llm:URL``: an LLM behind an OpenAI-compatible chat endpoint reranks, pointwise or listwise.

Any server that speaks ``POST {URL}/chat/completions`` works: llama.cpp's ``llama-server``, vLLM,
Ollama, TGI, OpenAI. Requests go through :class:`babelir.llm.client.LLMClient` (timeout per request,
bounded retries with backoff on connection errors, timeouts, 429 and 5xx).

**pointwise** — one request per (query, passage):

- ``scoring="logprobs"``: "Does the passage answer the query? Answer Yes or No." with one token and its
  log-probabilities; score = P(yes) = p(Yes) / (p(Yes) + p(No)) over the first token's alternatives
  (Nogueira et al. 2020's monoT5 scoring, asked of a chat model);
- ``scoring="grade"``: the UMBRELA prompt (Upadhyay et al. 2024, arXiv:2406.06519; the 0–3 scale of
  Thomas et al. 2024), score = the grade 0–3;
- ``scoring="auto"`` (default): log-probabilities where the server returns them, else the grade. The
  choice is made on the first request to a (URL, model) and remembered in the cache.

**listwise** — RankGPT (Sun et al. 2023, "Is ChatGPT Good at Search? Investigating Large Language
Models as Re-Ranking Agents", EMNLP): a window of ``window`` passages (numbered [1]…[n]) slides from
the bottom of the depth to the top by ``step``; each window is answered with a permutation such as
``[3] > [1] > [2]``, read robustly (unknown and repeated ids dropped, missing ids appended in their
order; bare numbers when there are no brackets). The last window is the top ``window`` passages. Score =
``n - position`` + 1 (top = n). Passages are cut to ``max_words`` words (300, as RankGPT).

Errors (one line, :class:`BabelirError`): a timeout or a refused connection after the retries, an HTTP
error, a malformed reply (not JSON, no choices), a pointwise reply without a grade / yes / no, a
listwise reply with no passage id. Every score (pointwise) and window (listwise) is stored in the cache
as soon as it is answered: a rerun after an error asks only what is missing.
"""

from __future__ import annotations

import math
import re

from babelir.errors import BabelirError
from babelir.retrieve.rerankers.common import as_float, as_int, pointwise, text_hash

YESNO_PROMPT = """\
Query: {query}
Passage: {passage}

Does the passage answer the query? Answer Yes or No."""

RANKGPT_SYSTEM = ("You are RankGPT, an intelligent assistant that can rank passages based on their relevancy "
                  "to the query.")
RANKGPT_FIRST = ("I will provide you with {n} passages, each indicated by number identifier []. \n"
                 "Rank the passages based on their relevance to query: {query}.")
RANKGPT_LAST = ("Search Query: {query}. \nRank the {n} passages above based on their relevance to the search "
                "query. The passages should be listed in descending order using identifiers. The most relevant "
                "passages should be listed first. The output format should be [] > [], e.g., [1] > [2]. Only "
                "response the ranking results, do not say any word or explain.")


class LLMReranker:
    """Reranks with the chat model ``model`` at ``url`` (see the module for the strategies).

    ``strategy``: ``pointwise`` | ``listwise``; ``window`` (>= 2) and ``step`` (1..window, default
    ``window // 2``): the listwise sliding window; ``scoring``: ``auto`` | ``logprobs`` | ``grade`` (pointwise);
    ``timeout``: seconds per request; ``retries``: further attempts; ``api_key_env``: the environment
    variable holding the key (none sent when unset); ``max_words``: words of a passage shown."""

    OPTIONS = ("model", "strategy", "window", "step", "scoring", "timeout", "retries", "api_key_env",
               "max_words", "backoff")

    def __init__(self, url: str, model: str = "default", strategy: str = "pointwise", window=20, step=None,
                 scoring: str = "auto", timeout=60.0, retries=3, api_key_env: str | None = None,
                 max_words=300, backoff=1.0):
        from babelir.llm.client import DEFAULT_API_KEY_ENV, LLMClient

        if strategy not in ("pointwise", "listwise"):
            raise BabelirError(f"llm:{url}: strategy must be pointwise or listwise, not {strategy!r}")
        if scoring not in ("auto", "logprobs", "grade"):
            raise BabelirError(f"llm:{url}: scoring must be auto, logprobs or grade, not {scoring!r}")
        self.strategy, self.scoring = strategy, scoring
        self.window = as_int("window", window, 2)
        self.step = as_int("step", step, 1) if step is not None else max(1, self.window // 2)
        if self.step > self.window:
            raise BabelirError(f"llm:{url}: step ({self.step}) must not exceed window ({self.window})")
        self.max_words = as_int("max_words", max_words, 1)
        self.client = LLMClient(url, str(model), api_key_env=api_key_env or DEFAULT_API_KEY_ENV,
                                timeout=as_float("timeout", timeout, 0), retries=as_int("retries", retries, 0),
                                backoff=as_float("backoff", backoff, -1e-12))
        self.base_id = f"llm:{self.client.url}|{model}"
        self.model_id = f"{self.base_id}|{strategy}" + (f"|{scoring}" if strategy == "pointwise" else "")
        self.requests = 0
        self.mode: str | None = None

    # -- pointwise ------------------------------------------------------------------------------
    def rerank(self, query: str, docs: list[tuple[str, str]], cache, batch_size: int):
        """(scores in ``docs`` order, how many came from ``cache``)."""
        if self.strategy == "listwise":
            return self._listwise(query, docs, cache)
        mode, probed = self.scoring, 0
        if mode == "auto":
            mode = self.mode or cache.get_meta(self.base_id + "|scoring")
        if mode in ("auto", None):  # the first request decides, and its answer is kept
            (doc, text), key = docs[0], self.base_id + "|pointwise|logprobs"
            known = cache.get(key, query, [(doc, text_hash(text))])
            p_yes = next(iter(known.values())) if known else self._yes_probability(query, text, doc, strict=False)
            mode = "logprobs" if p_yes is not None else "grade"
            cache.put_meta(self.base_id + "|scoring", mode)
            if p_yes is not None:
                cache.put(key, query, [(doc, text_hash(text), p_yes)])
                probed = 0 if known else 1
        self.mode = mode
        ask = self._yes_probability if mode == "logprobs" else self._grade
        scores, cached = pointwise(f"{self.base_id}|pointwise|{mode}", query, docs, cache,
                                   lambda items: [ask(query, text, doc) for doc, text in items], 1)
        return scores, cached - probed

    def _ask(self, messages, **kwargs):
        self.requests += 1
        return self.client.chat(messages, **kwargs)

    def _grade(self, query: str, passage: str, doc_id: str) -> float:
        from babelir.judge.prejudge import UMBRELA_PROMPT, parse_grade
        from babelir.llm.client import LLMReplyError

        reply = self._ask(UMBRELA_PROMPT.format(query=query, passage=self._cut(passage)), max_tokens=100)
        grade = parse_grade(reply.text)
        if grade is None:
            raise LLMReplyError(f"{self.client.url}: no 0-3 grade in the reply for document {doc_id!r}: "
                                f"{_short(reply.text)!r}")
        return float(grade)

    def _yes_probability(self, query: str, passage: str, doc_id: str, strict: bool = True) -> float | None:
        """P(yes) from the first token's log-probabilities; None (strict=False) when the reply has none."""
        from babelir.llm.client import LLMReplyError

        reply = self._ask(YESNO_PROMPT.format(query=query, passage=self._cut(passage)), max_tokens=1,
                          extra={"logprobs": True, "top_logprobs": 5})
        top = _first_token_alternatives(reply.raw)
        if top is None:
            if strict:
                raise LLMReplyError(f"{self.client.url}: the reply has no log-probabilities (scoring=logprobs); "
                                    "use scoring=grade or auto")
            return None
        yes = [lp for t, lp in top.items() if _word(t) == "yes"]
        no = [lp for t, lp in top.items() if _word(t) == "no"]
        if yes and no:
            p, q = sum(map(math.exp, yes)), sum(map(math.exp, no))
            return p / (p + q)
        if yes:
            return min(1.0, sum(map(math.exp, yes)))
        if no:
            return max(0.0, 1.0 - sum(map(math.exp, no)))
        raise LLMReplyError(f"{self.client.url}: neither yes nor no among the first token's alternatives for "
                            f"document {doc_id!r}: {_short(reply.text)!r}")

    # -- listwise -------------------------------------------------------------------------------
    def _listwise(self, query: str, docs: list[tuple[str, str]], cache):
        keys = [(d, text_hash(t)) for d, t in docs]
        order = list(range(len(docs)))
        asked = False
        end = len(order)
        while end > 0:
            start = max(0, end - self.window)
            end = min(len(order), start + self.window)  # the top window is a full one
            idx = order[start:end]
            if len(idx) > 1:
                window_keys = [list(keys[i]) for i in idx]
                permutation = cache.get_window(self.model_id, query, window_keys)
                if permutation is None or sorted(permutation) != list(range(len(idx))):
                    permutation = self._permutation(query, [docs[i][1] for i in idx])
                    cache.put_window(self.model_id, query, window_keys, permutation)
                    asked = True
                order[start:end] = [idx[j] for j in permutation]
            if start == 0:
                break
            end -= self.step
        n = len(order)
        scores = [0.0] * n
        for position, i in enumerate(order):
            scores[i] = float(n - position)
        return scores, 0 if asked else n

    def _permutation(self, query: str, passages: list[str]) -> list[int]:
        from babelir.llm.client import LLMReplyError

        n = len(passages)
        messages = [{"role": "system", "content": RANKGPT_SYSTEM},
                    {"role": "user", "content": RANKGPT_FIRST.format(n=n, query=query)},
                    {"role": "assistant", "content": "Okay, please provide the passages."}]
        for i, passage in enumerate(passages, start=1):
            messages += [{"role": "user", "content": f"[{i}] {self._cut(passage)}"},
                         {"role": "assistant", "content": f"Received passage [{i}]."}]
        messages.append({"role": "user", "content": RANKGPT_LAST.format(n=n, query=query)})
        reply = self._ask(messages, max_tokens=max(16, 6 * n))
        permutation = parse_permutation(reply.text, n)
        if permutation is None:
            raise LLMReplyError(f"{self.client.url}: no passage id [1]..[{n}] in the listwise reply "
                                f"{_short(reply.text)!r}")
        return permutation

    def _cut(self, text: str) -> str:
        words = text.split()
        return text if len(words) <= self.max_words else " ".join(words[:self.max_words])

    def close(self) -> None:
        self.client.close()


def parse_permutation(reply: str, n: int) -> list[int] | None:
    """The 0-based order of ``n`` passages in a RankGPT reply: ids in brackets (else bare numbers) in
    the order given, unknown and repeated ids dropped, the missing appended in their order; None when
    the reply names no id in 1..n.

    >>> parse_permutation("[3] > [1] > [3] > [9]", 4)
    [2, 0, 1, 3]
    >>> parse_permutation("2 > 1", 3), parse_permutation("I cannot rank these.", 3)
    ([1, 0, 2], None)
    """
    found = re.findall(r"\[(\d+)\]", reply) or re.findall(r"\b(\d+)\b", reply)
    order: list[int] = []
    for token in found:
        i = int(token) - 1
        if 0 <= i < n and i not in order:
            order.append(i)
    if not order:
        return None
    return order + [i for i in range(n) if i not in order]


def _first_token_alternatives(raw: dict) -> dict[str, float] | None:
    """The first generated token's alternatives (token -> logprob, itself included) in an OpenAI reply,
    None when the reply carries no log-probabilities."""
    try:
        first = raw["choices"][0]["logprobs"]["content"][0]
        top = {str(t["token"]): float(t["logprob"]) for t in first.get("top_logprobs") or []}
        top.setdefault(str(first["token"]), float(first["logprob"]))
        return top
    except (KeyError, IndexError, TypeError, ValueError, AttributeError):
        return None


def _word(token: str) -> str:
    return token.strip().strip(".,!:;\"'").lower()


def _short(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"
