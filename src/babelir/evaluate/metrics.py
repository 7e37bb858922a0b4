"""Evaluate a Run against qrels with ir_measures, overall and per language.

Every query in the qrels counts: a query the run does not answer scores 0 (trec_eval ``-c``).
Per-query values come from ir_measures (pytrec_eval underneath); babelir only averages them.

Incomplete judgments (qrels pooled from other systems) are measured and worked around with
ir_measures too: ``Judged@k`` says how much of each top k the qrels judge; ``Bpref`` (Buckley &
Voorhees 2004) and the condensed lists of Sakai (2007, "Alternatives to Bpref": the run with its
unjudged documents removed, what trec_eval ``-J`` / ``judged_only=True`` does) are robust to the rest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from babelir.errors import BabelirError
from babelir.run import Run
from babelir.types import Qrel, Query

DEFAULT_MEASURES = ("nDCG@10", "R@100", "RR@10", "AP")
CONDENSED = " (condensed)"  # the suffix naming a measure taken on the condensed run
_INT_MAX = 2**31 - 1  # the largest cutoff or relevance level pytrec_eval handles (a C int)


@dataclass
class Evaluation:
    """Results: ``all`` (measure -> mean), ``by_lang`` (lang -> measure -> mean), ``per_query``
    (measure -> query id -> value), ``counts`` (lang -> number of queries)."""

    measures: list[str]
    all: dict[str, float]
    by_lang: dict[str, dict[str, float]]
    per_query: dict[str, dict[str, float]]
    counts: dict[str, int]
    judged: "Judged | None" = None

    @property
    def query_count(self) -> int:
        """Number of evaluated queries (every query in the qrels)."""
        return len(next(iter(self.per_query.values()), {}))

    def to_json(self) -> dict:
        out = {"all": self.all, "queries": self.query_count}
        if self.by_lang:
            out["by_lang"] = self.by_lang
        if self.judged is not None:
            out["judged"] = self.judged.to_json()
        return out


@dataclass
class Judged:
    """How much of the run the qrels judge: ir_measures' ``Judged@depth``, the share of each query's
    top ``depth`` documents (of those retrieved, when fewer) that the qrels judge, averaged over
    every query in the qrels (0 for a query the run does not answer); ``all`` and ``by_lang``."""

    depth: int
    all: float
    by_lang: dict[str, float]

    @property
    def measure(self) -> str:
        return f"Judged@{self.depth}"

    def to_json(self) -> dict:
        out = {"measure": self.measure, "all": self.all}
        if self.by_lang:
            out["by_lang"] = self.by_lang
        return out


def _non_decimal_number(name: str, tree) -> str | None:
    """The first number written other than in plain decimal (``0x10``, ``1_0``, ``1j``), else None."""
    import ast
    import re

    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and type(node.value) in (int, float, complex):
            text = ast.get_source_segment(name, node) or ""
            if not re.fullmatch(r"(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", text):
                return text
    return None


def _literal(node):
    """A parameter value: a number (signed), a string, True/False/None or a dict of them."""
    import ast

    if isinstance(node, ast.Constant):
        return node.value
    if (isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd))
            and isinstance(node.operand, ast.Constant) and type(node.operand.value) in (int, float)):
        return -node.operand.value if isinstance(node.op, ast.USub) else node.operand.value
    if isinstance(node, ast.Dict) and None not in node.keys:
        return dict(zip(map(_literal, node.keys), map(_literal, node.values)))
    raise ValueError("values must be numbers, strings, True/False or {grade: gain} dicts")


def _parse_one(tree):
    """ir_measures' ``parse_measure`` of a parsed expression, but reading signed numbers (``rel=-1``),
    so that they get the range check rather than "unknown measure"."""
    import ast

    import ir_measures

    tree = tree.body
    at_param = None
    if isinstance(tree, ast.BinOp) and isinstance(tree.op, ast.MatMult):
        at_param, tree = _literal(tree.right), tree.left
    args = {}
    if isinstance(tree, ast.Call):
        if tree.args or any(k.arg is None for k in tree.keywords):
            raise ValueError("parameters must be named")
        args = {k.arg: _literal(k.value) for k in tree.keywords}
        tree = tree.func
    if not isinstance(tree, ast.Name) or tree.id not in ir_measures.measures.registry:
        raise NameError("measure not found")
    cls = ir_measures.measures.registry[tree.id]
    if at_param is not None:
        args[cls.AT_PARAM] = at_param
    return cls(**args)


def _check_params(name: str, measure) -> None:
    """Refuse what pytrec_eval would crash on or silently wrap: integer parameters (cutoff, rel,
    min_rel, max_rel, nDCG's gains) that are not whole numbers in a C int, a cutoff or rel below 1;
    then anything else ir_measures' own validation refuses, or a measure no installed provider computes."""
    import ir_measures

    params = getattr(measure, "params", {})
    supported = getattr(measure, "SUPPORTED_PARAMS", {})
    for key, value in params.items():
        info = supported.get(key)
        if info is None or info.dtype is not int:
            continue
        low = 1 if key == "rel" else -_INT_MAX - 1  # pytrec_eval: "relevance_level should be positive"
        if type(value) is not int:
            raise BabelirError(f"measure {name!r}: {key} must be a whole number, not {value!r}")
        if key == "cutoff" and value < 1:  # trec_eval aborts the process on a cutoff below 1
            raise BabelirError(f"measure {name!r}: the cutoff must be 1 or more")
        if key == "cutoff" and value > _INT_MAX:
            raise BabelirError(f"measure {name!r}: cutoff too large (at most {_INT_MAX})")
        if not low <= value <= _INT_MAX:
            raise BabelirError(f"measure {name!r}: {key} out of range ({low} to {_INT_MAX})")
    gains = params.get("gains")
    if isinstance(gains, dict):
        for grade, gain in gains.items():
            if type(grade) is not int or type(gain) is not int:
                raise BabelirError(f"measure {name!r}: gains must map whole-number grades to whole-number "
                                   f"gains, not {grade!r}: {gain!r}")
            if not -_INT_MAX - 1 <= grade <= _INT_MAX:
                raise BabelirError(f"measure {name!r}: grade {grade} out of range ({-_INT_MAX - 1} to {_INT_MAX})")
            if not -_INT_MAX - 1 <= gain <= _INT_MAX:
                raise BabelirError(f"measure {name!r}: gain out of range: {gain} ({-_INT_MAX - 1} to {_INT_MAX})")
    try:
        measure.validate_params()
    except Exception as exc:  # ir_measures asserts (AssertionError) on a parameter of the wrong type or name
        raise BabelirError(f"measure {name!r}: {str(exc) or type(exc).__name__}") from None
    if not ir_measures.DefaultPipeline.supports(measure):  # else iter_calc fails: "Unsupported measures"
        raise BabelirError(f"measure {name!r}: no installed ir_measures provider computes it "
                           "(pytrec_eval computes nDCG, P, R, RR, AP, ...)")


def parse_measures(names: Iterable[str]):
    """ir_measures measure objects for names such as ``nDCG@10`` or ``R@100``.

    Raises a BabelirError on an unknown measure, a number not written in plain decimal, a cutoff or
    ``rel`` level below 1 or above 2**31-1, a ``gains`` grade or gain that is not an integer in a C int,
    or any other parameter ir_measures refuses (pytrec_eval's limits)."""
    import ast

    parsed = []
    for name in names:
        try:
            tree = ast.parse(name, mode="eval")
            measure = _parse_one(tree)
        except Exception:  # SyntaxError, ValueError, NameError, TypeError (unknown keyword), RecursionError...
            raise BabelirError(f"unknown measure {name!r} (examples: nDCG@10, R@100, RR@10, AP, P@5)") from None
        odd = _non_decimal_number(name, tree)
        if odd is not None:
            raise BabelirError(f"measure {name!r}: write numbers in plain decimal, not {odd!r}")
        _check_params(name, measure)
        parsed.append(measure)
    return parsed


def per_query_values(run: Run, qrels: Iterable[Qrel], measures: list[str]) -> dict[str, dict[str, float]]:
    """measure name -> {query id -> value} for every query in the qrels (0 when not in the run)."""
    import ir_measures

    qrels = list(qrels)
    parsed = parse_measures(measures)
    names: dict[str, list[str]] = {}  # two names of one measure ("NDCG@10", "nDCG@10") get its values
    for measure, name in zip(parsed, measures):
        names.setdefault(str(measure), []).append(name)
    values: dict[str, dict[str, float]] = {m: {} for m in measures}
    ir_qrels = [ir_measures.Qrel(q.query_id, q.doc_id, q.relevance) for q in qrels]
    # each document is scored by its place in the Run's ranking (ties broken by doc id descending, as
    # trec_eval does): every ir_measures provider then ranks as trec_eval, where some (RR@k, Judged@k)
    # would otherwise break exact ties by doc id ascending. trec_eval's measures use only the order.
    run = run if isinstance(run, Run) else Run(run)
    ir_run = [ir_measures.ScoredDoc(q, d, float(-rank)) for q in run for rank, (d, _) in enumerate(run.ranking(q))]
    for metric in ir_measures.iter_calc(parsed, ir_qrels, ir_run):
        for name in names[str(metric.measure)]:
            values[name][metric.query_id] = float(metric.value)
    for q in {q.query_id for q in qrels}:
        for m in measures:
            values[m].setdefault(q, 0.0)
    return values


def condensed_run(run: Run, qrels: Iterable[Qrel]) -> Run:
    """The condensed run (Sakai 2007): each query's ranking without the documents the qrels do not
    judge for it, the others in their order. A document judged with a negative grade is left out
    too, as trec_eval's ``-J`` (pytrec_eval's ``judged_only``) leaves it out; a query left with no
    document is dropped (and scores 0). The input is not changed.

    >>> from babelir.types import Qrel
    >>> condensed_run(Run({"q": {"a": 3.0, "u": 2.0, "b": 1.0}}), [Qrel("q", "a", 1), Qrel("q", "b", 0)]).ranking("q")
    [('a', 3.0), ('b', 1.0)]
    """
    judged: dict[str, set[str]] = {}
    for q in qrels:
        if q.relevance >= 0:
            judged.setdefault(q.query_id, set()).add(q.doc_id)
    run = run if isinstance(run, Run) else Run(run)
    kept = {q: {d: s for d, s in run[q].items() if d in judged.get(q, ())} for q in run}
    return Run({q: docs for q, docs in kept.items() if docs}, name=run.name)


def query_languages(query_ids: Iterable[str], topics: Iterable[Query] | None = None) -> dict[str, str]:
    """Language of each query: the topics' ``lang`` where given, else the id's prefix before ``-``
    when it is a language code (``th-1234``), else ``und``."""
    from babelir.types import normalize_lang

    given = {q.id: q.lang for q in topics or [] if q.lang}
    out = {}
    for qid in query_ids:
        lang = given.get(qid)
        if lang is None and "-" in qid:
            prefix = qid.split("-", 1)[0]
            try:
                lang = normalize_lang(prefix) if prefix.isalpha() and len(prefix) in (2, 3) else None
            except BabelirError:
                lang = None
        out[qid] = lang or "und"
    return out


def evaluate(run: Run, qrels: Iterable[Qrel], measures: Iterable[str] = DEFAULT_MEASURES,
             langs: Mapping[str, str] | None = None, *, condensed: bool = False,
             judged: int | None = None) -> Evaluation:
    """Evaluate ``run``; with ``langs`` (query id -> language) also break results down by language.

    ``condensed``: each measure is also taken on :func:`condensed_run` and reported next to it as
    ``"<measure> (condensed)"`` (ir_measures computes both). ``judged``: a depth k; the result's
    ``judged`` then holds ``Judged@k`` overall and per language (:class:`Judged`)."""
    qrels = list(qrels)
    measures = list(dict.fromkeys(measures))
    judged_name = f"Judged@{judged}" if judged is not None else None
    asked = measures + [judged_name] if judged_name and judged_name not in measures else measures
    values = per_query_values(run, qrels, asked)
    if condensed:
        run = run if isinstance(run, Run) else Run(run)
        kept = per_query_values(condensed_run(run, qrels), qrels, measures)
        values.update({m + CONDENSED: kept[m] for m in measures})
        measures = [name for m in measures for name in (m, m + CONDENSED)]
    query_ids = sorted(next(iter(values.values())).keys()) if values else []
    if not query_ids:
        raise BabelirError("the qrels judge no query")

    def mean(ids: list[str], names: list[str]) -> dict[str, float]:
        return {m: sum(values[m][q] for q in ids) / len(ids) for m in names}

    groups: dict[str, list[str]] = {}
    by_lang, counts = {}, {}
    if langs is not None:
        for q in query_ids:
            groups.setdefault(langs.get(q, "und"), []).append(q)
        groups = dict(sorted(groups.items()))
        by_lang = {lang: mean(ids, measures) for lang, ids in groups.items()}
        counts = {lang: len(ids) for lang, ids in groups.items()}
    share = None
    if judged_name:
        share = Judged(judged, mean(query_ids, [judged_name])[judged_name],
                       {lang: mean(ids, [judged_name])[judged_name] for lang, ids in groups.items()})
    per_query = {m: values[m] for m in measures}
    return Evaluation(measures, mean(query_ids, measures), by_lang, per_query, counts, share)
