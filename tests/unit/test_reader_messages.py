"""Readers' messages from a fresh user's trial: a BEIR corpus that is a directory or given twice, a
byte-order mark mid-file, UTF-16 files, duplicate keys and two ids, a path below a file, and
corpora read from a pipe or standard input."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import threading

import pytest

from babelir.errors import BabelirError, InputError
from babelir.io.atomic import atomic_write_text
from babelir.io.corpus import read_corpus
from babelir.io.topics import read_topics
from tests.conftest import write

GOOD = '{"id": "a", "text": "hello world"}\n{"id": "b", "text": "good bye"}\n'


def _error(path) -> str:
    with pytest.raises(InputError) as info:
        list(read_corpus(path))
    return str(info.value)


def test_beir_corpus_that_is_a_directory(tmp_path):
    (tmp_path / "b1" / "corpus.jsonl").mkdir(parents=True)
    assert _error(tmp_path / "b1").endswith("corpus.jsonl: is a directory, expected a file")
    (tmp_path / "b2" / "corpus.jsonl.gz").mkdir(parents=True)
    assert "corpus.jsonl.gz: is a directory" in _error(tmp_path / "b2")


def test_beir_corpus_given_twice_is_ambiguous(tmp_path):
    write(tmp_path / "b" / "corpus.jsonl", GOOD)
    write(tmp_path / "b" / "corpus.jsonl.gz", gzip.compress(GOOD.encode()))
    message = _error(tmp_path / "b")
    assert "both corpus.jsonl and corpus.jsonl.gz" in message


@pytest.mark.parametrize("text, line", [
    ('{"id": "a", "text": "x"}\n\ufeff{"id": "b", "text": "y"}\n', 2),
    ('{"id": "a", "text": "x"}\n\n\n\ufeff{"id": "b", "text": "y"}\n', 4),
])
def test_byte_order_mark_mid_file(tmp_path, text, line):
    message = _error(write(tmp_path / "c.jsonl", text))
    assert f"c.jsonl:{line}: a byte-order mark (U+FEFF) in the middle of the file" in message
    assert "utf-8-sig" not in message


def test_byte_order_mark_at_the_start_is_fine(tmp_path):
    assert [d.id for d in read_corpus(write(tmp_path / "c.jsonl", "\ufeff" + GOOD))] == ["a", "b"]


@pytest.mark.parametrize("encoding, said", [("utf-16", "byte-order mark FF FE"), ("utf-16-be", "a NUL in every other byte"),
                                            ("utf-16-le", "a NUL in every other byte")])
def test_utf16_files_are_named(tmp_path, encoding, said):
    message = _error(write(tmp_path / "c.jsonl", GOOD.encode(encoding)))
    assert "looks UTF-16" in message and said in message and "UTF-8" in message
    with pytest.raises(InputError, match="looks UTF-16"):  # topics too: every line reader
        read_topics(write(tmp_path / "t.tsv", "q1\thello\n".encode(encoding)))


@pytest.mark.parametrize("line, field", [('{"id": "a1", "id": "a2", "text": "x"}', "id"),
                                         ('{"id": "a1", "text": "x", "text": "y"}', "text")])
def test_duplicate_keys(tmp_path, line, field):
    message = _error(write(tmp_path / "c.jsonl", line + "\n"))
    assert message.startswith(f'{tmp_path / "c.jsonl"}:1: field "{field}": appears twice')


@pytest.mark.parametrize("line, field", [('{"id": "a1", "_id": "a2", "text": "x"}', "_id"),
                                         ('{"_id": "a1", "docid": "d", "text": "x"}', "docid")])
def test_two_different_ids(tmp_path, line, field):
    message = _error(write(tmp_path / "c.jsonl", '{"id": "z", "text": "ok"}\n' + line + "\n"))
    assert f':2: field "{field}": a second id' in message


def test_the_same_id_twice_under_two_names_is_fine(tmp_path):
    docs = list(read_corpus(write(tmp_path / "c.jsonl", '{"id": "a1", "_id": "a1", "text": "x"}\n')))
    assert [d.id for d in docs] == ["a1"]


def test_write_below_a_file_names_the_file(tmp_path):
    write(tmp_path / "existing.run", "x")
    for target in ("existing.run/sub.run", "existing.run/deeper/sub.run"):
        with pytest.raises(BabelirError, match="existing.run: not a directory"):
            atomic_write_text(tmp_path / target, "y")


@pytest.mark.parametrize("compressed", [False, True])
def test_corpus_from_a_fifo(tmp_path, compressed):
    fifo = tmp_path / "c.fifo"
    os.mkfifo(fifo)
    data = gzip.compress(GOOD.encode()) if compressed else GOOD.encode()

    def feed():
        with open(fifo, "wb") as handle:
            handle.write(data)

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        assert [d.id for d in read_corpus(fifo)] == ["a", "b"]
    finally:
        writer.join(timeout=10)


def test_corpus_from_standard_input(tmp_path):
    out = tmp_path / "ix"
    for source in ("-", "/dev/stdin"):
        result = subprocess.run([sys.executable, "-m", "babelir.cli", "index", source, "-o", str(out), "-q"],
                                input=GOOD, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
    result = subprocess.run([sys.executable, "-m", "babelir.cli", "index", "-", "-o", str(tmp_path / "sw"), "-q",
                             "--analyzer", "subword"], input=GOOD, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "-: not a regular file" in result.stderr and not (tmp_path / "sw").exists()
