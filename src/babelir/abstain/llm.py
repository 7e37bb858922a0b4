"""An LLM's abstention over a run's top k: NoMIRACL's relevance-assessment prompt, asked of a chat
model behind an OpenAI-compatible endpoint, alone or gated by babelir's calibrated abstention.

**The prompt** is NoMIRACL's "vanilla" prompt (Thakur et al. 2024, "Knowing When You Don't Know: A
Multilingual Relevance Assessment Dataset for Robust Retrieval-Augmented Generation", Findings of
EMNLP, §4 and Figure 3; as written in their repository, github.com/project-miracl/nomiracl,
``nomiracl/prompts/template.py``, ``VanillaTemplate``): the question, then the top-k passages numbered
``[1]`` … ``[k]`` in rank order, each ``title: text`` (their ``sample_vanilla_prompt.py`` joins the
title and the text with ``": "``; a passage without a title is its text), and the model is to answer
``Yes, answer is present`` or ``I don't know``. A passage is cut to :data:`MAX_WORDS` words.

**The reply** is read by :func:`parse_verdict`, after NoMIRACL's ``postprocess`` (lower case, one
line): "yes, answer is present" or "answer is present" → present; "i don't know" or "answer is not
present" → not present; a reply holding both, or neither, is *malformed* (NoMIRACL's "Invalid").

**The probability** ``p`` of "answer present": when the server returns log-probabilities, from the
first generated token's alternatives, p(Yes) / (p(Yes) + p(I)) (NoMIRACL's two answers begin with
"Yes" and "I"); else 1.0 for "answer present" and 0.0 for "I don't know". The decision is ``p >=``
:data:`THRESHOLD` (0.5), so the file is consistent for ``babelir eval-abstain``.

**Gated** (``gate`` = babelir's decisions, ``RUN.abstain.json``): a query babelir marked not
answerable is "I don't know" (p = 0) without asking the LLM; the others are asked.

**Cache**: each reply is stored in SQLite (:class:`ReplyCache`, ``$BABELIR_CACHE_DIR/abstain-llm.sqlite``
by default) as soon as it comes, keyed by (endpoint URL, model, SHA-256 of the prompt: the question and
the passages' texts in order), so a run stopped by an error or Ctrl-C asks only what is missing when it
is started again.
"""

from __future__ import annotations

import hashlib
import math
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from babelir.errors import BabelirError

ANSWER = "Yes, answer is present"
NO_ANSWER = "I don't know"
THRESHOLD = 0.5
MAX_WORDS = 300
MAX_TOKENS = 64

NOMIRACL_PROMPT = (
    "I will give you a question and several contexts containing information about the question."
    f' Read the contexts carefully. If any of the contexts answers the question, respond as either "{ANSWER}"'
    f' or "{NO_ANSWER}".\n\nQUESTION:\n{{query}}\n\nCONTEXTS:\n{{contexts}}\n\nOUTPUT:\n')


def nomiracl_prompt(query: str, passages: list[tuple[str, str]]) -> str:
    """NoMIRACL's vanilla prompt for ``query`` and ``passages`` ((title, text) pairs, in rank order),
    numbered ``[1]`` … ``[n]``, each cut to :data:`MAX_WORDS` words.

    >>> print(nomiracl_prompt("Who?", [("T", "first"), ("", "second")]).split("CONTEXTS:")[1])
    <BLANKLINE>
    [1] T: first
    <BLANKLINE>
    [2] second
    <BLANKLINE>
    OUTPUT:
    <BLANKLINE>
    """
    def passage(title: str, text: str) -> str:
        words = text.split()
        text = text if len(words) <= MAX_WORDS else " ".join(words[:MAX_WORDS])
        return f"{title}: {text}" if title else text

    contexts = "\n\n".join(f"[{i}] {passage(title, text)}" for i, (title, text) in enumerate(passages, start=1))
    return NOMIRACL_PROMPT.format(query=query, contexts=contexts)


def parse_verdict(reply: str) -> bool | None:
    """True for "answer present", False for "I don't know", None for a malformed reply (both, or
    neither; NoMIRACL's "Invalid").

    >>> parse_verdict("Yes, answer is present."), parse_verdict("**I don't know**"), parse_verdict("I DON’T KNOW")
    (True, False, False)
    >>> parse_verdict("Maybe."), parse_verdict("Yes, answer is present. I don't know.")
    (None, None)
    """
    text = " ".join(reply.replace("\u2019", "'").lower().split())
    present = "answer is present" in text
    absent = "i don't know" in text or "i do not know" in text or "answer is not present" in text
    if present == absent:
        return None
    return present


def yes_probability(raw: dict) -> float | None:
    """P("answer present") from the first generated token's alternatives in an OpenAI reply:
    p(Yes) / (p(Yes) + p(I)), summed over the spellings of each (" Yes", "yes" …); with only one of
    the two among the alternatives, p(Yes) or 1 - p(I); None when the reply has no log-probabilities
    or neither token is among them."""
    from babelir.retrieve.rerankers.llm import _first_token_alternatives, _word

    top = {t: lp for t, lp in (_first_token_alternatives(raw) or {}).items()
           if isinstance(lp, (int, float)) and not math.isnan(lp)}  # a NaN log-probability says nothing
    if not top:
        return None
    yes = sum(math.exp(lp) for t, lp in top.items() if _word(t) == "yes")
    idk = sum(math.exp(lp) for t, lp in top.items() if _word(t) == "i")
    if yes and idk:
        return yes / (yes + idk)
    if yes:
        return min(1.0, yes)
    if idk:
        return max(0.0, 1.0 - idk)
    return None


class ReplyCache:
    """The LLM's replies in SQLite: (model id, prompt hash) -> (reply, p); each :meth:`put` is
    committed at once. ``path`` None: ``$BABELIR_CACHE_DIR/abstain-llm.sqlite`` (else
    ``~/.cache/babelir/abstain-llm.sqlite``)."""

    def __init__(self, path: str | Path | None = None):
        if path is None:
            from babelir.encode.cache import cache_dir

            path = cache_dir() / "abstain-llm.sqlite"
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS replies (model TEXT, prompt TEXT, reply TEXT NOT NULL, "
                             "p REAL NOT NULL, PRIMARY KEY (model, prompt))")
        except (OSError, sqlite3.Error) as exc:
            raise BabelirError(f"LLM reply cache {self.path}: cannot open it ({exc}); set BABELIR_CACHE_DIR "
                               "to a writable directory or give --cache FILE") from None

    @staticmethod
    def key(prompt: str) -> str:
        return hashlib.sha256(prompt.encode("utf-8")).hexdigest()

    def get(self, model: str, prompt: str) -> tuple[str, float] | None:
        row = self._db.execute("SELECT reply, p FROM replies WHERE model = ? AND prompt = ?",
                               (model, self.key(prompt))).fetchone()
        return (row[0], row[1]) if row else None

    def put(self, model: str, prompt: str, reply: str, p: float) -> None:
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO replies VALUES (?, ?, ?, ?)", (model, self.key(prompt), reply, p))

    def close(self) -> None:
        self._db.close()


@dataclass(frozen=True)
class LLMDecision:
    """One query's decision: ``p`` in [0, 1] that an answer is present, ``answerable`` = ``p >=
    THRESHOLD``; ``by``: ``llm`` (asked, or from the cache) or ``babelir`` (gated: not asked);
    ``reply``: the LLM's reply ("" when not asked)."""

    lang: str
    p: float
    answerable: bool
    by: str
    reply: str = ""


@dataclass
class LLMReport:
    """What a run did: ``asked`` (requests sent), ``cached`` (replies from the cache), ``gated`` (not
    asked: babelir marked them not answerable), ``skipped`` (malformed replies left out, with
    ``skip_bad``) with up to 5 ``examples``."""

    decisions: dict[str, LLMDecision] = field(default_factory=dict)
    asked: int = 0
    cached: int = 0
    gated: int = 0
    skipped: int = 0
    examples: list[str] = field(default_factory=list)
    skipped_ids: list[str] = field(default_factory=list)

    def summary(self) -> str:
        present = sum(d.answerable for d in self.decisions.values())
        line = (f"{len(self.decisions)} queries: {present} answer present, {len(self.decisions) - present} I don't know; "
                f"LLM calls: {self.asked} made, {self.cached} from the cache")
        if self.gated:
            line += f", {self.gated} saved by babelir's abstention"
        if self.skipped:
            line += f"; {self.skipped} malformed replies skipped (first: {self.examples[0]})"
        return line


def judge_run(client, queries: dict, passages: dict[str, list[tuple[str, str]]], langs: dict[str, str],
              cache: ReplyCache, gate: dict[str, bool] | None = None, skip_bad: bool = False,
              max_tokens: int = MAX_TOKENS, quiet: bool = True) -> LLMReport:
    """Ask ``client`` (:class:`babelir.llm.client.LLMClient`) NoMIRACL's prompt for each query.

    ``queries``: query id -> text, in the order to ask; ``passages``: query id -> its top-k (title,
    text) in rank order; ``langs``: query id -> language; ``gate``: query id -> babelir's mark
    (answerable or not), None for the LLM alone. Returns an :class:`LLMReport` whose ``decisions``
    follow ``queries``' order (less the skipped).

    Raises :class:`BabelirError` naming the query for an endpoint that cannot be used (refused, timed
    out after the client's retries, an HTTP error) and, without ``skip_bad``, for a malformed reply;
    every reply received before it is in ``cache``."""
    from babelir.llm.client import LLMReplyError
    from babelir.progress import progress

    model_id = f"{client.url}|{client.model}|nomiracl-vanilla"
    report = LLMReport()
    stored = 0

    def fail(qid: str, why: str) -> BabelirError:
        kept = stored
        return BabelirError(f"query {qid!r}: {why} ({kept} new repl{'y' if kept == 1 else 'ies'} cached; "
                            "run the same command again to resume)")

    for qid in progress(list(queries), desc="LLM", unit="query", quiet=quiet):
        if gate is not None and not gate[qid]:
            report.gated += 1
            report.decisions[qid] = LLMDecision(langs[qid], 0.0, False, "babelir")
            continue
        prompt = nomiracl_prompt(queries[qid], passages[qid])
        known = cache.get(model_id, prompt)
        if known is not None:
            report.cached += 1
            text, p = known
        else:
            report.asked += 1
            try:
                reply = client.chat(prompt, max_tokens=max_tokens, extra={"logprobs": True, "top_logprobs": 5})
            except LLMReplyError as exc:
                if not skip_bad:
                    raise fail(qid, str(exc)) from None
                report.skipped += 1
                report.skipped_ids.append(qid)
                report.examples.append(f"{qid}: {exc}")
                continue
            except BabelirError as exc:
                raise fail(qid, str(exc)) from None
            text, verdict = reply.text, parse_verdict(reply.text)
            if verdict is None:
                both = parse_verdict(text.lower().replace("answer is present", "")) is False
                why = (f"the reply says both {ANSWER!r} and {NO_ANSWER!r}" if both else
                       f"the reply is neither {ANSWER!r} nor {NO_ANSWER!r}") + f": {_short(text)!r}"
                if not skip_bad:
                    raise fail(qid, why + " (--skip-bad leaves such queries out)")
                report.skipped += 1
                report.skipped_ids.append(qid)
                report.examples.append(f"{qid}: {_short(text)!r}")
                continue
            p = yes_probability(reply.raw)
            p = float(verdict) if p is None or not math.isfinite(p) else p
            cache.put(model_id, prompt, text, p)
            stored += 1
        report.decisions[qid] = LLMDecision(langs[qid], p, p >= THRESHOLD, "llm", text)
    return report


def write_llm_decisions(path: str | Path, report: LLMReport, k: int, url: str, model: str,
                        pipeline: str | None, calibration: str | None, gate_path: str | Path | None) -> Path:
    """Write the decisions as an abstain file (format 1, as ``RUN.abstain.json``; read by
    :func:`babelir.evaluate.abstention.read_abstain_file`), atomically; returns its path. Each query:
    ``lang``, ``model`` (the LLM's name, or ``babelir`` when gated), ``p``, ``answerable``,
    ``threshold`` (0.5), ``reply``. ``pipeline`` and ``calibration``: those of the run's
    ``RUN.abstain.json`` when known; ``gate_path``: babelir's decisions that gated the LLM (None: the LLM alone)."""
    import json

    from babelir.abstain.decide import FORMAT
    from babelir.io.atomic import atomic_write_text

    data = {"format": FORMAT, "k": k, "pipeline": pipeline, "calibration": calibration, "max_hallucination": None,
            "llm": {"url": url, "model": model, "prompt": "nomiracl-vanilla"},
            "gate": None if gate_path is None else str(gate_path),
            "skipped": report.skipped_ids,  # malformed replies left out (--skip-bad): eval-abstain notes them
            "queries": {qid: {"lang": d.lang, "model": model if d.by == "llm" else "babelir", "p": round(d.p, 6),
                              "answerable": bool(d.answerable), "threshold": THRESHOLD, "reply": d.reply}
                        for qid, d in report.decisions.items()}}
    atomic_write_text(path, json.dumps(data, ensure_ascii=False, indent=1) + "\n")
    return Path(path)


def _short(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"
