import gzip
import json

import pytest

from babelir.errors import InputError
from babelir.io.beir import write_beir
from babelir.io.corpus import read_corpus
from babelir.io.parallel import load_parallel
from babelir.io.qrels import read_qrels
from babelir.io.topics import read_topics
from babelir.types import Doc, Qrel, Query
from tests.conftest import write


def test_jsonl_corpus_accepts_each_id_and_text_field(tmp_path):
    path = write(tmp_path / "c.jsonl", "\n".join([
        '{"id": "0012", "text": "hello", "lang": "tha"}',
        '{"_id": 7, "contents": "world", "title": "T"}',
        '{"docid": "d3", "text": "x"}',
        "",
    ]))
    docs = list(read_corpus(path))
    assert docs == [Doc("0012", "hello", "", "th"), Doc("7", "world", "T", None), Doc("d3", "x", "", None)]


def test_a_numeric_id_is_read_as_it_is_written(tmp_path):
    path = write(tmp_path / "c.jsonl", "".join(f'{{"id": {literal}, "text": "t{n}"}}\n' for n, literal in enumerate(
        ["1e5", "-0", "1e400", "2e400", "12345678901234567890.5", "12345678901234567890.6", "7", "0.10"])))
    assert [d.id for d in read_corpus(path)] == ["1e5", "-0", "1e400", "2e400", "12345678901234567890.5",
                                                  "12345678901234567890.6", "7", "0.10"]


@pytest.mark.parametrize("record, field", [('{"id": "a", "text": 12345}', "text"),
                                           ('{"id": "a", "text": NaN}', "text"),
                                           ('{"id": "a", "text": "x", "title": -0}', "title"),
                                           ('{"id": "a", "text": "x", "title": 1e400}', "title")])
def test_a_number_is_not_a_text(tmp_path, record, field):
    from babelir.errors import InputError

    with pytest.raises(InputError, match=f'"{field}": must be a string, got number'):
        list(read_corpus(write(tmp_path / "c.jsonl", record + "\n")))


def test_a_numeric_group_is_read_as_it_is_written(tmp_path):
    docs = list(read_corpus(write(tmp_path / "c.jsonl", '{"id": "a", "text": "x", "group": 0.10}\n')))
    assert docs[0].group == "0.10" and type(docs[0].group) is str


def test_gzip_is_read_transparently_whatever_the_name(tmp_path):
    path = tmp_path / "corpus.data"
    path.write_bytes(gzip.compress('{"id": "a", "text": "ภาษาไทย"}\n'.encode()))
    assert [d.text for d in read_corpus(path)] == ["ภาษาไทย"]


def test_beir_directory_roundtrip(tmp_path):
    docs = [Doc("d1", "text one", "title", "en"), Doc("d2", "二", lang="zh")]
    queries = [Query("q1", "one", "en")]
    write_beir(tmp_path / "b", docs, queries, [Qrel("q1", "d1", 1)])
    assert list(read_corpus(tmp_path / "b")) == docs
    assert read_topics(tmp_path / "b") == queries
    assert read_qrels(tmp_path / "b") == [Qrel("q1", "d1", 1)]
    header = (tmp_path / "b" / "qrels" / "test.tsv").read_text().splitlines()[0]
    assert header == "query-id\tcorpus-id\tscore"


def test_topics_tsv_with_and_without_lang(tmp_path):
    path = write(tmp_path / "t.tsv", "001\twhat is rice\ten\n002\tข้าวคืออะไร\ttha\n003\tno lang\n")
    assert read_topics(path) == [Query("001", "what is rice", "en"), Query("002", "ข้าวคืออะไร", "th"),
                                 Query("003", "no lang", None)]


def test_topics_jsonl(tmp_path):
    path = write(tmp_path / "q.jsonl", json.dumps({"_id": "q1", "text": "hi", "lang": "sw"}) + "\n")
    assert read_topics(path) == [Query("q1", "hi", "sw")]


def test_topics_errors_name_line_and_field(tmp_path):
    with pytest.raises(InputError) as info:
        read_topics(write(tmp_path / "t.tsv", "q1\tok\nq2\n"))
    assert (info.value.line, info.value.field) == (2, "text")
    with pytest.raises(InputError) as info:
        read_topics(write(tmp_path / "d.tsv", "q1\ta\nq1\tb\n"))
    assert (info.value.line, info.value.field) == (2, "id")


@pytest.mark.parametrize("name, text, line", [
    ("p.tsv", "q1\t!!!\n", 1),
    ("z.tsv", "q1\tfine\nq2\t\u200b\u200d\u2060\n", 2),  # zero-width characters only
    ("m.tsv", "q1\t\u0301 \u0e31 ...\n", 1),  # marks and punctuation
    ("j.jsonl", '{"id": "q1", "text": "?!"}\n', 1),
    ("k.jsonl", '{"id": "q1", "text": "ok"}\n{"id": "q2", "query": "\\u200b\\u200b"}\n', 2),
])
def test_a_topic_with_no_searchable_text_is_an_error_at_its_line(tmp_path, name, text, line):
    with pytest.raises(InputError, match="no searchable text") as info:
        read_topics(write(tmp_path / name, text))
    assert (info.value.path, info.value.line, info.value.field) == (str(tmp_path / name), line, "text")


@pytest.mark.parametrize("header", ["query-id\ttext", "qid\tquery", "id\ttext", "ID\tText\tlang",
                                    "query_id\tquestion\tlanguage", "_id\ttitle"])
def test_a_tsv_topics_header_is_skipped_not_searched(tmp_path, header):
    path = write(tmp_path / "t.tsv", f"{header}\nq1\twhat is rice\ten\n")
    assert read_topics(path) == [Query("q1", "what is rice", "en")]


def test_a_topic_that_only_looks_like_a_header_after_the_first_line_is_kept(tmp_path):
    path = write(tmp_path / "t.tsv", "q1\trice\nid\ttext\n")
    assert read_topics(path) == [Query("q1", "rice", None), Query("id", "text", None)]
    assert read_topics(write(tmp_path / "u.tsv", "id\tmeaning of text\n")) == [Query("id", "meaning of text", None)]


def test_qrels_trec_and_beir(tmp_path):
    trec = write(tmp_path / "q.trec", "q1 0 0012 2\nq1 0 d2 0\n")
    beir = write(tmp_path / "q.tsv", "query-id\tcorpus-id\tscore\nq1\t0012\t2\n")
    assert read_qrels(trec) == [Qrel("q1", "0012", 2), Qrel("q1", "d2", 0)]
    assert read_qrels(beir) == [Qrel("q1", "0012", 2)]


def test_qrels_bad_relevance(tmp_path):
    with pytest.raises(InputError) as info:
        read_qrels(write(tmp_path / "q.trec", "q1 0 d1 1\nq1 0 d2 high\n"))
    assert (info.value.line, info.value.field) == (2, "relevance")


def test_parallel_text_is_a_bitext_collection(tmp_path):
    src = write(tmp_path / "a.en", "good morning\nthank you\n")
    tgt = write(tmp_path / "a.sw", "habari za asubuhi\nasante\n")
    collection = load_parallel(src, tgt, "en", "swa")
    assert [q.id for q in collection.queries] == ["q0", "q1"]
    assert collection.docs[1] == Doc("d1", "asante", lang="sw")
    assert collection.qrels == [Qrel("q0", "d0", 1), Qrel("q1", "d1", 1)]


def test_parallel_text_line_counts_must_match(tmp_path):
    with pytest.raises(InputError, match="line counts differ"):
        load_parallel(write(tmp_path / "a", "x\ny\n"), write(tmp_path / "b", "x\n"))


def test_atomic_directory_replaces_only_when_complete(tmp_path):
    from babelir.io.atomic import atomic_directory

    target = tmp_path / "model"
    with atomic_directory(target) as staging:
        (staging / "a.txt").write_text("one")
    assert (target / "a.txt").read_text() == "one" and not (tmp_path / "model.partial").exists()
    with pytest.raises(RuntimeError):
        with atomic_directory(target) as staging:
            (staging / "a.txt").write_text("two")
            raise RuntimeError("interrupted")
    assert (target / "a.txt").read_text() == "one" and not (tmp_path / "model.partial").exists()


def test_group_field_is_read_written_and_checked(tmp_path):
    path = write(tmp_path / "c.jsonl", '{"id": "s1", "text": "one", "group": "p1"}\n'
                                       '{"id": "s2", "text": "two", "group": 7}\n{"id": "s3", "text": "three"}\n')
    docs = list(read_corpus(path))
    assert [d.group for d in docs] == ["p1", "7", ""]
    write_beir(tmp_path / "b", docs, [Query("q1", "one")], [Qrel("q1", "s1", 1)])
    assert list(read_corpus(tmp_path / "b")) == docs
    bad = write(tmp_path / "bad.jsonl", '{"id": "s1", "text": "one", "group": ["p1"]}\n')
    with pytest.raises(InputError, match=r"bad.jsonl:1.*group.*string or number"):
        list(read_corpus(bad))
