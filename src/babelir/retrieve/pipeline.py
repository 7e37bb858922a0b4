"""Pipelines written as text: ``babelir search INDEX --pipeline SPEC``.

The syntax is the one :meth:`babelir.retrieve.stage.Stage.describe` prints::

    bm25
    bm25(k1=0.9,b=0.4) >> group(weight=1.0)
    dense(exact=true,doc_langs=[th,zh])
    hybrid(bm25,dense,sparse,fusion=zscore) >> rerank(ce:models/ce,depth=100)
    hybrid(bm25(k1=1.2),dense(debias=false),fusion=linear,weights=[0.3,0.7])

- stages are joined by ``>>`` (each transforms the previous one's Run);
- a stage is ``name`` or ``name(arguments)``; arguments are positional (a stage, such as hybrid's
  runs, or a value, such as rerank's ``ce:DIR``) or ``key=value``;
- values: ``true`` / ``false``, ``none``, numbers, lists in ``[a,b]``, quoted text (``'…'`` or
  ``"…"``) for a value holding ``, ( ) [ ] =`` or spaces, else the text as written.

Built-in stages: ``bm25``, ``dense``, ``sparse`` (:mod:`babelir.retrieve.stage`), ``hybrid`` (the
fusion of its runs; with none, the index's modes), ``group`` (group evidence) and ``rerank``
(:mod:`babelir.retrieve.rerank`, imported when used). :func:`register_stage` adds one.
:func:`mode_spec` gives the pipeline each ``--mode`` (and its options) stands for.
"""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Callable

from babelir.errors import BabelirError

_FACTORIES: dict[str, Callable] = {}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")
_ATOM = re.compile(r"[^\s,()\[\]=]+")


def register_stage(name: str, factory: Callable) -> None:
    """Make ``name(...)`` in a pipeline spec call ``factory(*positional, **keywords)`` -> a stage.
    ``factory`` also gets ``index=`` (the search's index) when it takes such a parameter.
    Raises BabelirError for a name that is not a word (letters, digits, ``_``, ``-``)."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise BabelirError(f"a stage name is a word (letters, digits, _ and -), not {name!r}")
    _FACTORIES[name] = factory


def stage_names() -> list[str]:
    """The names a pipeline spec knows, sorted."""
    return sorted(_FACTORIES)


# --- the built-in factories: they check their values, so a spec's mistake names its parameter ------


def _number(stage, key, value, low=0.0, high=math.inf):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not low <= value <= high:
        bound = f"between {low:g} and {high:g}" if math.isfinite(high) else f"{low:g} or more"
        raise BabelirError(f"{stage}: {key} must be a number {bound}, not {value!r}")
    return value


def _whole(stage, key, value):
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise BabelirError(f"{stage}: {key} must be a whole number, 1 or more, not {value!r}")
    return value


def _flag(stage, key, value, allow_none=False):
    if not isinstance(value, bool) and not (allow_none and value is None):
        raise BabelirError(f"{stage}: {key} must be true or false, not {value!r}")
    return value


def _langs(stage, value):
    if value is None:
        return None
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, str) for v in values):
        raise BabelirError(f"{stage}: doc_langs must be language codes ([th,zh] or th), not {value!r}")
    return values


def _bm25(k1=None, b=None, doc_langs=None, k=None, *, index=None):
    from babelir.retrieve.stage import BM25

    return BM25(_index(index, "bm25"), k1=_number("bm25", "k1", k1), b=_number("bm25", "b", b, 0.0, 1.0),
                doc_langs=_langs("bm25", doc_langs), k=_whole("bm25", "k", k))


def _dense(debias=None, standardise=True, exact=False, doc_langs=None, k=None, *, index=None):
    from babelir.retrieve.stage import Dense

    return Dense(_index(index, "dense"), debias=_flag("dense", "debias", debias, allow_none=True),
                 standardise=_flag("dense", "standardise", standardise), exact=_flag("dense", "exact", exact),
                 doc_langs=_langs("dense", doc_langs), k=_whole("dense", "k", k))


def _sparse(doc_langs=None, k=None, *, index=None):
    from babelir.retrieve.stage import Sparse

    return Sparse(_index(index, "sparse"), doc_langs=_langs("sparse", doc_langs), k=_whole("sparse", "k", k))


def _hybrid(*stages, fusion="zscore", weights=None, depth=100, language_aware=True, index=None):
    from babelir.retrieve.hybrid import FUSIONS
    from babelir.retrieve.stage import Fuse, Hybrid, is_stage

    if fusion not in FUSIONS:
        raise BabelirError(f"hybrid: unknown fusion {fusion!r}; known: {', '.join(FUSIONS)}")
    if weights is not None:
        weights = weights if isinstance(weights, list) else [weights]
        for w in weights:
            _number("hybrid", "weights", w)
        if fusion == "rrf":
            raise BabelirError("hybrid: weights apply to fusion zscore or linear (rrf fuses ranks, unweighted)")
    for stage in stages:
        if not is_stage(stage):
            raise BabelirError(f"hybrid: fuses stages (bm25, dense, sparse …), not {stage!r}")
    if len(stages) == 1:
        raise BabelirError("hybrid: fuses two or more stages (or none: the index's modes)")
    _whole("hybrid", "depth", depth)
    _flag("hybrid", "language_aware", language_aware)
    if not stages:
        return Hybrid(_index(index, "hybrid"), None, fusion, weights, depth, language_aware)
    return Fuse(list(stages), fusion, weights, depth, language_aware)


def _group(weight=None, *, index=None):
    from babelir.retrieve.stage import GroupEvidence

    return GroupEvidence(_number("group", "weight", weight, 0.0, 1000.0), index=index)


def _rerank(*args, index=None, **options):
    try:
        from babelir.retrieve.rerank import Rerank
    except ImportError as exc:
        raise BabelirError(f"rerank(...) is not available in this babelir ({exc})") from None
    return Rerank(*args, index=index, **options)


def _index(index, stage):
    if index is None:
        raise BabelirError(f"{stage}: needs an index (parse the pipeline with index=)")
    return index


for _name, _factory in (("bm25", _bm25), ("dense", _dense), ("sparse", _sparse), ("hybrid", _hybrid),
                        ("group", _group), ("rerank", _rerank)):
    register_stage(_name, _factory)


# --- the parser -----------------------------------------------------------------------------------


class _Parser:
    def __init__(self, spec: str, index):
        self.spec, self.index, self.pos = spec, index, 0

    def error(self, message: str, pos: int | None = None) -> BabelirError:
        where = self.pos if pos is None else pos
        return BabelirError(f"pipeline {self.spec!r}, character {where + 1}: {message}")

    def skip(self) -> None:
        while self.pos < len(self.spec) and self.spec[self.pos].isspace():
            self.pos += 1

    def peek(self, text: str) -> bool:
        self.skip()
        return self.spec.startswith(text, self.pos)

    def expect(self, text: str) -> None:
        if not self.peek(text):
            found = self.spec[self.pos:self.pos + 10] or "the end"
            raise self.error(f"expected {text!r}, found {found!r}")
        self.pos += len(text)

    def pipeline(self):
        from babelir.retrieve.stage import Then

        stage = self.stage()
        while self.peek(">>"):
            self.pos += 2
            at = self.pos
            following = self.stage()
            try:
                stage = Then(stage, following)
            except BabelirError as exc:
                raise self.error(str(exc), at) from None
        self.skip()
        if self.pos < len(self.spec):
            raise self.error(f"expected '>>' or the end, found {self.spec[self.pos:self.pos + 10]!r}")
        return stage

    def stage(self):
        self.skip()
        start = self.pos
        found = _NAME.match(self.spec, self.pos)
        if not found:
            raise self.error(f"expected a stage name ({', '.join(stage_names())}), "
                             f"found {self.spec[self.pos:self.pos + 10] or 'the end'!r}")
        name = found.group()
        if name not in _FACTORIES:
            raise self.error(f"unknown stage {name!r} (known: {', '.join(stage_names())})", start)
        self.pos = found.end()
        positional, keywords = [], {}
        if self.peek("("):
            self.pos += 1
            if not self.peek(")"):
                while True:
                    self.argument(name, positional, keywords)
                    if not self.peek(","):
                        break
                    self.pos += 1
            self.expect(")")
        return self.call(name, start, positional, keywords)

    def argument(self, stage: str, positional: list, keywords: dict) -> None:
        self.skip()
        start = self.pos
        key = _NAME.match(self.spec, self.pos)
        after = self.spec[key.end():].lstrip()[:1] if key else ""
        if key and after == "=":
            self.pos = key.end()
            self.expect("=")
            if key.group() in keywords:
                raise self.error(f"{stage}: {key.group()} given twice", start)
            keywords[key.group()] = (start, self.value())
            return
        if key and key.group() in _FACTORIES and after in ("(", ",", ")", ""):
            positional.append((start, self.stage()))
            return
        positional.append((start, self.value()))

    def value(self):
        self.skip()
        if self.peek("["):
            self.pos += 1
            items = []
            if not self.peek("]"):
                while True:
                    items.append(self.value())
                    if not self.peek(","):
                        break
                    self.pos += 1
            self.expect("]")
            return items
        if self.spec[self.pos:self.pos + 1] in ("'", '"'):
            quote = self.spec[self.pos]
            end = self.spec.find(quote, self.pos + 1)
            if end < 0:
                raise self.error(f"the quote {quote} is never closed")
            text, self.pos = self.spec[self.pos + 1:end], end + 1
            return text
        found = _ATOM.match(self.spec, self.pos)
        if not found:
            raise self.error(f"expected a value, found {self.spec[self.pos:self.pos + 10] or 'the end'!r}")
        self.pos = found.end()
        return _literal(found.group())

    def call(self, name: str, start: int, positional: list, keywords: dict):
        factory = _FACTORIES[name]
        try:
            signature = inspect.signature(factory)
        except (TypeError, ValueError):
            signature = None
        kwargs = {key: value for key, (_, value) in keywords.items()}
        if signature is not None:
            params = signature.parameters
            open_keywords = any(p.kind is p.VAR_KEYWORD for p in params.values())
            named = [p.name for p in params.values() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
                     and p.name != "index"]
            for key, (at, _) in keywords.items():
                if key not in named and not open_keywords or key == "index":
                    raise self.error(f"{name} has no parameter {key!r} (it takes: {', '.join(named) or 'none'})", at)
            slots = [p for p in params.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                     and p.name != "index"]
            if len(positional) > len(slots) and not any(p.kind is p.VAR_POSITIONAL for p in params.values()):
                raise self.error(f"{name} takes {len(slots)} positional argument{'s' * (len(slots) != 1)}, "
                                 f"not {len(positional)}", positional[len(slots)][0] if positional else start)
            if "index" in params or open_keywords:
                kwargs["index"] = self.index
        try:
            return factory(*[value for _, value in positional], **kwargs)
        except BabelirError as exc:
            raise self.error(str(exc), start) from None
        except (TypeError, ValueError) as exc:
            raise self.error(f"{name}: {exc}", start) from None


def _literal(text: str):
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "none":
        return None
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    if re.fullmatch(r"[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?", text):
        return float(text)
    return text


def parse_pipeline(spec: str, index=None):
    """The stage ``spec`` describes, over ``index`` (a :class:`babelir.index.core.Index`, given to
    every stage that takes one). Raises BabelirError (one line: the spec, the character and what is
    wrong) for an unknown stage or parameter, a bad value or bad syntax."""
    if not isinstance(spec, str) or not spec.strip():
        raise BabelirError("the pipeline is empty (e.g. --pipeline 'hybrid(bm25,dense) >> group')")
    return _Parser(spec, index).pipeline()


def run_tag(stage, fallback: str = "babelir") -> str:
    """The TREC run tag recording ``stage``: ``babelir:`` and its spec without spaces, when the spec
    has no whitespace inside a value; else ``fallback`` (the spec goes beside the run, RUN.pipeline)."""
    compact = stage.describe().replace(" >> ", ">>")
    return f"babelir:{compact}" if compact and not any(c.isspace() for c in compact) else fallback


def mode_spec(index, mode: str = "bm25", hybrid_of=None, fusion: str = "zscore", weights=None,
              k1: float | None = None, b: float | None = None, debias: bool | None = None, standardise: bool = True,
              doc_langs=None, exact: bool = False, group_weight: float | None = None,
              language_aware: bool = True) -> str:
    """The pipeline spec ``babelir search --mode MODE`` and its options stand for over ``index``:
    the mode's retriever (hybrid: the fusion of ``hybrid_of``, by default the index's modes), then
    group evidence when the index's documents have groups (``group_weight`` None: the stage's
    default; 0: no group stage)."""
    from babelir.retrieve.hybrid import default_modes
    from babelir.retrieve.stage import call

    langs = None
    if doc_langs is not None:
        langs = sorted(index.language_filter(doc_langs))

    def one(name):
        if name == "bm25":
            return call("bm25", k1=k1, b=b, doc_langs=langs)
        if name == "dense":
            return call("dense", debias=debias, standardise=None if standardise else False,
                        exact=exact or None, doc_langs=langs)
        if name == "sparse":
            return call("sparse", doc_langs=langs)
        raise BabelirError(f"unknown mode {name!r}; known: bm25, dense, sparse, hybrid")

    if mode == "hybrid":
        modes = tuple(hybrid_of) if hybrid_of else default_modes(index)
        spec = call("hybrid", *[one(m) for m in modes], fusion=fusion, weights=None if weights is None else list(weights),
                    language_aware=None if language_aware else False)
    else:
        spec = one(mode)
    if group_weight is None:
        return spec + " >> group" if index.has_groups else spec
    return spec + f" >> group(weight={group_weight})" if group_weight > 0 else spec


def from_mode(index, mode: str = "bm25", **options):
    """The pipeline of ``babelir search --mode MODE`` with ``options`` (those of :func:`mode_spec`)
    over ``index`` (a :class:`babelir.index.core.Index`, or a directory the pipeline opens and
    closes)."""
    from babelir.retrieve.stage import Fuse, Retriever, Then, open_index

    index, opened = open_index(index)
    try:
        stage = parse_pipeline(mode_spec(index, mode, **options), index)
    except BaseException:
        if opened:
            index.close()
        raise
    if opened:  # the first retriever closes the index it shares with the others
        first = stage.stages()[0] if isinstance(stage, Then) else stage
        first = first.stages[0] if isinstance(first, Fuse) else first
        if isinstance(first, Retriever):
            first._owns = True
    return stage
