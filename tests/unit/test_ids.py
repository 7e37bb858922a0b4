"""Ids: one check (babelir.types.id_problem) refuses whitespace, control characters and lone
surrogates in every reader, in Doc / Query / Qrel, in run writing and in the CLI."""

import gzip
import json

import pytest

from babelir.errors import BabelirError, InputError
from babelir.io.corpus import read_corpus
from babelir.io.qrels import read_qrels
from babelir.io.records import BadRecords
from babelir.io.topics import read_topics
from babelir.run import Run
from babelir.types import Doc, Qrel, Query, id_problem
from tests.conftest import run_cli, write

# every kind of character an id may not hold: ASCII and Unicode whitespace, line separators, C0 and C1
# controls, a lone surrogate
BAD_IDS = ["a b", "a\tb", "a\nq1 Q0 forged 1 9 x", "a\rb", "a\x0bb", "a\x0cb", "a\u00a0b", "a\u1680b", "a\u2003b",
           "a\u2028b", "a\u2029b", "a\u202fb", "a\u3000b", "a\x85b", "a\x00b", "a\x01b", "a\x1cb", "a\x7fb", "a\x9fb",
           "a\ud800b", "\udfff", " a", "a ", "", " ",
           # invisible format characters (Cf): zero-width space, direction marks, overrides and isolates,
           # word joiner, BOM, soft hyphen, an Arabic number sign, a tag character
           "a\u200bb", "a\u200eb", "a\u202eb", "\u202eabc", "a\u2066b", "a\u2060b", "\ufeffa", "a\u00adb",
           "\u0600a", "a\U000e0041"]
GOOD_IDS = ["d1", "0012", "a/b", "50%", "what?", "c#1", "ภาษา-1", "文档", "a\u200db", "x" * 300,
            "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", "\u0915\u094d\u200d\u0937", "\U0001f468\u200d\U0001f469"]


@pytest.mark.parametrize("value", BAD_IDS)
def test_the_check_refuses_each_bad_id(value):
    assert id_problem(value) is not None
    with pytest.raises(BabelirError):
        Doc(value, "text")
    with pytest.raises(BabelirError):
        Query(value, "text")
    with pytest.raises(BabelirError):
        Qrel("q1", value, 1)
    with pytest.raises(BabelirError):
        Qrel(value, "d1", 1)


@pytest.mark.parametrize("value", GOOD_IDS)
def test_the_check_accepts_ids_with_any_other_character(value):
    assert id_problem(value) is None and Doc(value, "t").id == value


def test_the_message_names_the_character_and_its_position():
    assert id_problem("ab\u3000c") == "has whitespace (U+3000 at position 2): 'ab\\u3000c'"
    assert id_problem("a\x00") == "has a control character (U+0000 at position 1): 'a\\x00'"
    assert id_problem(7) == "must be a string, got int"
    assert id_problem("a\u200bb") == "has an invisible format character (U+200B at position 1): 'a\\u200bb'"
    assert "U+202E at position 0" in id_problem("\u202edcba")


def _json(record):
    return json.dumps(record, ensure_ascii=True) + "\n"  # lone surrogates as \\ud800 escapes


@pytest.mark.parametrize("bad", ["a b", "a\nb", "a\u3000b", "a\x00b", "a\ud800b"])
@pytest.mark.parametrize("layout", ["jsonl", "jsonl.gz", "beir"])
def test_corpus_readers_refuse_bad_ids_at_their_line(tmp_path, bad, layout):
    text = _json({"id": "ok", "text": "one"}) + _json({"_id": bad, "text": "two"}) + _json({"id": "z", "text": "3"})
    if layout == "beir":
        write(tmp_path / "b" / "corpus.jsonl", text)
        path, named = tmp_path / "b", tmp_path / "b" / "corpus.jsonl"
    else:
        path = named = write(tmp_path / f"c.{layout}", gzip.compress(text.encode()) if layout.endswith("gz") else text)
    with pytest.raises(InputError) as info:
        list(read_corpus(path))
    assert (info.value.line, info.value.field) == (2, "id") and str(named) in str(info.value)
    skipped = BadRecords(skip=True)
    assert [d.id for d in read_corpus(path, skipped)] == ["ok", "z"] and skipped.count == 1


@pytest.mark.parametrize("bad", ["q 1", "q\u00a01", "q\x01", "q\x85"])
def test_topic_readers_refuse_bad_ids(tmp_path, bad):
    tsv = write(tmp_path / "t.tsv", f"q0\tfine\n{bad}\tsome text\n")
    with pytest.raises(InputError) as info:
        read_topics(tsv)
    assert (info.value.line, info.value.field) == (2, "id")
    jsonl = write(tmp_path / "q.jsonl", _json({"_id": "q0", "text": "x"}) + _json({"qid": bad, "text": "y"}))
    with pytest.raises(InputError) as info:
        read_topics(jsonl)
    assert (info.value.line, info.value.field) == (2, "id")


def test_topic_ids_that_are_objects_are_refused(tmp_path):
    with pytest.raises(InputError, match="must be a string or number"):
        read_topics(write(tmp_path / "q.jsonl", _json({"_id": {"a": 1}, "text": "x"})))


@pytest.mark.parametrize("bad", ["d\x00", "d\x01x", "\x7f", "d\u200b\x9f"])
def test_qrels_and_run_readers_refuse_control_characters(tmp_path, bad):
    # whitespace cannot reach an id of a whitespace-separated line: str.split() splits on all of it
    for name, line, field in (("q.trec", f"q1 0 {bad} 1", "doc id"), ("q.tsv", f"q1\t{bad}\t1", "doc id"),
                              ("r.trec", f"{bad} 0 d1 1", "query id")):
        with pytest.raises(InputError) as info:
            read_qrels(write(tmp_path / name, f"q1 0 d0 1\n{line}\n" if name != "q.tsv" else f"q1\td0\t1\n{line}\n"))
        assert (info.value.line, info.value.field) == (2, field)
    with pytest.raises(InputError) as info:
        Run.from_trec(write(tmp_path / "a.run", f"q1 Q0 d0 1 2.0 t\nq1 Q0 {bad} 2 1.0 t\n"))
    assert (info.value.line, info.value.field) == (2, "doc id")


def test_a_run_with_an_id_or_name_that_would_break_a_line_is_not_written(tmp_path):
    # a Run is a plain mapping: ids come from anywhere; the writer refuses what would forge a line
    for run, name in ((Run({"q1": {"d1\nq2 Q0 x 1 99 forged": 1.0}}), None), (Run({"q 1": {"d1": 1.0}}), None),
                      (Run({"q1": {"d1": 1.0}}), "my run")):
        with pytest.raises(BabelirError, match="cannot write a TREC run"):
            run.to_trec(tmp_path / "a.run", name)
    assert not (tmp_path / "a.run").exists()


def test_the_cli_refuses_bad_ids_in_one_line_with_exit_2(tmp_path):
    corpus = write(tmp_path / "c.jsonl", _json({"id": "ok", "text": "hello"}) + _json({"id": "a\u3000b", "text": "x"}))
    result = run_cli("index", corpus, "-o", tmp_path / "ix", "-q")
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().count("\n") == 0 and "c.jsonl:2" in result.stderr and "U+3000" in result.stderr
    skipped = run_cli("index", corpus, "-o", tmp_path / "ix2", "-q", "--skip-bad")
    assert skipped.returncode == 0, skipped.stderr
    assert "skipped 1 bad record," in skipped.stdout + skipped.stderr
    topics = write(tmp_path / "t.tsv", "q\x01\thello\n")
    result = run_cli("search", tmp_path / "ix2", "--topics", topics, "-o", tmp_path / "a.run")
    assert result.returncode == 2 and "t.tsv:1" in result.stderr and result.stderr.strip().count("\n") == 0


def test_xquadr_question_ids_are_checked_too(tmp_path):
    from babelir.io.xquadr import load_language

    qa = {"id": "56be 85", "question": "Who?", "answers": [{"answer_start": 0, "text": "A"}]}
    paragraph = {"context": "A b.", "sentences": ["A b."], "sentence_breaks": [[0, 4]], "qas": [qa]}
    write(tmp_path / "en.json", json.dumps({"data": [{"title": "T", "paragraphs": [paragraph]}]}))
    with pytest.raises(InputError, match=r"en.json: field \"data\[0\].paragraphs\[0\].qas\[0\]\": has whitespace"):
        load_language(tmp_path, "en")
    write(tmp_path / "en.json", "[" * 100_000)
    with pytest.raises(InputError, match="nested too deeply"):
        load_language(tmp_path, "en")
