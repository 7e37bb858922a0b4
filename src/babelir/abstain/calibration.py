"""Fit, save and load a calibration: per query language, P(a relevant document is in the top k).

The model is scikit-learn's logistic regression on standardised score-list features
(:mod:`babelir.abstain.features`); logistic regression is Platt's scaling (Platt, 1999) over
several scores at once. One model per language, because score scales differ by language (a BM25
score of 8 means one thing in Thai and another in German), and one over all languages, the
stated fallback for a language with too few queries.

The file (JSON, ``format`` 1) holds the pipeline spec and the index it was made for, ``k``, the
feature names, and per language: the counts, the fitted scaler and coefficients, the
cross-validated ROC AUC, the balanced threshold, and the sorted probabilities of its queries without
a relevant document (they turn ``--max-hallucination H`` into a threshold, :func:`threshold_for`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from babelir.errors import BabelirError, InputError

FORMAT = 1
KIND = "babelir abstention calibration"
ALL = "*"  # the model of all languages together
MIN_QUERIES = 40  # a language with fewer queries, or fewer than MIN_CLASS of either outcome, takes ALL's model
MIN_CLASS = 8


@dataclass
class LanguageModel:
    """One language's fitted model: ``predict(X) -> P(relevant in top k)`` for an ``(n, features)``
    array. ``noanswer_p``: sorted probabilities of its calibration queries without a relevant
    document in the qrels; ``balanced``: the threshold that makes the larger of the hallucination
    and error rates smallest on its calibration queries."""

    queries: int
    found: int
    mean: list[float]
    scale: list[float]
    coef: list[float]
    intercept: float
    auc: float | None = None
    balanced: float = 0.5
    noanswer_p: list[float] = field(default_factory=list)

    def estimator(self):
        """The scikit-learn pipeline (StandardScaler, LogisticRegression) these numbers describe."""
        import numpy as np
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        scaler = StandardScaler()
        scaler.mean_, scaler.scale_ = np.asarray(self.mean), np.asarray(self.scale)
        scaler.var_ = scaler.scale_ ** 2
        scaler.n_features_in_ = len(self.mean)
        model = LogisticRegression()
        model.coef_, model.intercept_ = np.asarray([self.coef]), np.asarray([self.intercept])
        model.classes_ = np.asarray([0, 1])
        model.n_features_in_ = len(self.coef)
        return make_pipeline(scaler, model)

    def predict(self, features) -> list[float]:
        import numpy as np

        if len(features) == 0:
            return []
        return [float(p) for p in self.estimator().predict_proba(np.asarray(features, dtype=float))[:, 1]]


@dataclass
class Calibration:
    """A fitted calibration (see the module docstring)."""

    pipeline: str
    index: dict
    k: int
    features: list[str]
    signals: list[str]
    languages: dict[str, LanguageModel]
    fallback: dict[str, str] = field(default_factory=dict)  # language -> why it takes ALL's model

    def model_for(self, lang: str) -> tuple[str, LanguageModel]:
        """(the language whose model applies, the model): ``lang``'s own, else the model of all
        languages."""
        if lang in self.languages and lang != ALL:
            return lang, self.languages[lang]
        return ALL, self.languages[ALL]

    def to_json(self) -> dict:
        return {"format": FORMAT, "kind": KIND, "pipeline": self.pipeline, "index": self.index, "k": self.k,
                "features": self.features, "signals": self.signals, "fallback": self.fallback,
                "languages": {lang: vars(m) for lang, m in self.languages.items()}}

    def save(self, path: str | Path) -> None:
        from babelir.io.atomic import atomic_write_text

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(self.to_json(), indent=1) + "\n")


def index_identity(index) -> dict:
    """What ties a calibration to an index: its creation time (stable while documents are added)
    and its document count when calibrated."""
    return {"created": index.manifest.get("created"), "documents": index.doc_count}


def fit(pipeline: str, index, k: int, features: list[str], signals: list[str], X: Sequence[Sequence[float]],
        found: Sequence[int], answer: Sequence[int], langs: Sequence[str], min_queries: int = MIN_QUERIES) -> Calibration:
    """Fit a model per language (and one over all) of ``found`` (1: a relevant document is in the
    top ``k``) from ``X`` (``n × len(features)`` floats), ``langs`` the query language of each row;
    ``answer`` (1: the query has a relevant document in the qrels) sets the thresholds.

    Raises :class:`BabelirError` when all the queries together are too few (< ``min_queries``) or
    all of one outcome. A language below ``min_queries`` (or with fewer than 8 of either outcome)
    is left to the model of all languages, and the reason is kept in ``fallback``."""
    import numpy as np

    X, y, langs = np.asarray(X, dtype=float), np.asarray(found, dtype=int), list(langs)
    answer = np.asarray(answer, dtype=int)
    if len(set(answer.tolist())) < 2:
        kind = "has a relevant document" if answer.size and answer[0] else "has no relevant document"
        raise BabelirError(f"every one of the {len(answer)} topics {kind} in the qrels: calibration needs queries "
                           "with and without one (babelir datasets xquad-r --no-answer-split makes both)")
    problem = _too_few(y, min_queries)
    if problem:
        raise BabelirError(f"too few queries to calibrate: {problem} (give topics with qrels: queries with a "
                           "relevant document and queries without one)")
    languages, fallback = {ALL: _fit_one(X, y, answer)}, {}
    for lang in sorted(set(langs)):
        rows = np.asarray([i for i, q in enumerate(langs) if q == lang])
        problem = _too_few(y[rows], min_queries)
        if problem:
            fallback[lang] = problem
        else:
            languages[lang] = _fit_one(X[rows], y[rows], answer[rows])
    return Calibration(pipeline, index_identity(index), k, features, signals, languages, fallback)


def _too_few(y, min_queries: int) -> str | None:
    found = int(y.sum())
    if len(y) < min_queries:
        return f"{len(y)} queries, fewer than {min_queries}"
    if min(found, len(y) - found) < MIN_CLASS:
        return f"{found} of {len(y)} queries have a relevant document in the top k (each outcome needs {MIN_CLASS})"
    return None


def _fit_one(X, y, answer) -> LanguageModel:
    import warnings

    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def make():
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))

    folds = min(5, int(y.sum()), int(len(y) - y.sum()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        auc = float(np.mean(cross_val_score(make(), X, y, cv=folds, scoring="roc_auc")))
    model = make().fit(X, y)
    scaler, logistic = model[0], model[1]
    p = model.predict_proba(X)[:, 1]
    return LanguageModel(queries=int(len(y)), found=int(y.sum()), mean=scaler.mean_.tolist(),
                         scale=scaler.scale_.tolist(), coef=logistic.coef_[0].tolist(),
                         intercept=float(logistic.intercept_[0]), auc=auc, balanced=balanced_threshold(p, answer),
                         noanswer_p=sorted(float(v) for v in p[answer == 0]))


def balanced_threshold(p, answer) -> float:
    """The threshold on ``p`` that makes the larger of the hallucination rate (queries without an
    answer marked answerable: the false-positive rate) and the error rate (queries with one marked
    not: 1 - the true-positive rate) smallest; from scikit-learn's ROC curve. 0.5 when ``answer``
    has one kind of query only."""
    import numpy as np
    from sklearn.metrics import roc_curve

    if len(set(int(a) for a in answer)) < 2:
        return 0.5
    fpr, tpr, thresholds = roc_curve(answer, p)
    worst = np.maximum(fpr, 1 - tpr)
    best = int(np.argmin(worst[1:])) + 1  # thresholds[0] is +inf (nothing answerable)
    return float(thresholds[best])


def threshold_for(model: LanguageModel, max_hallucination: float | None) -> float:
    """The probability from which a query is marked answerable: the language's balanced threshold
    (:func:`balanced_threshold`) without ``max_hallucination``; else the lowest threshold at which
    at most that share of the language's calibration queries without a relevant document would be
    marked answerable."""
    import numpy as np

    if max_hallucination is None:
        return model.balanced
    values = model.noanswer_p
    allowed = int(math.floor(max_hallucination * len(values) + 1e-9))
    if not values or allowed >= len(values):
        return 0.0
    return float(np.nextafter(values[len(values) - allowed - 1], 2.0))


def load(path: str | Path) -> Calibration:
    """Read a calibration file; a missing, malformed or newer one is an :class:`InputError` naming
    the file and the field."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(str(path), None, None, "no such calibration file (make one with babelir abstain calibrate)") from None
    except IsADirectoryError:
        raise InputError(str(path), None, None, "is a directory, not a calibration file") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(str(path), None, None, f"not a calibration file: {exc}") from None
    if not isinstance(data, dict) or data.get("kind") != KIND:
        raise InputError(str(path), None, "kind", "not a babelir abstention calibration")
    if not isinstance(data.get("format"), int) or data["format"] > FORMAT:
        raise InputError(str(path), None, "format", f"made by a newer babelir (format {data.get('format')}; "
                                                    f"this babelir reads format {FORMAT})")
    return _checked(path, data)


def _checked(path: Path, data: dict) -> Calibration:
    """The calibration ``data`` describes, each field checked (:class:`InputError` naming it)."""
    from babelir.abstain.features import feature_names

    def bad(field_name: str, message: str):
        return InputError(str(path), None, field_name, message)

    for key, kind in (("pipeline", str), ("index", dict), ("signals", list), ("features", list), ("languages", dict)):
        if not isinstance(data.get(key), kind):
            raise bad(key, "missing or malformed")
    k = data.get("k")
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 10_000:
        raise bad("k", f"expected a whole number from 1 to 10000, got {k!r}")
    signals = data["signals"]
    if not signals or not all(isinstance(s, str) for s in signals) or data["features"] != feature_names(signals):
        raise bad("features", "do not match the signals (made by another babelir?)")
    if ALL not in data["languages"]:
        raise bad(f"languages.{ALL}", "the model of all languages is missing")
    width = len(data["features"])
    languages = {}
    for lang, m in data["languages"].items():
        where = f"languages.{lang}"
        if not isinstance(m, dict):
            raise bad(where, "not an object")
        unknown = set(m) - set(LanguageModel.__dataclass_fields__)
        if unknown:
            raise bad(f"{where}.{sorted(unknown)[0]}", "not a field of a language's model")
        for key in ("mean", "scale", "coef"):
            values = m.get(key)
            if not isinstance(values, list) or len(values) != width or not all(_finite(v) for v in values):
                raise bad(f"{where}.{key}", f"expected {width} finite numbers")
        if not all(v > 0 for v in m["scale"]):
            raise bad(f"{where}.scale", "expected numbers above 0")
        if not _finite(m.get("intercept")):
            raise bad(f"{where}.intercept", "expected a finite number")
        for key in ("queries", "found"):
            if isinstance(m.get(key), bool) or not isinstance(m.get(key), int) or m[key] < 0:
                raise bad(f"{where}.{key}", "expected a whole number, 0 or more")
        if not (_finite(m.get("balanced", 0.5)) and 0 <= m.get("balanced", 0.5) <= 1):
            raise bad(f"{where}.balanced", "expected a probability, a number in [0, 1]")
        values = m.get("noanswer_p", [])
        if not isinstance(values, list) or not all(_finite(v) and 0 <= v <= 1 for v in values):
            raise bad(f"{where}.noanswer_p", "expected probabilities, numbers in [0, 1]")
        if m.get("auc") is not None and not _finite(m["auc"]):
            raise bad(f"{where}.auc", "expected a number or null")
        languages[lang] = LanguageModel(**m)
    fallback = data.get("fallback", {})
    if not isinstance(fallback, dict):
        raise bad("fallback", "expected an object")
    return Calibration(data["pipeline"], data["index"], k, data["features"], signals, languages, fallback)


def _finite(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)


def default_path(index_dir: str | Path, pipeline: str) -> Path:
    """Where ``babelir abstain calibrate`` keeps a calibration inside the index when no ``-o`` is
    given: ``INDEX/calibration/<hash of the pipeline spec>.json``."""
    import hashlib

    return Path(index_dir) / "calibration" / f"{hashlib.sha256(pipeline.encode()).hexdigest()[:16]}.json"


def check_matches(calibration: Calibration, path, pipeline: str, index) -> None:
    """Refuse a calibration made for another pipeline or another index (:class:`BabelirError`)."""
    if calibration.pipeline != pipeline:
        raise BabelirError(f"{path}: calibrated for the pipeline '{calibration.pipeline}', not '{pipeline}' "
                           "(calibrate this pipeline with babelir abstain calibrate)")
    created = index_identity(index)["created"]
    if calibration.index.get("created") != created:
        raise BabelirError(f"{path}: calibrated on another index (created {calibration.index.get('created')}; "
                           f"this one {created})")
