"""Inter-assessor agreement on relevance judgments, per language.

A judgment is ``(item, assessor, grade, lang)``: ``item`` a hashable pair id such as
``(query_id, doc_id)``, ``assessor`` a string, ``grade`` an integer on an ordinal scale (0-3 graded,
0-1 binary), ``lang`` a string. A tuple of those four, or any record with attributes of those names,
is accepted. Only items judged by two or more distinct assessors (the *overlapping* items) count.

Every statistic comes from a maintained library, never from a hand formula:

- Cohen's kappa, plain and quadratic-weighted: :func:`sklearn.metrics.cohen_kappa_score`
  (Cohen 1960, "A coefficient of agreement for nominal scales", Educational and Psychological
  Measurement 20(1); Cohen 1968 for the weighted form);
- Fleiss' kappa: :func:`statsmodels.stats.inter_rater.fleiss_kappa` over
  :func:`~statsmodels.stats.inter_rater.aggregate_raters` (Fleiss 1971, "Measuring nominal scale
  agreement among many raters", Psychological Bulletin 76(5));
- Krippendorff's alpha: :func:`krippendorff.alpha` (Krippendorff 2011, "Computing Krippendorff's
  alpha-reliability", University of Pennsylvania, Annenberg School for Communication);
- the model-vs-people confusion matrix: :func:`sklearn.metrics.confusion_matrix`.

Landis & Koch (1977, Biometrics 33(1)) give the usual reading of kappa values: < 0 poor,
0-0.20 slight, 0.21-0.40 fair, 0.41-0.60 moderate, 0.61-0.80 substantial, 0.81-1 almost perfect.

A statistic that is undefined (fewer than two overlapping items; every rating the same grade, which
makes the chance agreement 1 and the statistic 0/0) is ``None``, never NaN; :func:`format_agreement`
prints it as ``n/a``. numpy, scikit-learn, statsmodels and krippendorff are imported only when a
function runs, so that ``import babelir`` stays cheap.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from numbers import Integral

from babelir.errors import BabelirError

SCALES = ("graded", "binary")


@dataclass(frozen=True)
class LangAgreement:
    """Agreement among the assessors of one language (or ``"all"`` languages together).

    ``pairs``: overlapping items (judged by 2+ distinct assessors); ``assessors``: distinct assessors
    who judged at least one of them; ``raw_agreement``: share of overlapping items on which every
    assessor gave the same grade (None when ``pairs`` is 0). The four statistics are None when
    undefined or not applicable (see :func:`agreement`).
    """

    lang: str
    pairs: int
    assessors: int
    raw_agreement: float | None
    cohen_kappa: float | None
    weighted_kappa: float | None
    fleiss_kappa: float | None
    krippendorff_alpha: float | None


@dataclass(frozen=True)
class Agreement:
    """The result of :func:`agreement`: ``by_lang`` (language -> row, languages sorted) and ``all``
    (every language pooled); ``scale`` is ``"graded"`` or ``"binary"``, ``labels`` the grades the
    statistics were computed over (every integer from the lowest to the highest grade seen)."""

    scale: str
    labels: tuple[int, ...]
    by_lang: dict[str, LangAgreement]
    all: LangAgreement


@dataclass(frozen=True)
class ModelAgreement:
    """One assessor (a model) against the other assessors (people) in one language (or ``"all"``).

    ``n``: items judged by the model and by at least one person; ``labels``: the grades indexing the
    matrix; ``confusion[i][j]``: items whose people's majority grade is ``labels[i]`` and whose model
    grade is ``labels[j]`` (rows people, columns model, as sklearn's ``confusion_matrix(y_true,
    y_pred)``); ``kappa``: Cohen's kappa between the two label lists; ``weighted_kappa``: its
    quadratic-weighted form on a graded scale (None on a binary one). A kappa is None when undefined.
    """

    lang: str
    n: int
    labels: tuple[int, ...]
    confusion: list[list[int]]
    kappa: float | None
    weighted_kappa: float | None


# --- reading judgments ------------------------------------------------------------------------

@dataclass
class _Collected:
    ratings: dict[object, dict[str, int]]  # item -> assessor -> grade, items in input order
    lang: dict[object, str]                # item -> language
    grades: set[int]


def _fields(judgment, number: int) -> tuple:
    names = ("item", "assessor", "grade", "lang")
    if all(hasattr(judgment, n) for n in names):
        return tuple(getattr(judgment, n) for n in names)
    try:
        values = tuple(judgment)
    except TypeError:
        raise BabelirError(f"judgment {number}: expected (item, assessor, grade, lang) or a record "
                           f"with those fields, got {judgment!r}") from None
    if len(values) != 4:
        missing = ", ".join(names[len(values):]) or "nothing"
        raise BabelirError(f"judgment {number}: expected 4 fields (item, assessor, grade, lang), "
                           f"got {len(values)} (missing: {missing}): {judgment!r}")
    return values


def _collect(judgments: Iterable) -> _Collected:
    ratings: dict[object, dict[str, int]] = {}
    langs: dict[object, str] = {}
    grades: set[int] = set()
    for number, judgment in enumerate(judgments, 1):
        item, assessor, grade, lang = _fields(judgment, number)
        where = f"judgment {number} (item {item!r}, assessor {assessor!r})"
        try:
            hash(item)
        except TypeError:
            raise BabelirError(f"{where}: field \"item\" must be hashable, e.g. a (query_id, doc_id) "
                               "tuple") from None
        if not isinstance(assessor, str) or not assessor:
            raise BabelirError(f"{where}: field \"assessor\" must be a non-empty string")
        if not isinstance(grade, Integral) or isinstance(grade, bool):
            raise BabelirError(f"{where}: field \"grade\" must be an integer, got {grade!r}")
        if not isinstance(lang, str) or not lang:
            raise BabelirError(f"{where}: field \"lang\" must be a non-empty string, got {lang!r}")
        grade = int(grade)
        if langs.setdefault(item, lang) != lang:
            raise BabelirError(f"{where}: field \"lang\" is {lang!r}, but the item was judged "
                               f"earlier as {langs[item]!r}")
        seen = ratings.setdefault(item, {})
        if seen.get(assessor, grade) != grade:
            raise BabelirError(f"{where}: the assessor judged this item twice, with grades "
                               f"{seen[assessor]} and {grade}")
        seen[assessor] = grade
        grades.add(grade)
    return _Collected(ratings, langs, grades)


def _scale_and_labels(collected: _Collected, scale: str | None) -> tuple[str, tuple[int, ...]]:
    if scale is not None and scale not in SCALES:
        raise BabelirError(f"scale must be one of {', '.join(SCALES)} (or None to infer it), got {scale!r}")
    binary_grades = collected.grades <= {0, 1}
    if scale == "binary" and not binary_grades:
        raise BabelirError(f"scale 'binary' takes grades 0 and 1, but the judgments hold "
                           f"{sorted(collected.grades - {0, 1})}")
    scale = scale or ("binary" if binary_grades else "graded")
    if scale == "binary":
        return scale, (0, 1)
    if not collected.grades:
        return scale, ()
    return scale, tuple(range(min(collected.grades), max(collected.grades) + 1))


def _defined(value) -> float | None:
    """A library's float, or None where it is NaN or infinite (an undefined statistic)."""
    value = float(value)
    return value if math.isfinite(value) else None


def _languages(collected: _Collected) -> list[str]:
    return sorted(set(collected.lang.values()))


# --- agreement ----------------------------------------------------------------------------------

def _lang_agreement(lang: str, ratings: list[dict[str, int]], scale: str,
                    labels: tuple[int, ...]) -> LangAgreement:
    overlapping = [r for r in ratings if len(r) >= 2]
    pairs = len(overlapping)
    assessors = len(set().union(*overlapping)) if overlapping else 0
    raw = sum(len(set(r.values())) == 1 for r in overlapping) / pairs if pairs else None
    cohen = weighted = fleiss = alpha = None
    every_grade = {g for r in overlapping for g in r.values()}
    if pairs >= 2 and len(every_grade) >= 2:  # otherwise chance agreement is 1: every statistic is 0/0
        import numpy as np
        from sklearn.metrics import cohen_kappa_score

        counts = {len(r) for r in overlapping}
        if counts == {2} and assessors == 2:  # Cohen's kappa is for one fixed pair of raters
            first = [r[min(r)] for r in overlapping]
            second = [r[max(r)] for r in overlapping]
            cohen = _defined(cohen_kappa_score(first, second, labels=list(labels)))
            if scale == "graded":
                weighted = _defined(cohen_kappa_score(first, second, labels=list(labels),
                                                      weights="quadratic"))
        if len(counts) == 1:
            from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

            table, _categories = aggregate_raters(np.array([[r[a] for a in sorted(r)] for r in overlapping]))
            fleiss = _defined(fleiss_kappa(table, method="fleiss"))
        import krippendorff

        names = sorted(set().union(*overlapping))
        data = np.full((len(names), pairs), np.nan)  # assessors x items; NaN = not judged
        row = {name: i for i, name in enumerate(names)}
        for j, r in enumerate(overlapping):
            for name, grade in r.items():
                data[row[name], j] = grade
        alpha = _defined(krippendorff.alpha(reliability_data=data, value_domain=list(labels),
                                            level_of_measurement="ordinal" if scale == "graded" else "nominal"))
    return LangAgreement(lang, pairs, assessors, raw, cohen, weighted, fleiss, alpha)


def agreement(judgments: Iterable, *, scale: str | None = None) -> Agreement:
    """Inter-assessor agreement per language and over all languages.

    Args:
        judgments: ``(item, assessor, grade, lang)`` tuples or records with those attributes (see the
            module docstring). An assessor who judges an item twice with the same grade counts once.
        scale: ``"graded"`` or ``"binary"``; None infers ``"binary"`` when every grade is 0 or 1,
            ``"graded"`` otherwise. It chooses Krippendorff's level of measurement (ordinal for graded,
            nominal for binary) and whether a weighted kappa is reported.

    Returns:
        An :class:`Agreement`: one :class:`LangAgreement` per language seen (also those without any
        overlapping item, whose statistics are None) and one for all languages pooled. For the
        items judged by two or more assessors it gives:

        - ``raw_agreement``: the share of items on which all assessors gave the same grade;
        - ``cohen_kappa`` (and, on a graded scale, ``weighted_kappa`` with quadratic weights): only
          when the overlapping items were all judged by the same two assessors (Cohen's kappa is
          defined for one fixed pair of raters). When the pair varies from item to item, Fleiss'
          kappa (which allows that) and Krippendorff's alpha carry the agreement.
        - ``fleiss_kappa``: only when every overlapping item has the same number of judgments;
        - ``krippendorff_alpha``: always (it allows missing judgments and any number of assessors).

        A statistic is None, never NaN, when undefined: fewer than two overlapping items, or a
        single grade over all of them (chance agreement 1). Labels (the grades the kappas and alpha
        range over) are every integer from the lowest to the highest grade seen, so that quadratic
        weights and ordinal distances follow the grade values.

    Raises:
        BabelirError: a judgment that is not four fields, a non-integer grade, an empty assessor or
            language, an item judged in two languages, an assessor giving one item two different
            grades, an unknown ``scale``, or ``scale="binary"`` with grades other than 0 and 1.

    Sources: Cohen (1960); Cohen (1968) for weighted kappa; Fleiss (1971); Krippendorff (2011),
    "Computing Krippendorff's alpha-reliability".

    >>> j = [(("q1", "d1"), "ann", 1, "sw"), (("q1", "d1"), "bob", 1, "sw"),
    ...      (("q1", "d2"), "ann", 0, "sw"), (("q1", "d2"), "bob", 1, "sw")]
    >>> a = agreement(j)
    >>> a.by_lang["sw"].pairs, a.by_lang["sw"].raw_agreement, a.scale
    (2, 0.5, 'binary')
    """
    collected = _collect(judgments)
    scale, labels = _scale_and_labels(collected, scale)
    by_lang = {lang: _lang_agreement(lang, [r for item, r in collected.ratings.items()
                                            if collected.lang[item] == lang], scale, labels)
               for lang in _languages(collected)}
    return Agreement(scale, labels, by_lang, _lang_agreement("all", list(collected.ratings.values()), scale, labels))


def format_agreement(result: Agreement, digits: int = 3) -> str:
    """A plain-text table of an :class:`Agreement`: one row per language, then ``all``; an undefined
    or inapplicable statistic prints as ``n/a``."""
    from babelir.evaluate.table import format_table

    def number(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.{digits}f}"

    headers = ["lang", "overlapping pairs", "assessors", "raw agreement", "Cohen κ", "weighted κ",
               "Fleiss κ", "Krippendorff α"]
    rows = [[r.lang, str(r.pairs), str(r.assessors), number(r.raw_agreement), number(r.cohen_kappa),
             number(r.weighted_kappa), number(r.fleiss_kappa), number(r.krippendorff_alpha)]
            for r in [*result.by_lang.values(), result.all]]
    return format_table(headers, rows)


# --- one assessor against the others --------------------------------------------------------------

def _majority(grades: list[int]) -> int:
    """The most frequent grade; on a tie, the lowest of the tied grades."""
    counts = Counter(grades)
    top = max(counts.values())
    return min(g for g, c in counts.items() if c == top)


def _model_agreement(lang: str, ratings: list[dict[str, int]], model: str, scale: str,
                     labels: tuple[int, ...]) -> ModelAgreement:
    people, machine = [], []
    for r in ratings:
        others = [g for a, g in r.items() if a != model]
        if model in r and others:
            people.append(_majority(others))
            machine.append(r[model])
    n = len(people)
    if n == 0:
        return ModelAgreement(lang, 0, labels, [[0] * len(labels) for _ in labels], None, None)
    from sklearn.metrics import cohen_kappa_score, confusion_matrix

    confusion = confusion_matrix(people, machine, labels=list(labels)).tolist()
    kappa = weighted = None
    if n >= 2 and len(set(people) | set(machine)) >= 2:  # otherwise chance agreement is 1: 0/0
        kappa = _defined(cohen_kappa_score(people, machine, labels=list(labels)))
        if scale == "graded":
            weighted = _defined(cohen_kappa_score(people, machine, labels=list(labels), weights="quadratic"))
    return ModelAgreement(lang, n, labels, confusion, kappa, weighted)


def model_vs_people(judgments: Iterable, model_assessor: str, *,
                    scale: str | None = None) -> dict[str, ModelAgreement]:
    """How one assessor (typically a model giving pre-judgments) agrees with the people, per language.

    Args:
        judgments: as for :func:`agreement`.
        model_assessor: the assessor id to compare; every other assessor is a person.
        scale: as for :func:`agreement` (``"graded"`` adds a quadratic-weighted kappa).

    Returns:
        language -> :class:`ModelAgreement`, languages sorted, then ``"all"`` (every language pooled).
        Only items judged by the model and by at least one person count. On each such item the
        people's label is their majority grade, and on a tie the lowest of the tied grades (the
        conservative reading: a document is only as relevant as the people agreed it is). The
        confusion matrix (:func:`sklearn.metrics.confusion_matrix`, rows people, columns model) is
        indexed by every integer grade from the lowest to the highest seen; kappa is Cohen's kappa
        (:func:`sklearn.metrics.cohen_kappa_score`) between the people's and the model's labels, None
        when undefined (fewer than two items, or a single grade throughout).

    Raises:
        BabelirError: ``model_assessor`` judged nothing in ``judgments``, or any error of
            :func:`agreement`.

    Sources: Cohen (1960).
    """
    collected = _collect(judgments)
    scale, labels = _scale_and_labels(collected, scale)
    assessors = {a for r in collected.ratings.values() for a in r}
    if model_assessor not in assessors:
        known = ", ".join(sorted(assessors)[:10]) or "none"
        raise BabelirError(f"assessor {model_assessor!r} judged nothing here (assessors: {known})")
    out = {lang: _model_agreement(lang, [r for item, r in collected.ratings.items()
                                         if collected.lang[item] == lang], model_assessor, scale, labels)
           for lang in _languages(collected)}
    out["all"] = _model_agreement("all", list(collected.ratings.values()), model_assessor, scale, labels)
    return out
