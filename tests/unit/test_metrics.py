"""Evaluation against hand-checked values (inline TREC text), trec_eval -c semantics."""

import re

import pytest

from babelir.errors import BabelirError
from babelir.evaluate.metrics import evaluate, query_languages
from babelir.io.qrels import read_qrels
from babelir.run import Run
from babelir.types import Query
from tests.conftest import write

QRELS = """\
en-1 0 d1 1
en-1 0 d2 2
th-2 0 d3 1
th-3 0 d9 1
"""
RUN = """\
en-1 Q0 d2 1 3.0 t
en-1 Q0 d9 2 2.0 t
en-1 Q0 d1 3 1.0 t
th-2 Q0 dX 1 2.0 t
th-2 Q0 d3 2 1.0 t
zz-9 Q0 d1 1 1.0 t
"""
# Hand-checked (gain = relevance, discount = log2(rank + 1)):
#   en-1: DCG = 2 + 1/log2(4) = 2.5, IDCG = 2 + 1/log2(3) = 2.6309298 -> nDCG 0.9502344
#         AP = (1/1 + 2/3) / 2 = 0.8333333, RR = 1
#   th-2: nDCG = (1/log2(3)) / 1 = 0.6309298, AP = 0.5, RR = 0.5
#   th-3: not in the run -> 0 for every measure (trec_eval -c); zz-9 has no qrels -> ignored
EXPECTED = {
    "nDCG@10": (0.9502344 + 0.6309298 + 0) / 3,
    "AP": (0.8333333 + 0.5 + 0) / 3,
    "RR@10": (1 + 0.5 + 0) / 3,
    "R@100": (1 + 1 + 0) / 3,
    "P@1": (1 + 0 + 0) / 3,
}


@pytest.fixture
def files(tmp_path):
    return write(tmp_path / "qrels", QRELS), write(tmp_path / "run", RUN)


def test_hand_checked_values(files):
    qrels, run = files
    result = evaluate(Run.from_trec(run), read_qrels(qrels), list(EXPECTED))
    for measure, value in EXPECTED.items():
        assert result.all[measure] == pytest.approx(value, abs=1e-6), measure


def test_by_language_from_query_id_prefix(files):
    qrels, run = files
    qrel_list = read_qrels(qrels)
    result = evaluate(Run.from_trec(run), qrel_list, ["RR@10"], query_languages({q.query_id for q in qrel_list}))
    assert result.counts == {"en": 1, "th": 2}
    assert result.by_lang["en"]["RR@10"] == pytest.approx(1.0)
    assert result.by_lang["th"]["RR@10"] == pytest.approx(0.25)


def test_topic_languages_win_over_the_prefix():
    langs = query_languages(["en-1", "q7", "xx1-2"], [Query("en-1", "x", "th")])
    assert langs == {"en-1": "th", "q7": "und", "xx1-2": "und"}


def test_evaluate_does_not_mutate_its_input(files):
    qrels, run_path = files
    run = Run.from_trec(run_path)
    before = {q: dict(run[q]) for q in run}
    evaluate(run, read_qrels(qrels), ["nDCG@10"])
    assert {q: dict(run[q]) for q in run} == before


def test_unknown_measure_is_a_user_error(files):
    qrels, run = files
    with pytest.raises(BabelirError, match="unknown measure"):
        evaluate(Run.from_trec(run), read_qrels(qrels), ["nDGC@10"])


@pytest.mark.parametrize("name", ["P@99999999999999999999", "nDCG@2147483648", "RR@99999999999999999999",
                                  "R@9223372036854775808", "Judged@2147483648"])
def test_a_cutoff_beyond_a_c_int_is_too_large_not_a_traceback(files, name):
    qrels, run = files
    with pytest.raises(BabelirError, match="cutoff too large") as info:
        evaluate(Run.from_trec(run), read_qrels(qrels), [name])
    assert name in str(info.value)


def test_a_rel_level_beyond_a_c_int_is_refused(files):
    qrels, run = files
    with pytest.raises(BabelirError, match="rel out of range"):
        evaluate(Run.from_trec(run), read_qrels(qrels), ["P(rel=99999999999999999999)@5"])


def test_the_largest_cutoff_still_evaluates(files):
    qrels, run = files
    assert evaluate(Run.from_trec(run), read_qrels(qrels), ["P@2147483647"]).all["P@2147483647"] > 0


@pytest.mark.parametrize("name, message", [
    ("P@1.5", "cutoff must be a whole number"), ("nDCG@1e3", "cutoff must be a whole number"),
    ("P@True", "cutoff must be a whole number"), ("AP(rel=1.5)", "rel must be a whole number"),
    ("nDCG(gains={1:2.5})@5", "gains must map whole-number"), ("nDCG(gains={0:0,1:1e400})@10", "gains must map"),
    ("nDCG(gains={0.5:1})@10", "gains must map"), ("RBP(p=1)", "invalid param p=1"),
    ("nDCG(foo=1)@10", "unsupported params"), ("RBP(p=0.8)", "no installed ir_measures provider"),
    ("NumRel(rel=2)", "no installed ir_measures provider"),
    ("nDCG(gains={0:0,1:4294967296})@10", "gain out of range"),
    ("nDCG(gains={0:0,1:-2147483649})@10", "gain out of range"),
    ("nDCG(gains={4294967296:1})@10", "grade 4294967296 out of range"),
    ("AP(rel=-2147483649)", "rel out of range"), ("AP(rel=2147483648)", "rel out of range"),
    ("AP(rel=0)", "rel out of range"), ("P@-1", "cutoff must be 1 or more"),
    ("P(rel=2)@0x10", "plain decimal, not '0x10'"), ("P@0o17", "plain decimal"), ("P@1_0", "plain decimal"),
])
def test_a_bad_measure_parameter_is_one_line_naming_the_measure(files, name, message):
    qrels, run = files
    with pytest.raises(BabelirError, match=re.escape(message)) as info:
        evaluate(Run.from_trec(run), read_qrels(qrels), [name])
    assert name in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("name", ["nDCG(gains={0:0,1:-1})@10", "nDCG(gains={0:0,1:1,2:3})@10", "AP(rel=+2)",
                                  "nDCG(gains={0:0,1:2147483647})@10", "ERR@10"])
def test_in_range_parameters_still_evaluate(files, name):
    qrels, run = files
    assert name in evaluate(Run.from_trec(run), read_qrels(qrels), [name]).all
