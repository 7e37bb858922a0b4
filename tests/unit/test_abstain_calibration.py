"""The abstention model: features, fit, thresholds, the file and its checks (synthetic data)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from babelir.abstain.calibration import (ALL, Calibration, balanced_threshold, check_matches, fit, load,
                                         threshold_for)
from babelir.abstain.features import FEATURES, feature_names, list_features, query_features
from babelir.errors import BabelirError, InputError

pytest.importorskip("sklearn")


class FakeIndex:
    manifest = {"created": "2026-11-30T00:00:00+00:00"}
    doc_count = 100


def synthetic(n: int, seed: int, shift: float = 2.0):
    """Features whose first column separates found (1) from not found (0)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    X = rng.normal(size=(n, len(FEATURES)))
    X[:, 0] += shift * y
    return X, y


def test_list_features_of_a_short_and_an_empty_list():
    assert list_features([], 10) == [0.0] * len(FEATURES)
    top, gap, drop, z, spread, found = list_features([5.0, 3.0, 1.0], 10)
    assert (top, gap, drop, found) == (5.0, 2.0, 4.0, 0.3)
    assert spread == pytest.approx(np.std([5.0, 3.0, 1.0]))
    assert z == pytest.approx((5.0 - 3.0) / np.std([5.0, 3.0, 1.0]))
    # only the top k count
    assert list_features([9.0, 8.0, 1.0, 0.0], 2)[2] == 1.0


def test_query_features_read_the_final_run_and_each_first_stage():
    final = {"q": {"a": 2.0, "b": 1.0}}
    stages = {"bm25": {"q": {"a": 7.0}}, "dense": {}}
    vector = query_features("q", final, stages, ["final", "bm25", "dense"], 10)
    assert len(vector) == 3 * len(FEATURES)
    assert vector[0] == 2.0 and vector[len(FEATURES)] == 7.0 and vector[2 * len(FEATURES):] == [0.0] * len(FEATURES)


def test_fit_predicts_what_sklearn_fitted_and_survives_the_file(tmp_path):
    X, y = synthetic(200, 1)
    langs = ["th"] * 100 + ["de"] * 100
    calibration = fit("bm25", FakeIndex(), 10, feature_names(["final"]), ["final"], X, y, y, langs)
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    direct = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(X[:100], y[:100])
    assert calibration.languages["th"].predict(X[:5]) == pytest.approx(direct.predict_proba(X[:5])[:, 1].tolist())
    assert calibration.languages["th"].auc > 0.8  # the first feature separates the outcomes
    path = tmp_path / "cal.json"
    calibration.save(path)
    again = load(path)
    for lang in ("th", "de", ALL):
        assert again.languages[lang].predict(X[:7]) == pytest.approx(calibration.languages[lang].predict(X[:7]))
    assert again.model_for("sw")[0] == ALL and again.model_for("th")[0] == "th"


def test_a_language_with_too_few_queries_takes_the_model_of_all_and_says_why():
    X, y = synthetic(130, 2)
    langs = ["th"] * 100 + ["yo"] * 30
    calibration = fit("bm25", FakeIndex(), 10, feature_names(["final"]), ["final"], X, y, y, langs)
    assert "yo" not in calibration.languages and "30 queries, fewer than 40" in calibration.fallback["yo"]
    assert calibration.model_for("yo")[0] == ALL


def test_too_few_queries_in_all_is_an_error():
    X, y = synthetic(20, 3)
    with pytest.raises(BabelirError, match="too few queries to calibrate: 20 queries"):
        fit("bm25", FakeIndex(), 10, feature_names(["final"]), ["final"], X, y, y, ["th"] * 20)
    X, _ = synthetic(100, 3)  # _: outcomes of both kinds
    with pytest.raises(BabelirError, match="each outcome needs"):
        fit("bm25", FakeIndex(), 10, feature_names(["final"]), ["final"], X, np.ones(100, int), _, ["th"] * 100)
    # no query without a relevant document: no hallucination rate to set a threshold by
    with pytest.raises(BabelirError, match="every one of the 100 topics has a relevant document"):
        fit("bm25", FakeIndex(), 10, feature_names(["final"]), ["final"], X, _, np.ones(100, int), ["th"] * 100)


def test_balanced_threshold_minimises_the_larger_rate():
    # without an answer: .1 .2 .6 ; with one: .4 .7 .8 .9
    p = [0.1, 0.2, 0.6, 0.4, 0.7, 0.8, 0.9]
    answer = [0, 0, 0, 1, 1, 1, 1]
    # t = .7: hallucination 0/3, error 1/4 (.25); t = .4: hallucination 1/3, error 0; t = .6 : 1/3, 1/4
    assert balanced_threshold(p, answer) == pytest.approx(0.7)
    assert balanced_threshold([0.3, 0.6], [1, 1]) == 0.5  # one kind only


def test_max_hallucination_threshold_keeps_the_share_of_answered_no_answer_queries():
    X, y = synthetic(300, 4, shift=1.0)
    model = fit("bm25", FakeIndex(), 10, feature_names(["final"]), ["final"], X, y, y, ["th"] * 300).languages["th"]
    no_answer = np.asarray(model.noanswer_p)
    for h in (0.0, 0.05, 0.1, 0.3):
        t = threshold_for(model, h)
        assert (no_answer >= t).mean() <= h + 1e-12
        assert (no_answer >= np.nextafter(t, -1) - 1e-9).mean() > h or t == 0.0  # the lowest such threshold
    assert threshold_for(model, None) == model.balanced
    assert threshold_for(model, 1.0) == 0.0


def test_a_calibration_for_another_pipeline_or_index_is_refused(tmp_path):
    X, y = synthetic(100, 5)
    calibration = fit("bm25 >> group(weight=1.0)", FakeIndex(), 10, feature_names(["final"]), ["final"], X, y, y, ["th"] * 100)
    check_matches(calibration, "cal.json", "bm25 >> group(weight=1.0)", FakeIndex())
    with pytest.raises(BabelirError, match="calibrated for the pipeline 'bm25 >> group"):
        check_matches(calibration, "cal.json", "dense", FakeIndex())
    other = FakeIndex()
    other.manifest = {"created": "2027-01-01T00:00:00+00:00"}
    with pytest.raises(BabelirError, match="calibrated on another index"):
        check_matches(calibration, "cal.json", "bm25 >> group(weight=1.0)", other)


@pytest.mark.parametrize("change, field", [
    (lambda d: d.update(kind="something"), "kind"),
    (lambda d: d.update(format=9), "format"),
    (lambda d: d["languages"]["th"].update(coef=[1.0]), "languages.th.coef"),
    (lambda d: d["languages"].pop("*"), "languages.*"),
    (lambda d: d.pop("pipeline"), "pipeline"),
    (lambda d: d.update(k=0), "k"),
    (lambda d: d.update(k=True), "k"),
    (lambda d: d.update(signals=["final", "bm25"]), "features"),
    (lambda d: d["languages"]["th"].update(balanced=5), "languages.th.balanced"),
    (lambda d: d["languages"]["th"].update(balanced="x"), "languages.th.balanced"),
    (lambda d: d["languages"]["th"].update(scale=[0.0] * 6), "languages.th.scale"),
    (lambda d: d["languages"]["th"].update(noanswer_p="oops"), "languages.th.noanswer_p"),
    (lambda d: d["languages"]["th"].update(threshold=0.5), "languages.th.threshold"),
])
def test_a_bad_calibration_file_names_the_field(tmp_path, change, field):
    X, y = synthetic(100, 6)
    data = fit("bm25", FakeIndex(), 10, feature_names(["final"]), ["final"], X, y, y, ["th"] * 100).to_json()
    change(data)
    path = tmp_path / "cal.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError) as caught:
        load(path)
    assert f'field "{field}"' in str(caught.value) and str(path) in str(caught.value)


def test_a_missing_or_broken_file_is_named(tmp_path):
    with pytest.raises(InputError, match="no such calibration file"):
        load(tmp_path / "nope.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(InputError, match="not a calibration file"):
        load(tmp_path / "bad.json")
    with pytest.raises(InputError, match="is a directory"):
        load(tmp_path)
    assert isinstance(Calibration, type)


def test_lexical_features_weigh_the_query_terms_each_top_document_holds(tmp_path):
    from babelir.abstain.features import LEXICAL, lexical_features
    from babelir.index.bm25 import idf
    from babelir.index.core import Index
    from babelir.types import Doc

    index = Index.create(tmp_path / "ix")
    texts = ["tides of the moon", "the moon is bright", "rain in spain", "tides rise", "dry desert"]
    index.add([Doc(f"d{i}", t, lang="en") for i, t in enumerate(texts)])
    analyzer = index.analyzer
    terms = set(analyzer.analyze("moon tides", "en"))
    weights = {t: idf(5, sum(t in set(analyzer.analyze(x, "en")) for x in texts)) for t in terms}
    total = sum(weights.values())
    held = set(analyzer.analyze(texts[1], "en"))
    n, idf_sum, idf_max, cover_top, cover_best = lexical_features(index, "moon tides", "en", ["d1", "d0", "d2"])
    assert len(LEXICAL) == 5 and n == len(terms)
    assert idf_sum == pytest.approx(total) and idf_max == pytest.approx(max(weights.values()))
    assert cover_top == pytest.approx(sum(w for t, w in weights.items() if t in held) / total) and cover_top < 1
    assert cover_best == pytest.approx(1.0)  # d0 holds every term
    assert lexical_features(index, "moon tides", "en", [])[3:] == [0.0, 0.0]
    index.close()
