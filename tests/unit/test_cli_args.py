"""Command-line arguments: numbers, outputs, languages, non-UTF-8 bytes, queries that begin with
'-', settings an existing index does not take (issue 18, items 8 and 16). Every refusal is one
line on stderr and exit 2, never a traceback."""

import json

import pytest

from tests.conftest import cli_in_process as cli, write




def refused(capsys, *args, match: str) -> str:
    code, _, err = cli(capsys, *args)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert match in err, err
    return err


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    from babelir.index.build import build_index

    folder = tmp_path_factory.mktemp("cli")
    docs = [{"id": "a", "text": "the -adapter plugs into the socket", "lang": "en"},
            {"id": "b", "text": "a cable and a socket", "lang": "en"},
            {"id": "c", "text": "an adapter for travel", "lang": "en"}]
    corpus = write(folder / "c.jsonl", "".join(json.dumps(d) + "\n" for d in docs))
    build_index(corpus, folder / "ix", quiet=True)
    write(folder / "topics.tsv", "q1\tsocket\n")
    return folder


@pytest.mark.parametrize("args", [["search", "IX", "--query", "socket", "--k", "0"],
                                  ["search", "IX", "--query", "socket", "--k", "-3"],
                                  ["search", "IX", "--query", "socket", "--k", "ten"],
                                  ["index", "CORPUS", "-o", "NEW", "--batch-size", "0"],
                                  ["index", "CORPUS", "-o", "NEW", "--subword-vocab", "-1"],
                                  ["tune", "IX", "--topics", "T", "--qrels", "Q", "--depth", "0"],
                                  ["compare", "Q", "A", "B", "--resamples", "0"],
                                  ["serve", "--index", "x=IX", "--port", "70000"],
                                  ["search", "IX", "--query", "socket", "--b", "1.5"],
                                  ["search", "IX", "--query", "socket", "--k1", "nan"]])
def test_numbers_out_of_range_are_usage_errors(capsys, index_dir, args):
    args = [{"IX": index_dir / "ix", "CORPUS": index_dir / "c.jsonl", "NEW": index_dir / "new"}.get(a, a)
            for a in args]
    refused(capsys, *args, match="argument --")
    assert not (index_dir / "new").exists()


def test_output_rules_are_the_same_for_every_command(capsys, index_dir, tmp_path):
    ix, topics = index_dir / "ix", index_dir / "topics.tsv"
    refused(capsys, "search", ix, "--topics", topics, "-o", tmp_path, match="is a directory")
    refused(capsys, "search", ix, "--topics", topics, "-o", f"{tmp_path}/", match="is a directory")
    a_file = write(tmp_path / "taken", "x")
    for args in (["index", index_dir / "c.jsonl", "-o", a_file], ["datasets", "xquad-r", "SRC", "-o", a_file],
                 ["analyze", "semantic-tokens", "hf:M", "-o", a_file], ["model", "export-e5", "-o", a_file],
                 ["quickstart", "-o", a_file]):
        refused(capsys, *args, match="exists and is not a directory")
    assert a_file.read_text() == "x"
    code, _, err = cli(capsys, "search", ix, "--topics", topics, "-o", a_file)  # a file output replaces a file
    assert code == 0 and a_file.read_text().startswith("q1 Q0 "), err
    deep = tmp_path / "new" / "deeper" / "run.txt"  # missing parents are created
    assert cli(capsys, "search", ix, "--topics", topics, "-o", deep)[0] == 0 and deep.exists()


def test_an_unwritable_output_names_the_users_path_not_a_temporary_file(capsys, index_dir):
    err = refused(capsys, "search", index_dir / "ix", "--topics", index_dir / "topics.tsv", "-o", "/proc/x",
                  match="/proc/x")
    assert ".tmp" not in err
    err = refused(capsys, "search", index_dir / "ix", "--topics", index_dir / "topics.tsv", "-o",
                  "/proc/self/status/run.txt", match="/proc/self/status: not a directory")  # the file in the way
    assert ".tmp" not in err


@pytest.mark.parametrize("args", [["analyze", "caf\udcc3"],  # é cut after its first byte
                                  ["analyze", "--lang", "th", "\udce0\udcb8"],
                                  ["search", "IX", "--query", "na\udcefve"],
                                  ["index", "c\udcff.jsonl", "-o", "NEW"]])
def test_an_argument_that_is_not_utf8_is_named(capsys, index_dir, args):
    args = [{"IX": index_dir / "ix", "NEW": index_dir / "new"}.get(a, a) for a in args]
    err = refused(capsys, *args, match="is not valid UTF-8")
    position = next(i for i, a in enumerate(args, 1) if any(0xDC80 <= ord(c) <= 0xDCFF for c in str(a)))
    assert f"argument {position} " in err and "\\x" in err  # the bytes, as they were given


@pytest.mark.parametrize("query, expected", [("-adapter", "a"), ("--socket", "b"), ("-", None)])
def test_a_query_that_begins_with_a_dash_is_the_query(capsys, index_dir, query, expected):
    for args in (["--query", query], [f"--query={query}"]):
        code, out, err = cli(capsys, "search", index_dir / "ix", *args, "--k", "1")
        if expected is None:  # nothing searchable in it: a one-line error, not an option error
            assert code == 2 and "expected one argument" not in err, err
            continue
        assert code == 0, err
        assert out.split()[1] == expected, out


def test_a_real_option_after_query_is_still_an_option_with_a_hint(capsys, index_dir):
    refused(capsys, "search", index_dir / "ix", "--query", "--k", "3", match="--query=-adapter")


def test_argtypes_knows_every_option_of_search():
    """argtypes lists babelir search's option strings itself (it imports no command module): the
    list must be the parser's, or a new option after --query would be read as the query."""
    from babelir.cli import search_cmd
    from babelir.cli.argtypes import SEARCH_OPTIONS, check_argv

    assert SEARCH_OPTIONS == search_cmd.option_names()
    assert check_argv(["search", "ix", "--query", "--pipeline", "bm25"]) == ["search", "ix", "--query", "--pipeline", "bm25"]
    assert check_argv(["search", "ix", "--query", "--pipelines"]) == ["search", "ix", "--query=--pipelines"]


@pytest.mark.parametrize("value", ["", "  ", "xx1"])
def test_a_blank_or_unknown_language_is_refused(capsys, index_dir, value):
    refused(capsys, "index", index_dir / "c.jsonl", "-o", index_dir / "new", "--lang", value, match="--lang")
    refused(capsys, "search", index_dir / "ix", "--query", "socket", "--lang", value, match="--lang")
    assert not (index_dir / "new").exists()


def test_a_file_given_as_index_says_so(capsys, index_dir):
    refused(capsys, "search", index_dir / "c.jsonl", "--query", "socket", match="not a directory")
    refused(capsys, "search", index_dir / "nothing", "--query", "socket", match="no such index directory")


@pytest.mark.parametrize("option", [["--k1", "1.2"], ["--b", "0.75"], ["--no-pieces"], ["--stopwords"],
                                    ["--analyzer", "script-aware"], ["--segmenter", "th=icu"]])
def test_settings_an_existing_index_was_not_built_with_are_refused(capsys, index_dir, option):
    refused(capsys, "index", index_dir / "c.jsonl", "-o", index_dir / "ix", *option, match="the index was built with")


def test_settings_equal_to_the_stored_ones_are_accepted(capsys, index_dir):
    code, out, err = cli(capsys, "index", index_dir / "c.jsonl", "-o", index_dir / "ix", "--k1", "0.9",
                         "--analyzer", "language-aware", "-q")
    assert code == 0, err
    assert "indexed 0 documents" in out and "(extended)" in out and "3 documents were already in the index" in out


@pytest.mark.parametrize("args", [("index", "nofile\x1b[31mRED", "-o", "x"),
                                  ("search", "INDEX", "--query", "x", "--mode", "a\x1b[2J"),
                                  ("eval", "q\u202erels", "run")])
def test_an_error_prints_what_the_user_gave_escaped(capsys, index_dir, tmp_path, args):
    """A second trial: a path holding ESC[31m was echoed raw to the terminal in the error line."""
    args = [str(index_dir) if a == "INDEX" else str(tmp_path / a) if a == "x" else a for a in args]
    code, _, err = cli(capsys, *args)
    assert code == 2 and "\x1b" not in err and "\u202e" not in err and len(err.strip().splitlines()) == 1
    assert "\\x1b" in err or "\\u202e" in err


def test_search_on_an_index_without_documents_says_so(capsys, tmp_path):
    """A fresh user's trial: a first run killed before its first commit left an index that every
    search answered "no match", exit 0."""
    from babelir.index.core import Index

    Index.create(tmp_path / "ix").close()
    refused(capsys, "search", tmp_path / "ix", "--query", "hello", match="holds no documents yet")


def test_eval_by_lang_says_when_no_query_has_a_language(capsys, tmp_path):
    write(tmp_path / "q.trec", "q-en-1 0 d1 1\n")  # "q-…" is no language prefix
    write(tmp_path / "r.trec", "q-en-1 Q0 d1 1 1.0 r\n")
    code, out, err = cli(capsys, "eval", tmp_path / "q.trec", tmp_path / "r.trec", "--by-lang")
    assert code == 0 and "no query has a language" in err and "und" in out
    write(tmp_path / "q.trec", "en-1 0 d1 1\n")
    write(tmp_path / "r.trec", "en-1 Q0 d1 1 1.0 r\n")
    code, _, err = cli(capsys, "eval", tmp_path / "q.trec", tmp_path / "r.trec", "--by-lang")
    assert code == 0 and "no query has a language" not in err


def test_the_summary_says_vectors_were_encoded_for_the_documents_added(tmp_path):
    """A fresh user's trial: extending a dense index said "every document already had one" while
    it had just encoded vectors for every document added."""
    from babelir.index.build import BuildSummary

    lines = BuildSummary(tmp_path, added=370, encoded={"dense": 0}).lines()
    assert "dense vectors: encoded for the 370 documents added" in lines and not any("already had" in x for x in lines)
    assert "dense vectors: every document already had one" in BuildSummary(tmp_path, encoded={"dense": 0}).lines()
    both = BuildSummary(tmp_path, added=5, encoded={"dense": 50}).lines()
    assert "added dense vectors to 50 documents already in the index" in both


def test_ctrl_c_inside_a_finaliser_is_sent_again_not_lost(monkeypatch):
    """A second trial: a Ctrl-C that landed in a weakref callback near a build's end was printed as
    "Exception ignored" and the build finished (exit 0)."""
    import os
    import signal
    import sys
    import time

    from babelir import cli as cli_module

    sent = []
    monkeypatch.setattr(os, "kill", lambda pid, sig: sent.append((pid, sig)))
    outcome = []

    class Doomed:
        def __del__(self):
            outcome.append(cli_module._on_interrupt(signal.SIGINT, sys._getframe()))

    doomed = Doomed()
    del doomed
    deadline = time.monotonic() + 5
    while not sent and time.monotonic() < deadline:
        time.sleep(0.02)
    assert outcome == [None] and sent == [(os.getpid(), signal.SIGINT)]  # not raised there: sent again
    with pytest.raises(KeyboardInterrupt):  # anywhere else: raised, as Python's default does
        cli_module._on_interrupt(signal.SIGINT, sys._getframe())
