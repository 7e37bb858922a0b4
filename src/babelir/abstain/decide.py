"""A search's abstention decisions: per query, P(a relevant document is in the top k), and the mark
"answerable" or "no relevant passage found".

``search_with_features`` runs a pipeline once and keeps, per query, the features of its score lists
(:mod:`babelir.abstain.features`) and its language; ``decide`` applies a calibration
(:mod:`babelir.abstain.calibration`) to them; ``write_decisions`` writes ``RUN.abstain.json``
beside a TREC run (the run file stays plain TREC)::

    {"format": 1, "k": 10, "pipeline": "…", "calibration": "cal.json", "max_hallucination": null,
     "queries": {"th-…": {"lang": "th", "model": "th", "p": 0.93, "answerable": true, "threshold": 0.5}}}

``model`` is the language whose model decided (``*``: the model of all languages, for a language the
calibration had too few queries of).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from babelir.abstain.calibration import Calibration, threshold_for
from babelir.abstain.features import COVER_DEPTH, lexical_features, query_features, signals_of
from babelir.run import Run

FORMAT = 1


@dataclass(frozen=True)
class Searched:
    """A search's run (top ``k``), and per query id its language and feature vector."""

    run: Run
    langs: dict[str, str]
    features: dict[str, list[float]]
    signals: list[str]


@dataclass(frozen=True)
class Decision:
    """One query's decision: ``p`` in [0, 1], ``answerable`` = ``p >= threshold``; ``lang`` the
    query's language, ``model`` the language whose model gave ``p``."""

    lang: str
    model: str
    p: float
    answerable: bool
    threshold: float


def search_with_features(pipeline, index, queries, k: int, feature_k: int, lang: str | None = "auto",
                         quiet: bool = True, signals: list[str] | None = None) -> Searched:
    """Run ``pipeline`` over ``queries`` to depth ``max(k, feature_k)``; the run is cut at ``k``,
    the features are taken over the top ``feature_k`` of the final run and of each first stage.
    ``signals``: the calibration's (default: the final run and every first stage the search ran)."""
    from babelir.retrieve.language_gate import analysis_language
    from babelir.retrieve.stage import tapping, with_language

    queries = with_language(queries, lang)
    with tapping() as first_stages:
        run = pipeline.retrieve(queries, max(k, feature_k), lang=lang, quiet=quiet)
    signals = signals if signals is not None else signals_of(first_stages)
    langs = {q.id: analysis_language(q, index, lang) for q in queries}
    features = {}
    for q in queries:
        lexical = None
        if "lexical" in signals:
            lexical = lexical_features(index, q.text, langs[q.id], [d for d, _ in run.ranking(q.id)[:COVER_DEPTH]])
        features[q.id] = query_features(q.id, run, first_stages, signals, feature_k, lexical)
    return Searched(run.cutoff(k), langs, features, signals)


def decide(calibration: Calibration, searched: Searched, max_hallucination: float | None = None) -> dict[str, Decision]:
    """Query id -> :class:`Decision`, by each query's language's model (else the model of all
    languages) and threshold (:func:`babelir.abstain.calibration.threshold_for`)."""
    by_model: dict[str, list[str]] = {}
    for qid, lang in searched.langs.items():
        by_model.setdefault(calibration.model_for(lang)[0], []).append(qid)
    decisions: dict[str, Decision] = {}
    for model_lang, qids in by_model.items():
        model = calibration.languages[model_lang]
        threshold = threshold_for(model, max_hallucination)
        for qid, p in zip(qids, model.predict([searched.features[q] for q in qids])):
            decisions[qid] = Decision(searched.langs[qid], model_lang, p, p >= threshold, threshold)
    return {qid: decisions[qid] for qid in searched.langs}


def write_decisions(run_path: str | Path, decisions: dict[str, Decision], k: int, pipeline: str,
                    calibration_path: str | Path, max_hallucination: float | None) -> Path:
    """Write ``RUN.abstain.json`` beside ``run_path`` (atomically); returns its path."""
    from babelir.io.atomic import atomic_write_text

    path = Path(f"{run_path}.abstain.json")
    data = {"format": FORMAT, "k": k, "pipeline": pipeline, "calibration": str(calibration_path),
            "max_hallucination": max_hallucination,
            "queries": {qid: {"lang": d.lang, "model": d.model, "p": round(d.p, 6), "answerable": bool(d.answerable),
                              "threshold": d.threshold} for qid, d in decisions.items()}}
    atomic_write_text(path, json.dumps(data, ensure_ascii=False, indent=1) + "\n")
    return path


def summary(decisions: dict[str, Decision]) -> str:
    """``answerable: 812 of 1190 queries (th 60/110, …)``, for the end of a search."""
    by_lang: dict[str, list[bool]] = {}
    for d in decisions.values():
        by_lang.setdefault(d.lang, []).append(d.answerable)
    parts = ", ".join(f"{lang} {sum(v)}/{len(v)}" for lang, v in sorted(by_lang.items()))
    return f"answerable: {sum(d.answerable for d in decisions.values())} of {len(decisions)} queries ({parts})"


class Abstainer:
    """A pipeline over an index with its calibration: ``search(queries, k) -> (Run, decisions)``.

    Made by :meth:`for_search`, which loads the calibration (a path, else the one ``babelir abstain
    calibrate`` stored in the index for this pipeline) and refuses one made for another pipeline or
    index (:class:`babelir.errors.BabelirError` / :class:`~babelir.errors.InputError`)."""

    def __init__(self, pipeline, index, calibration: Calibration, path, max_hallucination: float | None = None):
        self.pipeline, self.index, self.calibration = pipeline, index, calibration
        self.path, self.max_hallucination = path, max_hallucination

    @classmethod
    def for_search(cls, pipeline, index, index_dir, path=None, max_hallucination: float | None = None) -> "Abstainer":
        from babelir.abstain.calibration import check_matches, default_path, load
        from babelir.errors import BabelirError

        spec = pipeline.describe()
        if path is None:
            path = default_path(index_dir, spec)
            if not path.exists():
                raise BabelirError(f"{index_dir}: no calibration for the pipeline '{spec}' (make one: babelir abstain "
                                   f"calibrate {index_dir} --topics … --qrels … --pipeline \"{spec}\")")
        calibration = load(path)
        check_matches(calibration, path, spec, index)
        return cls(pipeline, index, calibration, path, max_hallucination)

    def search(self, queries, k: int, lang: str | None = "auto", quiet: bool = True) -> tuple[Run, dict[str, Decision]]:
        """The top ``k`` per query, and each query's :class:`Decision`."""
        searched = search_with_features(self.pipeline, self.index, queries, k, self.calibration.k, lang, quiet,
                                        signals=self.calibration.signals)
        return searched.run, decide(self.calibration, searched, self.max_hallucination)

    def write(self, run_path, decisions: dict[str, Decision]) -> Path:
        return write_decisions(run_path, decisions, self.calibration.k, self.calibration.pipeline, self.path,
                               self.max_hallucination)

    summary = staticmethod(summary)

    def verdict(self, decision: Decision) -> str:
        """One line for a single query: answerable or "no relevant passage found", with the probability."""
        model = "" if decision.model == decision.lang else f", the model of all languages: {decision.lang} has none"
        sign = ">=" if decision.answerable else "<"
        head = "answerable" if decision.answerable else "no relevant passage found"
        return (f"{head}: P(relevant in top {self.calibration.k}) = {decision.p:.2f} {sign} {decision.threshold:.2f} "
                f"({decision.lang}{model})")
