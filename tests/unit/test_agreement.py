"""Inter-assessor agreement: hand-computed values, and the same numbers from the libraries called directly."""

import random
from collections import namedtuple
from dataclasses import replace

import numpy as np
import pytest

from babelir.errors import BabelirError
from babelir.judge.agreement import Agreement, agreement, format_agreement, model_vs_people

# Two assessors, ten items, graded 0-3.
ANN = [0, 0, 1, 1, 2, 2, 3, 3, 0, 1]
BOB = [0, 1, 1, 1, 2, 3, 3, 2, 0, 0]
# By hand:
#   agreements on items 0, 2, 3, 4, 6, 8 -> po = 6/10 = 0.6
#   ann's marginals 0:3 1:3 2:2 3:2, bob's the same 0:3 1:3 2:2 3:2
#   pe = (3*3 + 3*3 + 2*2 + 2*2) / 10**2 = 26/100 = 0.26
#   kappa = (po - pe) / (1 - pe) = 0.34 / 0.74 = 17/37 = 0.459459...
# Quadratic weights w = (i - j)**2: the four disagreements (0,1) (2,3) (3,2) (1,0) each weigh 1, so the
#   observed weighted disagreement is 4/10 = 0.4; the expected one is sum p_i p_j (i-j)**2 = 2 Var(grade)
#   (same marginals p = .3 .3 .2 .2: mean 1.3, E[g^2] 2.9, Var 1.21) = 2.42;
#   weighted kappa = 1 - 0.4 / 2.42 = 1 - 20/121 = 101/121 = 0.834710...
HAND_KAPPA = 17 / 37
HAND_WEIGHTED_KAPPA = 101 / 121


def two_assessors(lang="th", names=("ann", "bob"), a=ANN, b=BOB, prefix="q"):
    return ([((f"{prefix}{i // 5}", f"d{i}"), names[0], g, lang) for i, g in enumerate(a)]
            + [((f"{prefix}{i // 5}", f"d{i}"), names[1], g, lang) for i, g in enumerate(b)])


# Three assessors, five items, binary (rows: items; columns: assessors a, b, c).
THREE = [(1, 1, 1), (1, 1, 0), (0, 0, 0), (1, 0, 0), (1, 1, 1)]
# Fleiss (1971) by hand, n = 3 ratings per item, N = 5 items:
#   P_i = (sum_j n_ij**2 - n) / (n (n - 1)): items 1, 3, 5 -> (9-3)/6 = 1; items 2, 4 -> (4+1-3)/6 = 1/3
#   P_bar = (1 + 1/3 + 1 + 1/3 + 1) / 5 = 11/15
#   p_1 = 9/15 = 0.6, p_0 = 6/15 = 0.4; Pe_bar = 0.36 + 0.16 = 0.52 = 13/25
#   kappa = (11/15 - 13/25) / (1 - 13/25) = (16/75) / (12/25) = 4/9 = 0.444...
# Krippendorff (2011), nominal, by the coincidence matrix o_ck = sum_u pairs(c,k in u) / (m_u - 1):
#   items (1,1,1) x2 -> o_11 += 3 each; (0,0,0) -> o_00 += 3; (1,1,0) -> o_11 += 1, o_10 += 1, o_01 += 1;
#   (1,0,0) -> o_00 += 1, o_10 += 1, o_01 += 1. So o_11 = 7, o_00 = 4, o_01 = o_10 = 2; n = 15, n_1 = 9, n_0 = 6
#   D_o = (o_01 + o_10) / n = 4/15; D_e = 2 n_0 n_1 / (n (n - 1)) = 108/210 = 18/35
#   alpha = 1 - D_o / D_e = 1 - 14/27 = 13/27 = 0.481481...
HAND_FLEISS = 4 / 9
HAND_ALPHA = 13 / 27


def three_assessors(lang="sw"):
    return [((f"q{i}", "d1"), name, g, lang) for i, row in enumerate(THREE) for name, g in zip("abc", row)]


def test_cohen_kappa_equals_hand_computation_and_sklearn():
    from sklearn.metrics import cohen_kappa_score

    result = agreement(two_assessors())
    row = result.by_lang["th"]
    assert result.scale == "graded" and result.labels == (0, 1, 2, 3)
    assert (row.pairs, row.assessors, row.raw_agreement) == (10, 2, 0.6)
    assert row.cohen_kappa == pytest.approx(HAND_KAPPA, abs=1e-9)
    assert row.cohen_kappa == pytest.approx(cohen_kappa_score(ANN, BOB), abs=1e-12)
    assert row.weighted_kappa == pytest.approx(HAND_WEIGHTED_KAPPA, abs=1e-9)
    assert row.weighted_kappa == pytest.approx(cohen_kappa_score(ANN, BOB, weights="quadratic"), abs=1e-12)
    assert result.all == replace(row, lang="all")


def test_binary_scale_has_no_weighted_kappa():
    a = [1, 1, 1, 1, 1, 1, 0, 0, 0, 0]
    b = [1, 1, 1, 1, 0, 0, 1, 0, 0, 0]
    # po = 7/10; pe = 0.6*0.5 + 0.4*0.5 = 0.5; kappa = (0.7 - 0.5) / 0.5 = 0.4
    row = agreement(two_assessors(a=a, b=b)).by_lang["th"]
    assert row.cohen_kappa == pytest.approx(0.4, abs=1e-9)
    assert row.weighted_kappa is None


def test_three_assessors_fleiss_and_krippendorff_match_hand_and_libraries():
    import krippendorff
    from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

    result = agreement(three_assessors())
    row = result.by_lang["sw"]
    assert result.scale == "binary"
    assert (row.pairs, row.assessors, row.raw_agreement) == (5, 3, 0.6)
    assert row.cohen_kappa is None and row.weighted_kappa is None  # three judgments per item
    table, _ = aggregate_raters(np.array(THREE))
    assert row.fleiss_kappa == pytest.approx(HAND_FLEISS, abs=1e-9)
    assert row.fleiss_kappa == pytest.approx(fleiss_kappa(table, method="fleiss"), abs=1e-12)
    assert row.krippendorff_alpha == pytest.approx(HAND_ALPHA, abs=1e-9)
    direct = krippendorff.alpha(reliability_data=np.array(THREE, dtype=float).T, level_of_measurement="nominal")
    assert row.krippendorff_alpha == pytest.approx(direct, abs=1e-12)


def test_missing_judgments_give_krippendorff_only():
    import krippendorff

    nan = np.nan
    rows = {"a": [2, 0, 3, 1, nan, 0], "b": [2, 1, nan, 1, 2, 0], "c": [3, nan, 3, 0, 1, 0]}
    judgments = [((f"q{i}", "d"), name, int(g), "hi") for name, grades in rows.items()
                 for i, g in enumerate(grades) if not np.isnan(g)]
    row = agreement(judgments).by_lang["hi"]
    assert (row.pairs, row.assessors) == (6, 3)
    assert row.raw_agreement == pytest.approx(2 / 6)  # items 3 (3, 3) and 6 (0, 0, 0)
    assert row.cohen_kappa is None and row.fleiss_kappa is None  # 2 or 3 judgments per item
    direct = krippendorff.alpha(reliability_data=np.array(list(rows.values())), value_domain=[0, 1, 2, 3],
                                level_of_measurement="ordinal")
    assert row.krippendorff_alpha == pytest.approx(direct, abs=1e-12)


def test_per_language_split_and_pooled_row():
    from sklearn.metrics import cohen_kappa_score

    cai = [1, 0, 2, 2, 3, 0]
    dee = [1, 1, 2, 3, 3, 0]
    judgments = (two_assessors("th") + two_assessors("sw", ("cai", "dee"), cai, dee, prefix="s")
                 + [(("y1", "d1"), "ann", 2, "yo"), (("y2", "d1"), "bob", 0, "yo")])  # no overlap in yo
    result = agreement(judgments)
    assert list(result.by_lang) == ["sw", "th", "yo"]
    assert result.by_lang["th"] == agreement(two_assessors("th")).by_lang["th"]
    sw = result.by_lang["sw"]
    assert (sw.pairs, sw.assessors, sw.raw_agreement) == (6, 2, pytest.approx(4 / 6))
    assert sw.cohen_kappa == pytest.approx(cohen_kappa_score(cai, dee, labels=[0, 1, 2, 3]), abs=1e-12)
    yo = result.by_lang["yo"]
    assert (yo.pairs, yo.assessors, yo.raw_agreement, yo.cohen_kappa, yo.krippendorff_alpha) == (0, 0, None, None, None)
    # all: the pair of raters varies (ann/bob, cai/dee): no Cohen's kappa (one fixed pair of raters),
    # Fleiss' kappa (which allows varying raters) as statsmodels computes it
    from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

    everything = result.all
    assert (everything.pairs, everything.assessors) == (16, 4)
    assert everything.cohen_kappa is None and everything.weighted_kappa is None
    table, _ = aggregate_raters(np.array([[a, b] for a, b in zip(ANN + cai, BOB + dee)]))
    assert everything.fleiss_kappa == pytest.approx(fleiss_kappa(table, method="fleiss"), abs=1e-12)
    # the input order does not matter
    shuffled = list(judgments)
    random.Random(7).shuffle(shuffled)
    assert agreement(shuffled) == result


def test_degenerate_cases_are_none_and_print_na():
    same = agreement(two_assessors(a=[2] * 10, b=[2] * 10))
    row = same.by_lang["th"]
    assert row.raw_agreement == 1.0
    assert (row.cohen_kappa, row.weighted_kappa, row.fleiss_kappa, row.krippendorff_alpha) == (None,) * 4
    assert "nan" not in format_agreement(same).lower()

    no_overlap = agreement([(("q", "d1"), "ann", 1, "en"), (("q", "d2"), "bob", 0, "en")])
    assert no_overlap.all.pairs == 0 and no_overlap.all.raw_agreement is None
    one = agreement([(("q", "d1"), "ann", 1, "en"), (("q", "d1"), "bob", 0, "en")]).all
    assert (one.pairs, one.raw_agreement, one.cohen_kappa, one.krippendorff_alpha) == (1, 0.0, None, None)

    empty = agreement([])
    assert isinstance(empty, Agreement) and empty.by_lang == {} and empty.all.pairs == 0


def test_format_agreement_table():
    text = format_agreement(agreement(two_assessors() + [(("x", "d"), "ann", 1, "yo")]))
    lines = text.splitlines()
    assert lines[0].split("  ")[0].strip() == "lang"
    for column in ["overlapping pairs", "assessors", "raw agreement", "Cohen κ", "weighted κ",
                   "Fleiss κ", "Krippendorff α"]:
        assert column in lines[0]
    th = lines[2].split()
    assert th[:5] == ["th", "10", "2", "0.600", "0.459"] and th[5] == "0.835"
    assert lines[3].split() == ["yo", "0", "0"] + ["n/a"] * 5
    assert lines[-1].startswith("all")


def test_model_vs_people_confusion_matrix():
    from sklearn.metrics import cohen_kappa_score

    j = [
        (("q1", "d1"), "ann", 2, "en"), (("q1", "d1"), "bob", 2, "en"), (("q1", "d1"), "llm", 2, "en"),
        (("q1", "d2"), "ann", 1, "en"), (("q1", "d2"), "bob", 3, "en"), (("q1", "d2"), "llm", 3, "en"),  # tie -> 1
        (("q1", "d3"), "ann", 0, "en"), (("q1", "d3"), "llm", 0, "en"),
        (("q2", "d1"), "ann", 3, "en"), (("q2", "d1"), "bob", 3, "en"), (("q2", "d1"), "cat", 1, "en"),
        (("q2", "d1"), "llm", 2, "en"),
        (("q2", "d2"), "ann", 0, "en"), (("q2", "d2"), "bob", 1, "en"), (("q2", "d2"), "cat", 1, "en"),
        (("q2", "d2"), "llm", 1, "en"),
        (("q2", "d3"), "llm", 3, "en"),  # the model alone: not counted
        (("q2", "d4"), "ann", 2, "en"), (("q2", "d4"), "bob", 2, "en"),  # people only: not counted
        (("q9", "d1"), "ann", 1, "de"), (("q9", "d1"), "llm", 0, "de"),
    ]
    out = model_vs_people(j, "llm")
    assert list(out) == ["de", "en", "all"]
    en = out["en"]
    # (people majority, model): (2,2) (1,3) (0,0) (3,2) (1,1); rows people, columns model
    assert en.n == 5 and en.labels == (0, 1, 2, 3)
    assert en.confusion == [[1, 0, 0, 0],
                            [0, 1, 0, 1],
                            [0, 0, 1, 0],
                            [0, 0, 1, 0]]
    # po = 3/5; people 0:1 1:2 2:1 3:1, model 0:1 1:1 2:2 3:1; pe = (1+2+2+1)/25 = 6/25;
    # kappa = (0.6 - 0.24) / 0.76 = 9/19
    assert en.kappa == pytest.approx(9 / 19, abs=1e-9)
    assert en.kappa == pytest.approx(cohen_kappa_score([2, 1, 0, 3, 1], [2, 3, 0, 2, 1]), abs=1e-12)
    assert en.weighted_kappa == pytest.approx(
        cohen_kappa_score([2, 1, 0, 3, 1], [2, 3, 0, 2, 1], weights="quadratic"), abs=1e-12)
    de = out["de"]
    assert (de.n, de.kappa, de.confusion[1]) == (1, None, [1, 0, 0, 0])
    assert out["all"].n == 6 and out["all"].confusion[1] == [1, 1, 0, 1]


def test_model_vs_people_unknown_assessor_and_no_overlap():
    with pytest.raises(BabelirError, match="'gpt'.*ann"):
        model_vs_people(two_assessors(), "gpt")
    only = model_vs_people([(("q", "d1"), "llm", 1, "en"), (("q", "d2"), "ann", 1, "en")], "llm")["en"]
    assert (only.n, only.kappa, only.confusion) == (0, None, [[0, 0], [0, 0]])


Judgment = namedtuple("Judgment", "item assessor grade lang")


def test_records_and_duplicates_are_accepted():
    records = [Judgment(*t) for t in two_assessors()]
    assert agreement(records) == agreement(two_assessors())
    assert agreement(two_assessors() + two_assessors()[:3]) == agreement(two_assessors())  # same grade again


@pytest.mark.parametrize("judgments, message", [
    ([(("q", "d"), "ann", 1)], "missing: lang"),
    ([(("q", "d"), "ann", "2", "en")], '"grade" must be an integer'),
    ([(("q", "d"), "ann", 1.0, "en")], '"grade" must be an integer'),
    ([(["q", "d"], "ann", 1, "en")], "hashable"),
    ([(("q", "d"), "", 1, "en")], '"assessor"'),
    ([(("q", "d"), "ann", 1, "en"), (("q", "d"), "bob", 1, "de")], "judged earlier as 'en'"),
    ([(("q", "d"), "ann", 1, "en"), (("q", "d"), "ann", 0, "en")], "judgment 2 .*twice, with grades 1 and 0"),
])
def test_bad_judgments_are_named(judgments, message):
    with pytest.raises(BabelirError, match=message):
        agreement(judgments)


def test_scale_argument():
    assert agreement(two_assessors(a=[0, 1] * 5, b=[1, 1] * 5), scale="graded").scale == "graded"
    with pytest.raises(BabelirError, match="binary"):
        agreement(two_assessors(), scale="binary")
    with pytest.raises(BabelirError, match="scale must be"):
        agreement(two_assessors(), scale="ordinal")


def test_import_is_cheap():
    import subprocess
    import sys

    code = "import sys, babelir.judge.agreement; print(' '.join(sys.modules))"
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split())
    assert not {m for m in loaded if m.split(".")[0] in {"numpy", "sklearn", "statsmodels", "krippendorff", "scipy"}}
