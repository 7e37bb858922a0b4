"""The Run: query id -> ranked (doc id, score), read and written as a TREC run file.

A Run is the one data type that flows from retrieval to evaluation. Ids are strings.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from babelir.errors import InputError
from babelir.io.textfile import open_lines


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
        return sorted(docs.items(), key=lambda item: (-item[1], Descending(item[0])))

    def cutoff(self, k: int) -> "Run":
        """A new Run with the top ``k`` documents of each query."""
        return Run({q: dict(self.ranking(q)[:k]) for q in self._scores}, name=self.name)

    def to_trec(self, path: str | Path, name: str | None = None) -> None:
        """Write a TREC run file (``qid Q0 docid rank score name``), atomically."""
        from babelir.io.atomic import atomic_write_text

        tag = name or self.name
        lines = []
        for q in self._scores:
            for rank, (d, s) in enumerate(self.ranking(q), start=1):
                lines.append(f"{q} Q0 {d} {rank} {s:.6f} {tag}\n")
        atomic_write_text(path, "".join(lines))

    @classmethod
    def from_trec(cls, path: str | Path) -> "Run":
        """Read a TREC run file: six whitespace-separated columns per line."""
        scores: dict[str, dict[str, float]] = {}
        name = "run"
        for lineno, line in open_lines(path):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 6:
                raise InputError(str(path), lineno, None, f"expected 6 columns 'qid Q0 docid rank score tag', got {len(parts)}")
            qid, _, did, _, score, name = parts
            try:
                value = float(score)
            except ValueError:
                raise InputError(str(path), lineno, "score", f"not a number: {score!r}") from None
            scores.setdefault(qid, {})[did] = value
        return cls(scores, name=name)


class Descending:
    """Sort key that orders strings in descending order (trec_eval's tie-break on doc id)."""

    __slots__ = ("s",)

    def __init__(self, s: str):
        self.s = s

    def __lt__(self, other: "Descending") -> bool:
        return self.s > other.s
