"""Evaluating abstention: per query language, how often "is anything relevant in the top k?" was
answered right, the way NoMIRACL measures it (Thakur et al. 2024, "Knowing When You Don't Know: A
Multilingual Relevance Assessment Dataset for Robust Retrieval-Augmented Generation", §3):

- **hallucination rate**: among the queries WITHOUT a relevant passage, the share marked answerable;
- **error rate**: among the queries WITH a relevant passage, the share marked not answerable.

The decisions come from ``RUN.abstain.json``, written by ``babelir search … --abstain`` beside the
TREC run ``RUN``::

    {"format": 1, "k": 10, "pipeline": "hybrid(bm25,dense) >> group", "calibration": "cal.json",
     "queries": {"th-56beb4343aeaaa14008c925b":
                 {"lang": "th", "p": 0.93, "answerable": true, "threshold": 0.41}}}

``p`` is the calibrated probability that a relevant document is in the run's top ``k``;
``answerable`` is the decision (``p >= threshold``). Counts come from
:func:`sklearn.metrics.confusion_matrix`, the Brier score from :func:`sklearn.metrics.brier_score_loss`,
the smooth ECE from :func:`relplot.smECE` (Błasiok & Nakkiran 2023, "Smooth ECE: Principled
Reliability Diagrams via Kernel Smoothing"), the trade-off curve from :func:`sklearn.metrics.roc_curve`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from babelir.errors import InputError
from babelir.run import Run
from babelir.types import Qrel, id_problem

FORMAT = 1
ALL = "all"
BOX = 0.15  # the target for both rates: the dashed box on the trade-off plot
_ROUNDING = 5e-7  # search writes p rounded to 6 digits: a decision that close to its threshold is consistent


@dataclass(frozen=True)
class Decision:
    """One query's abstention decision: its language, the calibrated probability ``p`` (0..1) that a
    relevant document is in the top k, the decision (answerable or not) and the threshold used."""

    lang: str
    p: float
    answerable: bool
    threshold: float | None = None


@dataclass
class AbstainFile:
    """An abstain file as read: top ``k``, the pipeline and calibration it names, decisions by query id."""

    k: int
    decisions: dict[str, Decision]
    pipeline: str | None = None
    calibration: str | None = None
    inconsistent: list[str] = field(default_factory=list)  # queries whose answerable != (p >= threshold)


@dataclass
class TradeoffCurve:
    """One language's trade-off as the threshold ``t`` on p sweeps from above 1 down to 0 (a query
    is answerable when ``p >= t``): arrays of equal length, ``thresholds[0]`` is +inf (nothing
    answerable: hallucination 0, error 1), the last is 0 (all answerable: hallucination 1, error 0).
    ``operating_point`` is (hallucination, error) of the file's own decisions. A language whose
    queries are all of one kind (all with or all without an answer) has empty arrays."""

    thresholds: list[float]
    hallucination: list[float]
    error: list[float]
    operating_point: tuple[float, float]
    with_answer: int
    without_answer: int


def read_abstain_file(path: str | Path) -> AbstainFile:
    """Read and check an abstain file (format 1, see the module docstring).

    Raises :class:`InputError` naming the file and the field (``queries["th-1"].p``) for a missing
    file, text that is not JSON, another ``format`` version, a ``k`` that is not a whole number of 1
    or more, no queries, an invalid query id, and per query a missing or non-string ``lang``, a ``p``
    that is not a number in [0, 1], an ``answerable`` that is not true/false, a ``threshold`` that is
    not a number. A decision that disagrees with ``p >= threshold`` (beyond p's rounding to 6 digits)
    is not an error: it is listed in ``inconsistent`` (the decisions are what is evaluated).
    """
    where = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(where, None, None, "no such abstain file (babelir search … --abstain writes RUN.abstain.json "
                                            "beside the run; give another with --abstain)") from None
    except UnicodeDecodeError as exc:
        raise InputError(where, None, None, f"not UTF-8 text: {exc.reason}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(where, exc.lineno, None, f"not JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise InputError(where, None, None, f"expected a JSON object, got {type(data).__name__}")
    if "format" not in data:
        raise InputError(where, None, "format", "missing (an abstain file of babelir search --abstain has format 1)")
    if data["format"] != FORMAT or isinstance(data["format"], bool):
        raise InputError(where, None, "format", f"abstain file format {data['format']!r} is not supported: this "
                                                f"babelir reads format {FORMAT} (write the file again with this babelir)")
    k = data.get("k")
    if k is None:
        raise InputError(where, None, "k", "missing")
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise InputError(where, None, "k", f"expected a whole number of 1 or more, got {k!r}")
    queries = data.get("queries")
    if queries is None:
        raise InputError(where, None, "queries", "missing")
    if not isinstance(queries, dict) or not queries:
        raise InputError(where, None, "queries", "expected a non-empty object {query id: decision}")
    decisions, inconsistent = {}, []
    for qid, entry in queries.items():
        problem = id_problem(qid)
        if problem is not None:
            raise InputError(where, None, "queries", f"query id {qid!r}: {problem}")
        decisions[qid] = _decision(where, qid, entry)
        d = decisions[qid]
        if d.threshold is not None and d.answerable != (d.p >= d.threshold) and abs(d.p - d.threshold) > _ROUNDING:
            inconsistent.append(qid)
    optional = {name: data.get(name) for name in ("pipeline", "calibration")}
    for name, value in optional.items():
        if value is not None and not isinstance(value, str):
            raise InputError(where, None, name, f"expected a string, got {value!r}")
    return AbstainFile(k, decisions, optional["pipeline"], optional["calibration"], inconsistent)


def _decision(where: str, qid: str, entry) -> Decision:
    def field_name(name):
        return f"queries[{json.dumps(qid, ensure_ascii=False)}].{name}"

    if not isinstance(entry, dict):
        raise InputError(where, None, field_name("")[:-1], f"expected an object, got {entry!r}")
    for name in ("lang", "p", "answerable"):
        if name not in entry:
            raise InputError(where, None, field_name(name), "missing")
    lang, p, answerable, threshold = entry["lang"], entry["p"], entry["answerable"], entry.get("threshold")
    if not isinstance(lang, str) or not lang or any(c.isspace() for c in lang):
        raise InputError(where, None, field_name("lang"), f"expected a language code, got {lang!r}")
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise InputError(where, None, field_name("p"), f"expected a probability, a number in [0, 1], got {p!r}")
    if not isinstance(answerable, bool):
        raise InputError(where, None, field_name("answerable"), f"expected true or false, got {answerable!r}")
    if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, (int, float))
                                  or not math.isfinite(threshold)):
        raise InputError(where, None, field_name("threshold"), f"expected a number, got {threshold!r}")
    return Decision(lang, float(p), answerable, None if threshold is None else float(threshold))


def outcomes(run: Run, qrels: Iterable[Qrel], decisions: Mapping[str, Decision], k: int) -> dict[str, tuple[bool, bool]]:
    """Per query of ``decisions``: ``(has_answer, found)``. ``has_answer``: the qrels judge a document of
    the query relevant (grade > 0); ``found``: one of them is in the run's top ``k`` (a query absent
    from the run found nothing)."""
    relevant: dict[str, set[str]] = {}
    for q in qrels:
        if q.relevance > 0:
            relevant.setdefault(q.query_id, set()).add(q.doc_id)
    out = {}
    for qid in decisions:
        answers = relevant.get(qid, set())
        top = [doc for doc, _ in run.ranking(qid)[:k]] if qid in run else []
        out[qid] = (bool(answers), any(doc in answers for doc in top))
    return out


def by_language(decisions: Mapping[str, Decision]) -> dict[str, list[str]]:
    """Query ids per language, languages sorted, then ``all`` (every query)."""
    groups: dict[str, list[str]] = {}
    for qid, d in decisions.items():
        groups.setdefault(d.lang, []).append(qid)
    return {**{lang: groups[lang] for lang in sorted(groups)}, ALL: list(decisions)}


def abstention_report(run: Run, qrels: Iterable[Qrel], decisions: Mapping[str, Decision], k: int,
                      min_queries: int = 10) -> dict[str, dict[str, float | int | bool]]:
    """The NoMIRACL rates and the calibration of ``p``, per query language, languages sorted, then ``all``.

    Inputs: a Run, qrels (grade > 0 is relevant), decisions by query id (only those queries count),
    the depth ``k`` the probabilities speak of. Each row (a number is NaN where its denominator is 0)::

        with_answer, without_answer  queries with / without a relevant document in the qrels
        answerable                   queries marked answerable
        hallucination                share of the without-answer queries marked answerable
        error                        share of the with-answer queries marked not answerable
        brier                        Brier score of p against found (a relevant doc in the top k)
        smece                        smooth ECE of p against found (relplot.smECE)
        found_at_k                   share of the with-answer queries whose answer is in the top k
        few_queries                  fewer than ``min_queries`` with or without an answer

    Sources: NoMIRACL (Thakur et al. 2024) for the rates; sklearn ``confusion_matrix`` and
    ``brier_score_loss``; Błasiok & Nakkiran 2023 (relplot) for smECE.
    """
    import numpy as np
    import relplot
    from sklearn.metrics import brier_score_loss, confusion_matrix

    seen = outcomes(run, qrels, decisions, k)
    report = {}
    for lang, qids in by_language(decisions).items():
        has = np.array([seen[q][0] for q in qids])
        found = np.array([seen[q][1] for q in qids])
        marked = np.array([decisions[q].answerable for q in qids])
        p = np.array([decisions[q].p for q in qids])
        # rows: truth (no answer, answer); columns: decision (not answerable, answerable)
        (tn, fp), (fn, tp) = confusion_matrix(has, marked, labels=[False, True])
        (_, _), (found_no, found_yes) = confusion_matrix(has, found, labels=[False, True])
        without, with_ = int(tn + fp), int(fn + tp)
        report[lang] = {
            "with_answer": with_, "without_answer": without, "answerable": int(fp + tp),
            "hallucination": _share(fp, without), "error": _share(fn, with_),
            "brier": float(brier_score_loss(found, p, labels=[False, True])),
            "smece": float(relplot.smECE(p, found.astype(float))),
            "found_at_k": _share(found_yes, with_),
            "few_queries": bool(with_ < min_queries or without < min_queries),
        }
    return report


def _share(count, total: int) -> float:
    return float(count) / total if total else math.nan


def tradeoff_curve(run: Run, qrels: Iterable[Qrel], decisions: Mapping[str, Decision], k: int) -> dict[str, TradeoffCurve]:
    """Per language (sorted, then ``all``): hallucination rate and error rate as the threshold on p
    sweeps every value p takes, from +inf down to 0 (see :class:`TradeoffCurve`).

    Hallucination at threshold t is the false-positive rate of "answerable iff p >= t" against
    has_answer, the error rate one minus its true-positive rate: :func:`sklearn.metrics.roc_curve`
    (``drop_intermediate=False``), so the curve is the ROC curve mirrored (NoMIRACL's two rates).
    """
    import numpy as np
    from sklearn.metrics import roc_curve

    seen = outcomes(run, qrels, decisions, k)
    curves = {}
    for lang, qids in by_language(decisions).items():
        has = np.array([seen[q][0] for q in qids])
        p = np.array([decisions[q].p for q in qids])
        marked = np.array([decisions[q].answerable for q in qids])
        with_, without = int(has.sum()), int((~has).sum())
        point = (_share((marked & ~has).sum(), without), _share((~marked & has).sum(), with_))
        if with_ and without:
            fpr, tpr, thresholds = roc_curve(has, p, drop_intermediate=False)
            thresholds, fpr, tpr = list(thresholds), list(fpr), list(tpr)
            if thresholds[-1] > 0:  # sweep down to 0 (same counts as at the smallest p)
                thresholds, fpr, tpr = [*thresholds, 0.0], [*fpr, fpr[-1]], [*tpr, tpr[-1]]
            curve = TradeoffCurve([float(t) for t in thresholds], [float(x) for x in fpr],
                                  [1.0 - float(x) for x in tpr], point, with_, without)
        else:
            curve = TradeoffCurve([], [], [], point, with_, without)
        curves[lang] = curve
    return curves


def found_labels(run: Run, qrels: Iterable[Qrel], decisions: Mapping[str, Decision], k: int) -> dict[str, tuple[list[float], list[bool]]]:
    """Per language (sorted, then ``all``): ``(p, found)`` lists, the input of a reliability diagram."""
    seen = outcomes(run, qrels, decisions, k)
    return {lang: ([decisions[q].p for q in qids], [seen[q][1] for q in qids])
            for lang, qids in by_language(decisions).items()}


def report_table(report: Mapping[str, Mapping], k: int, digits: int = 3) -> str:
    """The report as an aligned text table (:func:`babelir.evaluate.table.format_table`); ``n/a``
    where a rate has no queries to count; a row with few queries is marked ``*`` after its language."""
    from babelir.evaluate.table import format_table

    def number(value):
        return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"

    headers = ["lang", "answer", "no answer", "hallucination", "error", "brier", "smECE", f"found@{k}"]
    rows = [[lang + ("*" if r["few_queries"] else ""), str(r["with_answer"]), str(r["without_answer"]),
             number(r["hallucination"]), number(r["error"]), number(r["brier"]), number(r["smece"]),
             number(r["found_at_k"])]
            for lang, r in report.items()]
    return format_table(headers, rows)


def report_json(report: Mapping[str, Mapping]) -> dict:
    """The report with NaN as null, for ``json.dumps``."""
    return {lang: {name: (None if isinstance(v, float) and math.isnan(v) else v) for name, v in row.items()}
            for lang, row in report.items()}
