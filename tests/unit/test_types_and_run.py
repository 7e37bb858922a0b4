import pytest

from babelir.errors import BabelirError, InputError
from babelir.run import Run
from babelir.types import normalize_lang
from tests.conftest import write


@pytest.mark.parametrize("given,expected", [
    ("th", "th"), ("tha", "th"), ("cmn", "zh"), ("swh", "sw"), ("zh-Hans", "zh"), ("pt_BR", "pt"),
    ("EN", "en"), ("yor", "yo"), ("hau", "ha"), ("fil", "tl"), ("ckb", "ckb"), (None, None), ("", None),
])
def test_normalize_lang(given, expected):
    assert normalize_lang(given) == expected


def test_normalize_lang_rejects_non_codes():
    with pytest.raises(BabelirError):
        normalize_lang("english language")


def test_run_roundtrip_keeps_string_ids(tmp_path):
    run = Run({"0012": {"007": 2.5, "7": 1.0}, "q2": {"d": 0.5}})
    path = tmp_path / "a.run"
    run.to_trec(path)
    lines = path.read_text().splitlines()
    assert lines[0] == "0012 Q0 007 1 2.5 babelir"
    back = Run.from_trec(path)
    assert list(back) == ["0012", "q2"]
    assert back.ranking("0012") == [("007", 2.5), ("7", 1.0)]


def test_run_ties_break_on_doc_id_descending_like_trec_eval():
    assert [d for d, _ in Run({"q": {"a": 1.0, "c": 1.0, "b": 2.0}}).ranking("q")] == ["b", "c", "a"]


def test_run_cutoff():
    assert Run({"q": {"a": 1.0, "b": 3.0, "c": 2.0}}).cutoff(2)["q"] == {"b": 3.0, "c": 2.0}


def test_run_bad_line_names_file_and_line(tmp_path):
    path = write(tmp_path / "bad.run", "q1 Q0 d1 1 1.0 x\nq1 Q0 d2 2 oops x\n")
    with pytest.raises(InputError) as info:
        Run.from_trec(path)
    assert info.value.line == 2 and info.value.field == "score" and "bad.run:2" in str(info.value)
