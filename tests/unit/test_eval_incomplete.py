"""Evaluation with incomplete judgments: Judged@k, bpref and condensed lists (Sakai 2007), against
hand-checked values (inline TREC text); every query in the qrels still counts (trec_eval -c)."""

import json
from math import log2

import pytest

from babelir.errors import BabelirError
from babelir.evaluate.metrics import condensed_run, evaluate, parse_measures, per_query_values
from babelir.io.qrels import read_qrels
from babelir.run import Run
from babelir.types import Qrel
from tests.conftest import cli_in_process as cli, write

QRELS = """\
en-1 0 d1 1
en-1 0 d2 2
en-1 0 d3 0
en-1 0 d4 0
en-1 0 d5 0
en-2 0 d8 1
th-3 0 d1 1
th-3 0 d9 0
"""
# en-1: ten documents, five judged (u* are unjudged); en-2 is not in the run; zz-9 has no qrels.
RUN = """\
en-1 Q0 u1 1 10 r
en-1 Q0 d3 2 9 r
en-1 Q0 d1 3 8 r
en-1 Q0 u2 4 7 r
en-1 Q0 d4 5 6 r
en-1 Q0 d2 6 5 r
en-1 Q0 u3 7 4 r
en-1 Q0 d5 8 3 r
en-1 Q0 u4 9 2 r
en-1 Q0 u5 10 1 r
th-3 Q0 d9 1 2 r
th-3 Q0 d1 2 1 r
zz-9 Q0 d1 1 1 r
"""
# Hand-checked:
#   Judged@10 (judged share of the top 10, of those retrieved when fewer; ir_measures):
#     en-1: d3 d1 d4 d2 d5 of 10 = 0.5; en-2: not in the run -> 0; th-3: 2 of 2 retrieved = 1.0
#   bpref (Buckley & Voorhees 2004 as trec_eval computes it), R relevant, N judged non-relevant:
#     sum over relevant retrieved r of 1 - min(#non-relevant above r, R) / min(R, N), divided by R
#     en-1: R=2, N=3: d1 (d3 above) 1 - 1/2, d2 (d3, d4 above) 1 - 2/2 -> (0.5 + 0) / 2 = 0.25
#     en-2: 0 (not in the run); th-3: R=1, N=1: d1 (d9 above) 1 - 1/1 = 0
#   nDCG@10 (gain = grade, discount log2(rank + 1)); IDCG of en-1 = 2 + 1/log2(3):
#     en-1 full:      d1 at 3, d2 at 6: (1/log2(4) + 2/log2(7)) / IDCG
#     en-1 condensed: d3 d1 d4 d2 d5, d1 at 2, d2 at 4: (1/log2(3) + 2/log2(5)) / IDCG
#     th-3 (nothing unjudged): d1 at 2: 1/log2(3)
#   AP: en-1 full (1/3 + 2/6) / 2 = 1/3; condensed (1/2 + 2/4) / 2 = 0.5; th-3: 1/2
IDCG = 2 + 1 / log2(3)
NDCG_FULL = {"en-1": (1 / log2(4) + 2 / log2(7)) / IDCG, "en-2": 0.0, "th-3": 1 / log2(3)}
NDCG_CONDENSED = {"en-1": (1 / log2(3) + 2 / log2(5)) / IDCG, "en-2": 0.0, "th-3": 1 / log2(3)}
AP_FULL = {"en-1": 1 / 3, "en-2": 0.0, "th-3": 0.5}
AP_CONDENSED = {"en-1": 0.5, "en-2": 0.0, "th-3": 0.5}
JUDGED = {"en-1": 0.5, "en-2": 0.0, "th-3": 1.0}
BPREF = {"en-1": 0.25, "en-2": 0.0, "th-3": 0.0}


@pytest.fixture
def files(tmp_path):
    return write(tmp_path / "q.trec", QRELS), write(tmp_path / "r.trec", RUN)


@pytest.fixture
def loaded(files):
    return Run.from_trec(files[1]), read_qrels(files[0])


def approx(values: dict) -> dict:
    return {q: pytest.approx(v, abs=1e-12) for q, v in values.items()}


def test_judged_at_10_per_query_and_mean_over_every_qrels_query(loaded):
    run, qrels = loaded
    assert per_query_values(run, qrels, ["Judged@10"])["Judged@10"] == approx(JUDGED)
    result = evaluate(run, qrels, ["nDCG@10"], judged=10)
    assert result.measures == ["nDCG@10"]  # the judged share is not a column
    assert set(result.per_query) == {"nDCG@10"}
    assert result.judged.measure == "Judged@10"
    assert result.judged.all == pytest.approx((0.5 + 0 + 1) / 3, abs=1e-12)
    assert evaluate(run, qrels, ["nDCG@10"]).judged is None


def test_judged_by_language(loaded):
    run, qrels = loaded
    result = evaluate(run, qrels, ["AP"], {"en-1": "en", "en-2": "en", "th-3": "th"}, judged=10)
    assert result.judged.by_lang == {"en": pytest.approx(0.25, abs=1e-12), "th": pytest.approx(1.0, abs=1e-12)}
    assert result.to_json()["judged"] == {"measure": "Judged@10", "all": pytest.approx(0.5, abs=1e-12),
                                          "by_lang": result.judged.by_lang}
    shallow = evaluate(run, qrels, ["AP"], judged=2)  # en-1's top 2: u1 d3
    assert shallow.judged.measure == "Judged@2"
    assert shallow.judged.all == pytest.approx((0.5 + 0 + 1) / 3, abs=1e-12)
    deep = evaluate(run, qrels, ["AP"], judged=3)  # en-1's top 3: u1 d3 d1
    assert deep.judged.all == pytest.approx((2 / 3 + 0 + 1) / 3, abs=1e-12)


def test_bpref_as_trec_eval_computes_it(loaded):
    run, qrels = loaded
    assert per_query_values(run, qrels, ["Bpref"])["Bpref"] == approx(BPREF)
    assert evaluate(run, qrels, ["Bpref"]).all["Bpref"] == pytest.approx(0.25 / 3, abs=1e-12)


def test_condensed_ndcg_and_ap_hand_checked(loaded):
    run, qrels = loaded
    result = evaluate(run, qrels, ["nDCG@10", "AP"], condensed=True)
    assert result.measures == ["nDCG@10", "nDCG@10 (condensed)", "AP", "AP (condensed)"]
    assert result.per_query["nDCG@10"] == approx(NDCG_FULL)
    assert result.per_query["nDCG@10 (condensed)"] == approx(NDCG_CONDENSED)
    assert result.per_query["AP"] == approx(AP_FULL)
    assert result.per_query["AP (condensed)"] == approx(AP_CONDENSED)
    assert result.all["AP (condensed)"] == pytest.approx(1 / 3, abs=1e-12)
    assert result.all["nDCG@10 (condensed)"] == pytest.approx(sum(NDCG_CONDENSED.values()) / 3, abs=1e-12)


@pytest.mark.parametrize("measure,judged_only", [("nDCG@10", "nDCG(judged_only=True)@10"),
                                                 ("AP", "AP(judged_only=True)"),
                                                 ("nDCG", "nDCG(judged_only=True)"),
                                                 ("P@5", "P(judged_only=True)@5"),
                                                 ("R@3", "R(judged_only=True)@3"),
                                                 ("AP(rel=2)", "AP(rel=2, judged_only=True)")])
def test_condensed_equals_pytrec_evals_judged_only(loaded, measure, judged_only):
    """Filtering the run and asking ir_measures gives pytrec_eval's judged_only (trec_eval -J), also
    for a document judged with a negative grade (left out by both) and a query whose retrieved
    documents are all unjudged (0)."""
    run, qrels = loaded
    scores = {q: dict(run[q]) for q in run}
    scores["th-4"] = {"u7": 2.0, "u8": 1.0}  # nothing judged retrieved
    scores["th-5"] = {"d6": 3.0, "d7": 2.0, "d1": 1.0}  # d6 judged -1, d7 unjudged
    run = Run(scores)
    qrels = qrels + [Qrel("th-4", "d1", 1), Qrel("th-5", "d6", -1), Qrel("th-5", "d1", 1)]
    result = evaluate(run, qrels, [measure, judged_only], condensed=True)
    assert result.per_query[measure + " (condensed)"] == approx(result.per_query[judged_only])
    assert result.per_query[judged_only + " (condensed)"] == approx(result.per_query[judged_only])
    assert set(result.per_query[judged_only]) == {"en-1", "en-2", "th-3", "th-4", "th-5"}
    assert result.per_query[judged_only]["th-4"] == 0.0 and result.per_query[judged_only]["en-2"] == 0.0
    if measure != "R@3":  # en-1's condensed top 3 holds one of two relevant documents: R@3 = 0.5 both ways
        assert result.per_query[measure + " (condensed)"] != approx(result.per_query[measure])


def test_condensed_run_keeps_order_drops_unjudged_and_negative_grades(loaded):
    run, qrels = loaded
    before = {q: dict(run[q]) for q in run}
    condensed = condensed_run(run, qrels + [Qrel("en-1", "u1", -1)])
    assert [d for d, _ in condensed.ranking("en-1")] == ["d3", "d1", "d4", "d2", "d5"]
    assert [d for d, _ in condensed.ranking("th-3")] == ["d9", "d1"]
    assert set(condensed) == {"en-1", "th-3"}  # zz-9 has no qrels: nothing judged is left
    assert {q: dict(run[q]) for q in run} == before


def test_judged_only_bpref_and_judged_parse(loaded):
    run, qrels = loaded
    parsed = parse_measures(["nDCG(judged_only=True)@10", "Bpref", "Judged@10", "AP(judged_only=True)"])
    assert [m.params for m in parsed] == [{"judged_only": True, "cutoff": 10}, {}, {"cutoff": 10},
                                          {"judged_only": True}]
    result = evaluate(run, qrels, ["nDCG(judged_only=True)@10", "Bpref"])
    assert result.per_query["nDCG(judged_only=True)@10"] == approx(NDCG_CONDENSED)
    with pytest.raises(BabelirError, match="unknown measure"):
        parse_measures(["nDCG(judged_only=true)@10"])
    with pytest.raises(BabelirError, match="no installed ir_measures provider"):
        parse_measures(["RR(judged_only=True)@10"])


def test_two_names_of_one_measure_both_get_its_values(loaded):
    """Judged@10 asked with -m and by the judged line, or nDCG@10 written twice, is computed once."""
    run, qrels = loaded
    result = evaluate(run, qrels, ["Judged@10", "nDCG@10", "NDCG@10"], judged=10)
    assert result.per_query["Judged@10"] == approx(JUDGED)
    assert result.per_query["NDCG@10"] == approx(NDCG_FULL) and result.per_query["nDCG@10"] == approx(NDCG_FULL)
    assert result.judged.all == pytest.approx(0.5, abs=1e-12)




def test_cli_default_table_keeps_its_columns_and_adds_the_judged_line(capsys, files):
    code, out, err = cli(capsys, "eval", *files)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["lang", "queries", "nDCG@10", "R@100", "RR@10", "AP"]
    assert lines[2].split()[:3] == ["all", "3", f"{sum(NDCG_FULL.values()) / 3:.4f}"]
    assert lines[3] == "Judged@10: 0.5000 (share of the top 10 that the qrels judge)"
    assert len(lines) == 4
    code, out, _ = cli(capsys, "eval", *files, "--no-judged")
    assert code == 0 and "Judged" not in out and len(out.splitlines()) == 3
    code, out, _ = cli(capsys, "eval", *files, "--judged", "3", "--by-lang")
    assert out.splitlines()[-1] == "Judged@3: 0.5556 (share of the top 3 that the qrels judge; en 0.3333, th 1.0000)"


def test_cli_condensed_columns_and_json(capsys, files):
    code, out, err = cli(capsys, "eval", *files, "-m", "nDCG@10", "-m", "Bpref", "--condensed")
    assert code == 0, err
    header, _, row, judged = out.splitlines()
    assert [c.strip() for c in header.split("  ") if c.strip()] == [
        "lang", "queries", "nDCG@10", "nDCG@10 (condensed)", "Bpref", "Bpref (condensed)"]
    assert row.split() == ["all", "3", f"{sum(NDCG_FULL.values()) / 3:.4f}",
                           f"{sum(NDCG_CONDENSED.values()) / 3:.4f}", "0.0833", "0.0833"]
    assert judged.startswith("Judged@10: 0.5000")
    code, out, err = cli(capsys, "eval", *files, "-m", "nDCG(judged_only=True)@10", "-m", "AP", "--condensed", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["all"]["nDCG(judged_only=True)@10"] == pytest.approx(sum(NDCG_CONDENSED.values()) / 3, abs=1e-12)
    assert data["all"]["AP (condensed)"] == pytest.approx(1 / 3, abs=1e-12)
    assert data["all"]["AP"] == pytest.approx(sum(AP_FULL.values()) / 3, abs=1e-12)
    assert data["judged"] == {"measure": "Judged@10", "all": pytest.approx(0.5, abs=1e-12)}
    assert data["queries"] == 3
    code, out, _ = cli(capsys, "eval", *files, "--no-judged", "--json")
    assert "judged" not in json.loads(out)


@pytest.mark.parametrize("args,match", [(["--judged", "0"], "--judged: must be 1 or more"),
                                        (["--judged", "2147483648"], "cutoff too large"),
                                        (["-m", "RR(judged_only=True)@10", "--condensed"],
                                         "no installed ir_measures provider")])
def test_cli_refusals_are_one_line_exit_2(capsys, files, args, match):
    code, out, err = cli(capsys, "eval", *files, *args)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and match in err, err


def test_cli_notes_when_the_qrels_judge_no_document_non_relevant(capsys, tmp_path, files):
    """Qrels that list only the answers (XQuAD-R) make every condensed list and bpref a recall."""
    write(tmp_path / "answers.trec", "en-1 0 d1 1\nen-1 0 d2 2\n")
    for args in (["--condensed"], ["-m", "Bpref"], ["-m", "AP(judged_only=True)"]):
        code, out, err = cli(capsys, "eval", tmp_path / "answers.trec", files[1], *args)
        assert code == 0 and "judge no document non-relevant" in err, (args, err)
        assert "Judged@10: 0.2000" in out
    code, _, err = cli(capsys, "eval", tmp_path / "answers.trec", files[1])
    assert code == 0 and err == ""
    code, _, err = cli(capsys, "eval", *files, "--condensed")
    assert code == 0 and err == ""
