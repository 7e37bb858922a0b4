"""Faults every reader must turn into a one-line InputError naming the file (and line and field),
or under --skip-bad into a counted skip of that record only: lone surrogates, JSON nested too deep,
truncated or corrupt gzip, unreadable files."""

import errno
import gzip
import json
import os

import pytest

from babelir.errors import InputError
from babelir.io.corpus import read_corpus
from babelir.io.qrels import read_qrels
from babelir.io.records import BadRecords
from babelir.io.topics import read_topics
from babelir.run import Run
from tests.conftest import run_cli, write


def _line(record):
    return json.dumps(record, ensure_ascii=True) + "\n"  # a lone surrogate is written as the escape \ud800


GOOD = [_line({"id": f"g{i}", "text": f"good text {i}"}) for i in range(5)]

# --- lone surrogates ------------------------------------------------------------------------------

SURROGATES = {
    "text": ({"id": "bad", "text": "caf\ud800e"}, "text"),
    "contents": ({"id": "bad", "contents": "\udfff"}, "contents"),
    "id": ({"id": "b\ud800d", "text": "fine"}, "id"),
    "title": ({"id": "bad", "text": "fine", "title": "T\udc00"}, "title"),
    "group": ({"id": "bad", "text": "fine", "group": "p\ud83d"}, "group"),
}


@pytest.mark.parametrize("name", SURROGATES)
def test_a_lone_surrogate_is_an_error_naming_line_and_field(tmp_path, name):
    record, field = SURROGATES[name]
    path = write(tmp_path / "c.jsonl", GOOD[0] + _line(record) + GOOD[1])
    with pytest.raises(InputError) as info:
        list(read_corpus(path))
    assert (info.value.line, info.value.field) == (2, field) and "surrogate" in str(info.value)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("name", SURROGATES)
def test_under_skip_only_the_record_with_a_surrogate_is_skipped(tmp_path, name):
    path = write(tmp_path / "c.jsonl", "".join(GOOD[:2]) + _line(SURROGATES[name][0]) + "".join(GOOD[2:]))
    bad = BadRecords(skip=True)
    assert [d.id for d in read_corpus(path, bad)] == [f"g{i}" for i in range(5)]
    assert bad.count == 1 and "c.jsonl:3" in bad.examples[0]


def test_a_surrogate_pair_is_text_not_a_fault(tmp_path):
    path = write(tmp_path / "c.jsonl", _line({"id": "e", "text": "smile \U0001F600", "title": "\U0001F600"}))
    assert [d.text for d in read_corpus(path)] == ["smile \U0001F600"]


def test_a_surrogate_in_a_query_is_an_error(tmp_path):
    path = write(tmp_path / "q.jsonl", _line({"_id": "q1", "text": "ok"}) + _line({"_id": "q2", "text": "x\ud800"}))
    with pytest.raises(InputError) as info:
        read_topics(path)
    assert (info.value.line, info.value.field) == (2, "text")


def test_indexing_with_skip_keeps_every_good_record_of_the_batch(tmp_path):
    # the bad records sit in the middle of batches: each is caught as it is read, not when its batch
    # reaches the store, so the good records of the same batch are indexed
    from babelir.index.build import build_index
    from babelir.index.core import Index

    lines = [_line({"id": f"d{i}", "text": f"word{i} common", "lang": "en"}) for i in range(12)]
    lines.insert(3, _line({"id": "bad1", "text": "x\ud800", "lang": "en"}))
    lines.insert(7, _line({"id": "bad2", "text": "fine", "group": "\udfff", "lang": "en"}))
    lines.insert(9, "[" * 100_000 + "\n")
    summary = build_index(write(tmp_path / "c.jsonl", "".join(lines)), tmp_path / "ix", quiet=True,
                          skip_bad=True, batch_size=4)
    assert summary.skipped_bad == 3 and summary.added == 12
    assert "skipped 3 bad records, e.g.:" in summary.lines()
    with Index.open(tmp_path / "ix") as index:
        assert index.doc_count == 12 and index.ids() == {f"d{i}" for i in range(12)}


# --- JSON nested too deep; JSON error messages ----------------------------------------------------

DEEP = {
    "array": "[" * 100_000 + "]" * 100_000,
    "object": '{"a":' * 100_000 + "1" + "}" * 100_000,
    "in a field": '{"id": "x", "text": ' + "[" * 100_000,
}


@pytest.mark.parametrize("name", DEEP)
def test_json_nested_too_deep_is_an_error_at_its_line(tmp_path, name):
    path = write(tmp_path / "c.jsonl", GOOD[0] + DEEP[name] + "\n" + GOOD[1])
    with pytest.raises(InputError, match="nested too deeply") as info:
        list(read_corpus(path))
    assert info.value.line == 2
    bad = BadRecords(skip=True)
    assert [d.id for d in read_corpus(path, bad)] == ["g0", "g1"] and bad.count == 1
    topics = write(tmp_path / "q.jsonl", _line({"_id": "q1", "text": "x"}) + DEEP[name] + "\n")
    with pytest.raises(InputError, match="nested too deeply") as info:
        read_topics(topics)
    assert info.value.line == 2


@pytest.mark.parametrize("line, needle", [
    ('{"id": "b", "text": "oops', "Unterminated string starting at column 21"),
    # an integer too long for Python to convert is kept as written (numbers are read as their text)
    ('{"id": "b", "text": 1' + "0" * 5000 + "}", 'field "text": must be a string, got number'),
    ('{"id": "b" "text": "x"}', "Expecting ',' delimiter at column 12"),
])
def test_malformed_json_messages_read_well(tmp_path, line, needle):
    with pytest.raises(InputError) as info:
        list(read_corpus(write(tmp_path / "c.jsonl", line + "\n")))
    assert needle in str(info.value) and " at at " not in str(info.value)
    assert info.value.line == 1


# --- truncated or corrupt gzip, in every reader ---------------------------------------------------

def _damaged(text: str, how: str) -> bytes:
    packed = gzip.compress(text.encode())
    if how == "truncated":
        return packed[: len(packed) * 2 // 3]
    if how == "corrupt":  # a byte of the deflate stream changed
        middle = len(packed) // 2
        return packed[:middle] + bytes([packed[middle] ^ 0x55]) + packed[middle + 1:]
    if how == "bad crc":
        return packed[:-8] + bytes([packed[-8] ^ 0xFF]) + packed[-7:]
    return packed[:2]  # the gzip magic and nothing else


CORPUS_TEXT = "".join(_line({"id": f"d{i}", "text": f"text {i} " * 20}) for i in range(200))
READERS = {
    "corpus": (lambda p: list(read_corpus(p)), "c.jsonl.gz", CORPUS_TEXT),
    "topics": (read_topics, "t.tsv.gz", "".join(f"q{i}\tquery {i} words\n" for i in range(400))),
    "qrels": (read_qrels, "q.trec.gz", "".join(f"q{i} 0 d{i} 1\n" for i in range(400))),
    "run": (Run.from_trec, "a.run.gz", "".join(f"q1 Q0 d{i} {i + 1} {1 / (i + 1)!r} t\n" for i in range(400))),
}


@pytest.mark.parametrize("how", ["truncated", "corrupt", "bad crc", "magic only"])
@pytest.mark.parametrize("reader", READERS)
def test_a_damaged_gzip_is_an_error_naming_the_file(tmp_path, reader, how):
    read, name, text = READERS[reader]
    path = write(tmp_path / name, _damaged(text, how))
    with pytest.raises(InputError) as info:
        read(path)
    assert str(path) in str(info.value) and info.value.line is not None
    # a changed byte may still inflate, into garbled lines: the first bad line, or the checksum at the end
    assert "the compressed file" in str(info.value) or how == "corrupt"


@pytest.mark.parametrize("stem", ["corpus", "queries"])
def test_a_damaged_gzip_in_a_beir_directory_is_an_error(tmp_path, stem):
    write(tmp_path / "b" / "corpus.jsonl.gz", gzip.compress(CORPUS_TEXT.encode()))
    write(tmp_path / "b" / "queries.jsonl.gz", gzip.compress(_line({"_id": "q1", "text": "x"}).encode()))
    queries = "".join(_line({"_id": f"q{i}", "text": "query"}) for i in range(300))
    write(tmp_path / "b" / f"{stem}.jsonl.gz", _damaged(CORPUS_TEXT if stem == "corpus" else queries, "truncated"))
    with pytest.raises(InputError, match=f"{stem}.jsonl.gz:.*the compressed file ends early"):
        list(read_corpus(tmp_path / "b")) if stem == "corpus" else read_topics(tmp_path / "b")


# --- files that cannot be read --------------------------------------------------------------------

ALL_READERS = {
    "corpus": (lambda p: list(read_corpus(p)), GOOD[0]),
    "topics": (read_topics, "q1\thello\n"),
    "qrels": (read_qrels, "q1 0 d1 1\n"),
    "run": (Run.from_trec, "q1 Q0 d1 1 1.0 t\n"),
}


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads a file whatever its mode")
@pytest.mark.parametrize("reader", ALL_READERS)
def test_a_file_without_read_permission_is_an_error(tmp_path, reader):
    read, text = ALL_READERS[reader]
    path = write(tmp_path / "f.txt", text)
    path.chmod(0)
    try:
        with pytest.raises(InputError, match="permission denied"):
            read(path)
    finally:
        path.chmod(0o644)


@pytest.mark.parametrize("reader", ALL_READERS)
def test_a_permission_error_when_opening_is_an_error(tmp_path, reader, monkeypatch):
    # simulated, so that it also runs as root (where chmod 000 does not stop reading)
    import builtins

    read, text = ALL_READERS[reader]
    path = write(tmp_path / "f.txt", text)
    real_open = builtins.open

    def denying(file, *args, **kwargs):
        if str(file) == str(path):
            raise PermissionError(errno.EACCES, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", denying)
    with pytest.raises(InputError, match="cannot be read: permission denied") as info:
        read(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("reader", ALL_READERS)
def test_an_io_error_while_reading_is_an_error_at_the_line(tmp_path, reader, monkeypatch):
    import babelir.io.textfile as textfile

    read, text = ALL_READERS[reader]
    path = write(tmp_path / "f.txt", text * 3)

    class Failing:
        def __init__(self, handle):
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def __iter__(self):
            yield next(iter(self.handle))
            raise OSError(errno.EIO, "Input/output error")

    real = textfile._open_binary
    monkeypatch.setattr(textfile, "_open_binary", lambda p: Failing(real(p)))
    with pytest.raises(InputError, match="cannot be read: Input/output error") as info:
        read(path)
    assert info.value.line == 2


@pytest.mark.parametrize("reader", ALL_READERS)
def test_a_directory_where_a_file_is_expected_is_an_error(tmp_path, reader):
    # (corpus, topics and qrels read a directory as a BEIR layout, and say what it lacks)
    read, _ = ALL_READERS[reader]
    (tmp_path / "d.txt").mkdir()
    with pytest.raises(InputError, match="is a directory|not a BEIR directory|expected qrels/test.tsv"):
        read(tmp_path / "d.txt")


# --- the same faults through the CLI: one line, exit 2 --------------------------------------------

def test_the_cli_reports_reader_faults_in_one_line_with_exit_2(tmp_path):
    corpus = write(tmp_path / "c.jsonl.gz", _damaged(CORPUS_TEXT, "truncated"))
    deep = write(tmp_path / "deep.jsonl", GOOD[0] + DEEP["array"] + "\n")
    surrogate = write(tmp_path / "s.jsonl", GOOD[0] + _line(SURROGATES["title"][0]))
    qrels = write(tmp_path / "q.trec", "q1 0 d1 1\nq1 0 d1 0\n")
    run = write(tmp_path / "a.run", "q1 Q0 d1 1 1.0 t\nq1 Q0 d1 2 nan t\n")
    for args, where in (
        (["index", corpus, "-o", tmp_path / "ix1", "-q"], "c.jsonl.gz:"),
        (["index", deep, "-o", tmp_path / "ix2", "-q"], "deep.jsonl:2: malformed JSON (nested too deeply)"),
        (["index", surrogate, "-o", tmp_path / "ix3", "-q"], 's.jsonl:2: field "title": has a lone surrogate'),
        (["eval", qrels, run], "q.trec:2:"),
    ):
        result = run_cli(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1 and where in result.stderr, result.stderr
    skipped = run_cli("index", surrogate, "-o", tmp_path / "ix4", "-q", "--skip-bad")
    assert skipped.returncode == 0 and "skipped 1 bad record," in skipped.stdout + skipped.stderr
