"""Bad input: an error naming file, line and field; or, with skip, a counted skip."""

import pytest

from babelir.errors import InputError
from babelir.io.corpus import read_corpus
from babelir.io.records import BadRecords
from tests.conftest import write

GOOD = '{"id": "a", "text": "fine"}\n'

CASES = {
    "malformed json": (GOOD + '{"id": "b", "text": "oops"\n', 2, None, "malformed JSON"),
    "invalid utf-8": (GOOD.encode() + b'{"id": "b", "text": "\xff\xfe"}\n', 2, None, "invalid UTF-8"),
    "missing id": (GOOD + '{"text": "no id"}\n', 2, "id", "missing"),
    "missing text": (GOOD + '{"id": "b"}\n', 2, "text", "missing"),
    "duplicate id": (GOOD + '{"id": "a", "text": "again"}\n', 2, "id", "duplicate id 'a'"),
    "not an object": (GOOD + '["a", "b"]\n', 2, None, "expected a JSON object"),
}


@pytest.mark.parametrize("name", CASES)
def test_bad_record_raises_with_file_line_field(tmp_path, name):
    content, line, field, message = CASES[name]
    path = write(tmp_path / "corpus.jsonl", content)
    with pytest.raises(InputError) as info:
        list(read_corpus(path))
    assert info.value.line == line
    assert info.value.field == field
    assert message in str(info.value)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("name", CASES)
def test_bad_record_is_skipped_and_counted(tmp_path, name):
    content, *_ = CASES[name]
    path = write(tmp_path / "corpus.jsonl", content + ('{"id": "z", "text": "last"}\n' if isinstance(content, str)
                                                       else b'{"id": "z", "text": "last"}\n'))
    bad = BadRecords(skip=True)
    assert [d.id for d in read_corpus(path, bad)] == ["a", "z"]
    assert bad.count == 1 and "corpus.jsonl:2" in bad.examples[0]


def test_empty_file(tmp_path):
    with pytest.raises(InputError, match="empty"):
        list(read_corpus(write(tmp_path / "empty.jsonl", "")))


def test_missing_file():
    with pytest.raises(InputError, match="no such file"):
        list(read_corpus("/nonexistent/corpus.jsonl"))
