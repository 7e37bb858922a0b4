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


def test_a_truncated_gzip_corpus_is_an_error_at_the_line_it_breaks(tmp_path):
    import gzip
    import json

    whole = gzip.compress("".join(json.dumps({"id": f"d{i}", "text": f"text number {i}"}) + "\n"
                                  for i in range(3000)).encode())
    path = write(tmp_path / "corpus.jsonl.gz", whole[:4000])
    with pytest.raises(InputError, match="the compressed file ends early") as info:
        list(read_corpus(path))
    assert info.value.line > 1


def test_a_cutoff_below_one_is_refused_before_trec_eval_aborts():
    from babelir.errors import BabelirError
    from babelir.evaluate.metrics import parse_measures

    for name in ("nDCG@0", "P@0", "R@0"):
        with pytest.raises(BabelirError, match="cutoff must be 1 or more"):
            parse_measures([name])


def test_usage_errors_are_one_line_and_exit_2():
    from tests.conftest import run_cli

    for args in (["search", "ix", "--mode", "foo", "--query", "x"], ["nope"], ["analyze"]):
        result = run_cli(*args)
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
