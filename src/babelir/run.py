"""The Run: query id -> ranked (doc id, score), read and written as a TREC run file.

A Run is the one data type that flows from retrieval to evaluation. Ids are strings.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from babelir.errors import BabelirError, InputError
from babelir.io.textfile import open_lines
from babelir.types import id_problem


class Run(Mapping[str, dict[str, float]]):
    """Mapping ``query id -> {doc id: score}``; rankings are by score, descending.

    Ties are broken by doc id (descending, as trec_eval does), so that a run ranks the same
    way here, in a TREC file and inside trec_eval.

    >>> r = Run({"q1": {"d1": 1.0, "d2": 2.0}})
    >>> r.ranking("q1")
    [('d2', 2.0), ('d1', 1.0)]
    """

    def __init__(self, scores: Mapping[str, Mapping[str, float]] | None = None, name: str = "babelir"):
        self._scores: dict[str, dict[str, float]] = {
            str(q): {str(d): float(s) for d, s in docs.items()} for q, docs in (scores or {}).items()
        }
        self.name = name

    def __getitem__(self, query_id: str) -> dict[str, float]:
        return self._scores[query_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._scores)

    def __len__(self) -> int:
        return len(self._scores)

    def ranking(self, query_id: str) -> list[tuple[str, float]]:
        """The ranked list of one query: [(doc id, score)], best first."""
        docs = self._scores.get(query_id, {})
        by_id = sorted(docs.items(), reverse=True)  # doc ids descending: the stable sort by score keeps
        # that order among equal scores
        return sorted(by_id, key=lambda item: -item[1])

    def cutoff(self, k: int) -> "Run":
        """A new Run with the top ``k`` documents of each query."""
        return Run({q: dict(self.ranking(q)[:k]) for q in self._scores}, name=self.name)

    def to_trec(self, path: str | Path, name: str | None = None) -> None:
        """Write a TREC run file (``qid Q0 docid rank score name``), atomically.

        Scores are written so that they read back exactly (the shortest text that round-trips, e.g.
        ``0.30000000000000004``): evaluating the file gives the numbers of evaluating the Run in
        memory, ties and near-ties included. Raises :class:`BabelirError` for an id or name that
        would break a line (:func:`babelir.types.id_problem`) and for a score that is not finite.
        """
        from babelir.io.atomic import atomic_write_text

        tag = name or self.name
        _check(tag, "run name")
        lines = []
        for q in self._scores:
            _check(q, "query id")
            for rank, (d, s) in enumerate(self.ranking(q), start=1):
                _check(d, f"query {q!r}: document id")
                if not math.isfinite(s):
                    raise BabelirError(f"query {q!r}, document {d!r}: the score {s} is not finite")
                lines.append(f"{q} Q0 {d} {rank} {s!r} {tag}\n")
        atomic_write_text(path, "".join(lines))

    @classmethod
    def from_trec(cls, path: str | Path) -> "Run":
        """Read a TREC run file: six whitespace-separated columns per line (``qid Q0 docid rank score
        tag``; the rank is ignored: trec_eval ranks by score, ties by doc id descending).

        Raises an :class:`InputError` naming the file and line (and field) for a wrong column count,
        an invalid id (:func:`babelir.types.id_problem`), a score that is not a finite number, a
        document listed twice for one query (naming both lines: trec_eval refuses such a run), a
        file that cannot be read or a damaged gzip stream, and a file without results.
        """
        scores: dict[str, dict[str, float]] = {}
        name = "run"
        for lineno, line in open_lines(path):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 6:
                raise InputError(str(path), lineno, None, f"expected 6 columns 'qid Q0 docid rank score tag', got {len(parts)}")
            qid, _, did, _, score, name = parts
            for field, value in (("query id", qid), ("doc id", did)):
                problem = id_problem(value)
                if problem is not None:
                    raise InputError(str(path), lineno, field, problem)
            value = _parse_score(path, lineno, score)
            docs = scores.setdefault(qid, {})
            if did in docs:
                first = _first_line(path, qid, did)
                raise InputError(str(path), lineno, "doc id",
                                 f"document {did!r} is listed twice for query {qid!r} (lines {first} and {lineno})")
            docs[did] = value
        if not scores:  # as an empty qrels file: evaluating nothing would score 0 and look like a result
            raise InputError(str(path), None, None, "file is empty: no results")
        return cls(scores, name=name)


_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")


def _parse_score(path: str | Path, lineno: int, text: str) -> float:
    """A run line's score: a finite decimal number, else an InputError."""
    if _NUMBER.fullmatch(text):
        value = float(text)
        if math.isfinite(value):
            return value
        raise InputError(str(path), lineno, "score", f"not finite: {text!r} is beyond the range of a double")
    if text.lower().lstrip("+-") in ("nan", "inf", "infinity"):
        raise InputError(str(path), lineno, "score", f"not finite: {text!r} (a run's scores must be finite numbers)")
    raise InputError(str(path), lineno, "score", f"not a number: {text!r}")


def _first_line(path: str | Path, qid: str, did: str) -> int | None:
    """The number of the first line that lists ``did`` for ``qid`` (read again: only for a message)."""
    for lineno, line in open_lines(path):
        parts = line.split()
        if len(parts) == 6 and parts[0] == qid and parts[2] == did:
            return lineno
    return None


def _check(value: str, what: str) -> None:
    problem = id_problem(value)
    if problem is not None:
        raise BabelirError(f"cannot write a TREC run: {what} {problem}")


class Descending:
    """Sort key that orders strings in descending order (trec_eval's tie-break on doc id)."""

    __slots__ = ("s",)

    def __init__(self, s: str):
        self.s = s

    def __lt__(self, other: "Descending") -> bool:
        return self.s > other.s
