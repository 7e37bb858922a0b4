"""babelir eval-abstain: NoMIRACL's hallucination and error rates per language, Brier and smECE of p,
the trade-off curve, the plots and the CLI, on small synthetic runs whose numbers are worked by hand."""

from __future__ import annotations

import json
import math

import pytest

from babelir.errors import InputError
from babelir.evaluate.abstention import (Decision, abstention_report, read_abstain_file, report_json,
                                         tradeoff_curve)
from babelir.run import Run
from babelir.types import Qrel
from tests.conftest import cli_in_process, write

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _example():
    """th: 4 queries without an answer (2 marked answerable), 4 with one (3 found in the top 2, 1 of
    them marked not answerable; the unfound one marked not answerable); de: 2 and 2, all right."""
    run, qrels, decisions = {}, [], {}

    def add(qid, lang, has, found, p, answerable):
        run[qid] = {f"{qid}-a": 3.0, f"{qid}-b": 2.0, f"{qid}-c": 1.0}
        if has:  # found: the answer is ranked 2nd (inside k=2); else 3rd (outside)
            qrels.append(Qrel(qid, f"{qid}-b" if found else f"{qid}-c", 1))
        qrels.append(Qrel(qid, f"{qid}-a", 0))  # judged non-relevant: grade 0 is not an answer
        decisions[qid] = Decision(lang, p, answerable, 0.5)

    add("th-n1", "th", False, False, 0.9, True)
    add("th-n2", "th", False, False, 0.6, True)
    add("th-n3", "th", False, False, 0.2, False)
    add("th-n4", "th", False, False, 0.1, False)
    add("th-y1", "th", True, True, 0.8, True)
    add("th-y2", "th", True, True, 0.7, True)
    add("th-y3", "th", True, True, 0.4, False)
    add("th-y4", "th", True, False, 0.3, False)
    add("de-n1", "de", False, False, 0.1, False)
    add("de-n2", "de", False, False, 0.2, False)
    add("de-y1", "de", True, True, 0.9, True)
    add("de-y2", "de", True, True, 0.8, True)
    return Run(run), qrels, decisions


def test_rates_are_the_hand_counted_shares():
    run, qrels, decisions = _example()
    report = abstention_report(run, qrels, decisions, k=2, min_queries=1)
    th = report["th"]
    assert (th["with_answer"], th["without_answer"], th["answerable"]) == (4, 4, 4)
    assert th["hallucination"] == pytest.approx(0.5)  # 2 of the 4 without an answer marked answerable
    assert th["error"] == pytest.approx(0.5)  # th-y3 and th-y4 of the 4 with an answer marked not
    assert th["found_at_k"] == pytest.approx(0.75)  # th-y4's answer is third, outside k=2
    de = report["de"]
    assert (de["hallucination"], de["error"], de["found_at_k"]) == (0.0, 0.0, 1.0)


def test_languages_are_sorted_then_all_pools_every_query():
    run, qrels, decisions = _example()
    report = abstention_report(run, qrels, decisions, k=2, min_queries=1)
    assert list(report) == ["de", "th", "all"]
    everything = report["all"]
    assert (everything["with_answer"], everything["without_answer"]) == (6, 6)
    assert everything["hallucination"] == pytest.approx(2 / 6)
    assert everything["error"] == pytest.approx(2 / 6)
    assert everything["found_at_k"] == pytest.approx(5 / 6)


def test_brier_and_smece_agree_with_sklearn_and_relplot_on_found():
    import numpy as np
    import relplot
    from sklearn.metrics import brier_score_loss

    run, qrels, decisions = _example()
    report = abstention_report(run, qrels, decisions, k=2, min_queries=1)
    th = [q for q in decisions if q.startswith("th-")]
    found = [q in {"th-y1", "th-y2", "th-y3"} for q in th]
    p = [decisions[q].p for q in th]
    assert report["th"]["brier"] == pytest.approx(brier_score_loss(found, p))
    hand = sum((pi - fi) ** 2 for pi, fi in zip(p, found)) / len(p)  # the definition, as a cross-check
    assert report["th"]["brier"] == pytest.approx(hand)
    assert report["th"]["smece"] == pytest.approx(relplot.smECE(np.array(p), np.array(found, dtype=float)))


def test_depth_k_decides_found():
    run, qrels, decisions = _example()
    at1 = abstention_report(run, qrels, decisions, k=1, min_queries=1)
    at3 = abstention_report(run, qrels, decisions, k=3, min_queries=1)
    assert at1["th"]["found_at_k"] == 0.0 and at3["th"]["found_at_k"] == 1.0
    assert at1["th"]["hallucination"] == at3["th"]["hallucination"]  # the rates do not depend on k


def test_a_language_with_no_query_of_one_kind_has_nan_not_zero_and_is_noted():
    run, qrels, decisions = _example()
    only = {q: d for q, d in decisions.items() if q != "de-n1" and q != "de-n2"}
    report = abstention_report(run, qrels, only, k=2)
    assert math.isnan(report["de"]["hallucination"]) and report["de"]["error"] == 0.0
    assert report["de"]["few_queries"] and report["all"]["few_queries"]  # fewer than 10 of a kind
    assert report_json(report)["de"]["hallucination"] is None


def test_a_query_without_results_found_nothing():
    run, qrels, decisions = _example()
    run = Run({q: docs for q, docs in run.items() if q != "th-y1"})
    assert abstention_report(run, qrels, decisions, k=2, min_queries=1)["th"]["found_at_k"] == pytest.approx(0.5)


def test_curve_runs_from_nothing_answerable_to_everything_answerable():
    run, qrels, decisions = _example()
    curve = tradeoff_curve(run, qrels, decisions, k=2)["th"]
    assert curve.thresholds[0] == math.inf and (curve.hallucination[0], curve.error[0]) == (0.0, 1.0)
    assert curve.thresholds[-1] == 0.0 and (curve.hallucination[-1], curve.error[-1]) == (1.0, 0.0)
    assert curve.operating_point == (0.5, 0.5)
    at = dict(zip(curve.thresholds, zip(curve.hallucination, curve.error)))
    assert at[0.6] == (0.5, 0.5)  # p >= .6: th-n1, th-n2, th-y1, th-y2 answerable
    assert at[0.4] == (0.5, 0.25)  # and th-y3
    assert at[0.1] == (1.0, 0.0)
    assert all(a >= b for a, b in zip(curve.thresholds, curve.thresholds[1:]))
    assert all(a <= b for a, b in zip(curve.hallucination, curve.hallucination[1:]))
    assert all(a >= b for a, b in zip(curve.error, curve.error[1:]))


def test_curve_of_a_language_with_one_kind_of_query_is_empty():
    run, qrels, decisions = _example()
    only = {q: d for q, d in decisions.items() if q not in ("de-n1", "de-n2")}
    curve = tradeoff_curve(run, qrels, only, k=2)["de"]
    assert curve.thresholds == [] and (curve.with_answer, curve.without_answer) == (2, 0)


# --- the file and the command ---------------------------------------------------------------------

def _files(tmp_path, queries=None, **top):
    run, qrels, decisions = _example()
    run.to_trec(tmp_path / "run.trec")
    qrels_text = "".join(f"{q.query_id} 0 {q.doc_id} {q.relevance}\n" for q in qrels) + "zz-1 0 x 1\n"
    write(tmp_path / "qrels.trec", qrels_text)
    body = {"format": 1, "k": 2, "pipeline": "bm25", "calibration": "cal.json", "max_hallucination": None,
            "queries": queries if queries is not None else  # fields beyond these ("model") are ignored
            {q: {"lang": d.lang, "model": d.lang, "p": d.p, "answerable": d.answerable, "threshold": d.threshold}
             for q, d in decisions.items()}, **top}
    write(tmp_path / "run.trec.abstain.json", json.dumps(body))
    return tmp_path / "run.trec", tmp_path / "qrels.trec"


def test_the_command_prints_the_table_writes_json_and_valid_pngs(tmp_path, capsys):
    from PIL import Image

    run, qrels = _files(tmp_path)
    code, out, err = cli_in_process(capsys, "eval-abstain", run, "--qrels", qrels, "--plots", tmp_path / "plots",
                                    "--json", tmp_path / "r.json", "--min-queries", "3")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split()[:5] == ["lang", "answer", "no", "answer", "hallucination"]
    assert [line.split()[0] for line in lines[2:5]] == ["de*", "th", "all"]
    assert lines[3].split()[1:5] == ["4", "4", "0.500", "0.500"]
    assert lines[5].startswith("* few queries: de (fewer than 3")
    assert "1 queries of the qrels are not in" in err  # zz-1
    saved = json.loads((tmp_path / "r.json").read_text())
    assert saved["th"]["hallucination"] == 0.5 and saved["all"]["with_answer"] == 6
    for name in ("tradeoff.png", "reliability.png"):
        path = tmp_path / "plots" / name
        assert path.read_bytes()[:8] == PNG_MAGIC and f"wrote {path}" in out
        with Image.open(path) as image:
            image.verify()
            assert image.size[0] > 300 and image.size[1] > 200


def test_the_abstain_option_names_another_file(tmp_path, capsys):
    run, qrels = _files(tmp_path)
    (tmp_path / "run.trec.abstain.json").rename(tmp_path / "elsewhere.json")
    code, out, _ = cli_in_process(capsys, "eval-abstain", run, "--qrels", qrels, "--abstain", tmp_path / "elsewhere.json")
    assert code == 0 and out.startswith("lang")


@pytest.mark.parametrize("queries, top, field, says", [
    (None, {"format": 2}, "format", "format 2 is not supported"),
    (None, {"format": None}, "format", "not supported"),
    (None, {"k": 0}, "k", "whole number"),
    ({"th-n1": {"lang": "th", "p": 1.5, "answerable": True}}, {}, 'queries["th-n1"].p', "got 1.5"),
    ({"th-n1": {"lang": "th", "p": "high", "answerable": True}}, {}, 'queries["th-n1"].p', "got 'high'"),
    ({"th-n1": {"lang": "th", "answerable": True}}, {}, 'queries["th-n1"].p', "missing"),
    ({"th-n1": {"lang": "th", "p": 0.5, "answerable": "yes"}}, {}, 'queries["th-n1"].answerable', "true or false"),
    ({"th-n1": {"p": 0.5, "answerable": True}}, {}, 'queries["th-n1"].lang', "missing"),
    ({}, {}, "queries", "non-empty"),
])
def test_a_bad_abstain_file_names_the_field_and_exits_2(tmp_path, capsys, queries, top, field, says):
    run, qrels = _files(tmp_path, queries, **top)
    code, out, err = cli_in_process(capsys, "eval-abstain", run, "--qrels", qrels)
    assert code == 2 and out == "" and "Traceback" not in err
    assert f'field "{field}"' in err and says in err and "run.trec.abstain.json" in err
    with pytest.raises(InputError) as info:
        read_abstain_file(tmp_path / "run.trec.abstain.json")
    assert info.value.field == field


def test_a_missing_or_broken_abstain_file_is_named(tmp_path, capsys):
    run, qrels = _files(tmp_path)
    write(tmp_path / "run.trec.abstain.json", '{"format": 1, "k": 2,\n "queries": {')
    code, _, err = cli_in_process(capsys, "eval-abstain", run, "--qrels", qrels)
    assert code == 2 and "run.trec.abstain.json:2: not JSON" in err and "Traceback" not in err
    (tmp_path / "run.trec.abstain.json").unlink()
    code, _, err = cli_in_process(capsys, "eval-abstain", run, "--qrels", qrels)
    assert code == 2 and "run.trec.abstain.json: no such abstain file" in err


def test_a_decision_that_disagrees_with_its_threshold_is_noted_not_refused(tmp_path, capsys):
    queries = {"th-n1": {"lang": "th", "p": 0.9, "answerable": False, "threshold": 0.5},
               "th-y1": {"lang": "th", "p": 0.8, "answerable": True, "threshold": 0.5}}
    run, qrels = _files(tmp_path, queries)
    code, out, err = cli_in_process(capsys, "eval-abstain", run, "--qrels", qrels)
    assert code == 0 and "1 decisions of" in err and "first: th-n1" in err
