"""The rerank stage: re-score each query's top ``depth`` documents of the incoming Run with a model.

``Rerank("ce:DIR", depth=100)`` (a cross-encoder from a local directory) or
``Rerank("llm:http://127.0.0.1:8000/v1", model="qwen", strategy="listwise")`` (an LLM behind an
OpenAI-compatible chat endpoint); the rerankers themselves live in :mod:`babelir.retrieve.rerankers`.

What the stage does, per query:

1. takes the top ``depth`` documents of the incoming Run (its ranking: score descending, ties by doc
   id descending) and their texts from the index (``title`` and ``text``, one line each);
2. asks the reranker for a score per document, ``batch_size`` pairs per model call; scores already in
   the cache are not asked again, and each score is stored as soon as it is known, so a run stopped by
   an error (a timeout, a malformed reply) resumes where it stopped;
3. returns a Run in which the reranked documents come first, by reranker score (equal scores keep
   their incoming order), and the documents below ``depth`` follow in their incoming order.

**Score scale.** A reranked document's score is the reranker's own: a cross-encoder's sigmoid
(one-label model) or probability of its last label; an LLM's P(yes) (pointwise with log-probabilities),
its 0–3 grade (pointwise without), or ``depth - position + 1`` for the listwise order (top = ``n``).
Where two reranked documents have equal scores, the later one's score is lowered by the smallest
float step (:func:`numpy.nextafter`), so that the Run ranks them in the incoming order. The documents
below ``depth`` get ``lowest reranked score - 1 - i`` (``i`` = 0, 1, … in their incoming order): every
reranked score is strictly above every other.

**Cache.** Scores are kept in SQLite at ``$BABELIR_CACHE_DIR/rerank.sqlite`` (else
``~/.cache/babelir/rerank.sqlite``), keyed by (model id, query text, doc id, SHA-256 of the document's
text); listwise windows by (model id, query text, the window's doc ids and text hashes). ``cache=False``
turns it off.

**Latency.** :meth:`Rerank.latency` gives the count, mean, median and 95th percentile of the seconds
spent per query (texts, cache and model); :func:`latency_line` puts them on one line for the CLI.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from babelir.errors import BabelirError
from babelir.retrieve.stage import Stage, call
from babelir.run import Run

DEFAULTS = {"depth": 100, "batch_size": 32}


class Rerank(Stage):
    """A stage that reranks the incoming Run's top ``depth`` documents per query.

    ``spec``: ``"ce:DIR"`` or ``"llm:URL"``; ``depth``: documents reranked per query (> 0);
    ``batch_size``: (query, document) pairs per model call (cross-encoder) — an LLM is asked one
    pair (pointwise) or one window (listwise) per request; ``index``: an
    :class:`babelir.index.core.Index` or its directory, where the texts come from (None: the previous
    stage's index, set by composition); ``cache``: keep scores in the rerank cache; ``quiet``: no
    progress bar. Further ``options`` go to the reranker: ``max_length``, ``backend`` (``auto``,
    ``st``, ``hf``), ``device`` for ``ce:``; ``model``, ``strategy`` (``pointwise`` | ``listwise``),
    ``window`` (20), ``step`` (10), ``scoring`` (``auto`` | ``logprobs`` | ``grade``), ``timeout``,
    ``retries``, ``api_key_env`` for ``llm:`` (see :mod:`babelir.retrieve.rerankers`).

    Errors: :class:`BabelirError` for an unknown spec or option, a missing Run or index, a document of
    the Run missing from the index, and whatever the reranker cannot do (a model directory that does
    not load; an endpoint that times out, refuses the connection or answers malformed replies).
    """

    def __init__(self, spec: str, depth: int = 100, batch_size: int = 32, index=None, *, cache: bool = True,
                 quiet: bool | None = None, **options):
        from babelir.retrieve.rerankers import make_reranker

        if not isinstance(depth, int) or isinstance(depth, bool) or depth < 1:
            raise BabelirError(f"rerank: depth must be a whole number >= 1, not {depth!r}")
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise BabelirError(f"rerank: batch_size must be a whole number >= 1, not {batch_size!r}")
        self.spec, self.depth, self.batch_size, self.options = spec, depth, batch_size, dict(options)
        self.index, self._owns_index = _open_index(index)
        self.quiet = quiet
        self.reranker = make_reranker(spec, **options)
        self.cache = ScoreCache() if cache else NullCache()
        self.seconds: list[float] = []
        self.cached = self.computed = 0

    # -- the stage contract ---------------------------------------------------------------------
    def transform(self, queries, run: Run | None = None) -> Run:
        """Rerank ``run`` for ``queries`` (a list of :class:`babelir.types.Query`); a new Run holding
        those queries (a query absent from ``run`` has no documents). Errors: see the class."""
        from babelir.progress import progress
        from babelir.retrieve.stage import quiet

        if run is None:
            raise BabelirError(f"{self.describe()} needs a first stage's Run to rerank (e.g. bm25 >> rerank(…))")
        if self.index is None:
            raise BabelirError(f"{self.describe()} needs an index for the documents' texts (give index=, or "
                               "compose it after a stage that has one)")
        out: dict[str, dict[str, float]] = {}
        with progress(total=len(queries), desc="rerank", unit="query",
                      quiet=quiet() if self.quiet is None else self.quiet) as bar:
            for query in queries:
                started = time.perf_counter()
                ranking = run.ranking(query.id) if query.id in run else []
                head, tail = [d for d, _ in ranking[:self.depth]], [d for d, _ in ranking[self.depth:]]
                scores = self._score(query, head) if head else []
                out[query.id] = combine(head, scores, tail)
                self.seconds.append(time.perf_counter() - started)
                bar.update(1)
        return Run(out, name=getattr(run, "name", "babelir"))

    def describe(self) -> str:
        """The stage in the pipeline syntax, e.g. ``rerank(ce:models/ce,depth=100)``."""
        batch = None if self.batch_size == DEFAULTS["batch_size"] else self.batch_size
        return call("rerank", self.spec, depth=self.depth, batch_size=batch, **dict(sorted(self.options.items())))

    def input_depth(self, k: int) -> int:
        """The previous stage is asked for ``max(k, depth)`` documents per query."""
        return max(k, self.depth)

    def close(self) -> None:
        self.reranker.close()
        self.cache.close()
        if self._owns_index:
            self.index.close()

    # -- latency --------------------------------------------------------------------------------
    def latency(self) -> dict:
        """Per-query reranking time in seconds over every query transformed so far: ``{"count",
        "mean", "p50", "p95"}`` (numpy percentiles, linear interpolation; None when count is 0)."""
        import numpy as np

        if not self.seconds:
            return {"count": 0, "mean": None, "p50": None, "p95": None}
        values = np.asarray(self.seconds, dtype=float)
        return {"count": int(values.size), "mean": float(values.mean()), "p50": float(np.percentile(values, 50)),
                "p95": float(np.percentile(values, 95))}

    # -- inside ---------------------------------------------------------------------------------
    def _score(self, query, ids: list[str]) -> list[float]:
        found = self.index.documents(ids)
        missing = [d for d in ids if d not in found]
        if missing:
            raise BabelirError(f"{self.describe()}: query {query.id!r}: document {missing[0]!r} of the Run is not "
                               f"in the index {self.index.directory}" + (f" (and {len(missing) - 1} more)"
                                                                         if len(missing) > 1 else ""))
        docs = []
        for d in ids:
            _lang, title, text = found[d]
            docs.append((d, "\n".join(part for part in (title, text) if part)))
        scores, cached = self.reranker.rerank(query.text, docs, self.cache, self.batch_size)
        self.cached += cached
        self.computed += len(docs) - cached
        return scores


def combine(head: list[str], scores: list[float], tail: list[str]) -> dict[str, float]:
    """The reranked list as ``{doc id: score}``: ``head`` by ``scores`` descending (ties keep head's
    order, the later one lowered by one float step), then ``tail`` in its order below them.

    >>> combine(["a", "b", "c"], [0.5, 0.9, 0.5], ["d"])
    {'b': 0.9, 'a': 0.5, 'c': 0.49999999999999994, 'd': -0.5000000000000001}
    """
    import numpy as np

    order = sorted(range(len(head)), key=lambda i: -scores[i])
    out: dict[str, float] = {}
    previous = None
    for i in order:
        value = float(scores[i])
        if previous is not None and value >= previous:
            value = float(np.nextafter(previous, -np.inf))
        out[head[i]] = previous = value
    lowest = previous if previous is not None else 0.0
    for i, d in enumerate(tail):
        out[d] = lowest - 1.0 - i
    return out


def latency_line(stage) -> str:
    """One line on the reranking time of ``stage`` (a :class:`Rerank`, or a composed stage holding
    one or more), for the CLI's stderr, e.g. ``rerank(ce:m,depth=100): 20 queries, mean 41.2 ms, p50
    40.8 ms, p95 47.9 ms per query (2000 scores: 0 from the cache)``; "" when there is no Rerank."""
    lines = []
    for rerank in _reranks(stage, set()):
        stats = rerank.latency()
        if not stats["count"]:
            lines.append(f"{rerank.describe()}: no query reranked")
            continue
        ms = {k: stats[k] * 1000 for k in ("mean", "p50", "p95")}
        lines.append(f"{rerank.describe()}: {stats['count']} quer{'y' if stats['count'] == 1 else 'ies'}, "
                     f"mean {ms['mean']:.1f} ms, p50 {ms['p50']:.1f} ms, p95 {ms['p95']:.1f} ms per query "
                     f"({rerank.cached + rerank.computed} scores: {rerank.cached} from the cache)")
    return "; ".join(lines)


def _reranks(stage, seen: set):
    """The Rerank stages in ``stage`` (itself, or inside a composition's attributes), in order."""
    if id(stage) in seen:
        return
    seen.add(id(stage))
    if isinstance(stage, Rerank):
        yield stage
        return
    children = []
    for value in getattr(stage, "__dict__", {}).values():
        if isinstance(value, (list, tuple)):
            children.extend(value)
        else:
            children.append(value)
    for child in children:
        if hasattr(child, "transform"):
            yield from _reranks(child, seen)


def _open_index(index):
    """(index, opened here) for None, an Index, or an index directory."""
    if index is None:
        return None, False
    from babelir.retrieve.stage import open_index

    return open_index(index)


def cache_path() -> Path:
    """``$BABELIR_CACHE_DIR/rerank.sqlite``, else ``~/.cache/babelir/rerank.sqlite`` (the directory of
    :func:`babelir.encode.cache.cache_dir`)."""
    from babelir.encode.cache import cache_dir

    return cache_dir() / "rerank.sqlite"


class ScoreCache:
    """Reranker scores in SQLite (see the module). Each :meth:`put` is committed at once: nothing
    computed is lost when a later request fails."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else cache_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS scores (model TEXT, query TEXT, doc TEXT, hash TEXT, "
                             "score REAL NOT NULL, PRIMARY KEY (model, query, doc, hash))")
            self._db.execute("CREATE TABLE IF NOT EXISTS windows (model TEXT, query TEXT, docs TEXT, "
                             "permutation TEXT NOT NULL, PRIMARY KEY (model, query, docs))")
            self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        except (OSError, sqlite3.Error) as exc:
            raise BabelirError(f"rerank cache {self.path}: cannot open it ({exc}); set BABELIR_CACHE_DIR "
                               "to a writable directory or pass cache=False") from None

    def get(self, model: str, query: str, docs: list[tuple[str, str]]) -> dict[tuple[str, str], float]:
        """Cached scores of ``docs`` ((doc id, text hash) pairs) for (model, query)."""
        found: dict[tuple[str, str], float] = {}
        for start in range(0, len(docs), 400):
            chunk = docs[start:start + 400]
            where = " OR ".join(["(doc = ? AND hash = ?)"] * len(chunk))
            rows = self._db.execute(f"SELECT doc, hash, score FROM scores WHERE model = ? AND query = ? AND ({where})",
                                    [model, query, *[v for pair in chunk for v in pair]])
            found.update(((d, h), s) for d, h, s in rows)
        return found

    def put(self, model: str, query: str, scores: list[tuple[str, str, float]]) -> None:
        """Store (doc id, text hash, score) triples, committed."""
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO scores VALUES (?, ?, ?, ?, ?)",
                                 [(model, query, d, h, float(s)) for d, h, s in scores])

    def get_window(self, model: str, query: str, docs: list[tuple[str, str]]) -> list[int] | None:
        row = self._db.execute("SELECT permutation FROM windows WHERE model = ? AND query = ? AND docs = ?",
                               (model, query, json.dumps(docs))).fetchone()
        return json.loads(row[0]) if row else None

    def put_window(self, model: str, query: str, docs: list[tuple[str, str]], permutation: list[int]) -> None:
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO windows VALUES (?, ?, ?, ?)",
                             (model, query, json.dumps(docs), json.dumps(permutation)))

    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def put_meta(self, key: str, value: str) -> None:
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def close(self) -> None:
        self._db.close()


class NullCache:
    """No cache (``cache=False``): nothing found, nothing kept."""

    def get(self, model, query, docs):
        return {}

    def get_window(self, model, query, docs):
        return None

    def get_meta(self, key):
        return None

    def put(self, *args) -> None:
        pass

    put_window = put_meta = put

    def close(self) -> None:
        pass
