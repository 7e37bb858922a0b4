"""Readers fuzzed over arbitrary bytes: the only outcomes are records or a BabelirError.

Each reader gets files made of arbitrary bytes, of lines that are nearly right (JSON records with
odd ids and texts, TREC lines with odd columns and numbers), and of gzip streams (whole, truncated
or corrupted). Whatever comes back must be valid records: ids that pass the id check, texts
without lone surrogates, finite scores.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from babelir.errors import BabelirError
from babelir.io.corpus import read_corpus
from babelir.io.qrels import read_qrels
from babelir.io.records import BadRecords
from babelir.io.topics import read_topics
from babelir.run import Run
from babelir.types import Doc, Qrel, Query, id_problem, text_problem

# BABELIR_FUZZ_EXAMPLES=5000 for a longer search than the test suite's
FUZZ = settings(max_examples=int(os.environ.get("BABELIR_FUZZ_EXAMPLES", "200")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

# pieces that readers have tripped on: separators, controls, surrogates, numbers a parser reads oddly
ODD_TEXT = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", " ", "a b", "a\tb", "a\nb", "\x00", "\x85", "\u2028", "\u3000", "\ud800", "a\udfffb",
                     "1e999", "nan", "-inf", "１", "1_0", "0x10", "+3", "-0", "q1", "d1", "Q0", "score",
                     "query-id", "\ufeff", "%", "a/b", "?"]),
)
JSON_VALUE = st.one_of(ODD_TEXT, st.integers(), st.floats(allow_nan=True), st.booleans(), st.none(),
                       st.lists(st.integers(), max_size=2),
                       st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


def _json_line(record: dict) -> bytes:
    # ensure_ascii writes lone surrogates as \\udXXX escapes: the way they reach a reader
    return json.dumps(record, ensure_ascii=True, allow_nan=True).encode()


JSON_RECORD = st.fixed_dictionaries(
    {}, optional={name: JSON_VALUE for name in ("id", "_id", "docid", "qid", "text", "contents", "query", "title",
                                                "lang", "group")}).map(_json_line)
ID = st.one_of(st.sampled_from(["d1", "d2", "q1", "0012", "a/b", "%", "?"]), ODD_TEXT)
NEAR_RECORD = st.fixed_dictionaries(  # nearly right: an id and a text, odd ones among them
    {"id": ID, "text": ODD_TEXT},
    optional={"title": ODD_TEXT, "group": st.one_of(ODD_TEXT, st.integers()), "lang": ODD_TEXT}).map(_json_line)
NUMBER = st.one_of(st.sampled_from(["1", "0", "2", "-1", "0.5", "1e999", "nan", "inf", "１", "1_0", "0x1"]),
                   st.floats().map(repr))
NEAR_TREC = st.one_of(  # a run line, a qrels line, a BEIR TSV line: odd ids and numbers among them
    st.tuples(ID, st.just("Q0"), ID, st.just("1"), NUMBER, st.just("tag")).map(" ".join),
    st.tuples(ID, st.just("0"), ID, NUMBER).map(" ".join),
    st.tuples(ID, ID, NUMBER).map("\t".join),
).map(lambda line: line.encode("utf-8", "surrogatepass"))
FIELD = st.one_of(ODD_TEXT.map(lambda s: s.encode("utf-8", "surrogatepass")), st.binary(max_size=6))
TREC_LINE = st.lists(FIELD, min_size=0, max_size=7).flatmap(
    lambda fields: st.sampled_from([b" ", b"\t", b"  "]).map(lambda sep: sep.join(fields)))
DEEP = st.integers(1, 3).map(lambda n: b"[" * 100_000 + b"]" * (n * 10) if n > 1 else b'{"id": ' + b"[" * 100_000)
LINE = st.one_of(st.binary(max_size=40), JSON_RECORD, NEAR_RECORD, TREC_LINE, NEAR_TREC,
                 st.sampled_from([b"", b"\r", b"\xef\xbb\xbf{}"]))


@st.composite
def content(draw) -> bytes:
    """A file's bytes: lines of all kinds, sometimes a deep JSON nest, sometimes gzipped."""
    lines = draw(st.lists(LINE, max_size=8))
    if draw(st.integers(0, 19)) == 0:
        lines.append(draw(DEEP))
    data = b"\n".join(lines) + draw(st.sampled_from([b"", b"\n", b"\r\n"]))
    how = draw(st.sampled_from(["plain", "plain", "gzip", "truncated", "corrupt"]))
    if how == "plain":
        return data
    packed = gzip.compress(data)
    if how == "truncated":
        return packed[:draw(st.integers(0, max(0, len(packed) - 1)))]
    if how == "corrupt":
        at = draw(st.integers(0, len(packed) - 1))
        return packed[:at] + bytes([packed[at] ^ draw(st.integers(1, 255))]) + packed[at + 1:]
    return packed


def _check_doc(doc: Doc) -> None:
    assert id_problem(doc.id) is None
    assert all(text_problem(v) is None for v in (doc.text, doc.title, doc.group))


def _outcome(read) -> list:
    """The records ``read()`` returns, or [] when it raised a BabelirError (any other exception fails)."""
    try:
        return list(read())
    except BabelirError as exc:
        assert str(exc) and "\n" not in str(exc)  # the CLI prints it as one line
        return []


def _file(directory: str, name: str, data: bytes) -> Path:
    path = Path(directory) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@FUZZ
@given(data=content(), skip=st.booleans())
def test_jsonl_corpus(data, skip):
    with tempfile.TemporaryDirectory() as tmp:
        docs = _outcome(lambda: read_corpus(_file(tmp, "corpus.jsonl", data), BadRecords(skip=skip)))
    for doc in docs:
        _check_doc(doc)
    assert len({d.id for d in docs}) == len(docs)


@FUZZ
@given(data=content().map(gzip.compress))
def test_jsonl_gz_corpus(data):
    with tempfile.TemporaryDirectory() as tmp:
        for doc in _outcome(lambda: read_corpus(_file(tmp, "corpus.jsonl.gz", data), BadRecords(skip=True))):
            _check_doc(doc)


@FUZZ
@given(corpus=content(), queries=content(), qrels=content())
def test_beir_directory(corpus, queries, qrels):
    with tempfile.TemporaryDirectory() as tmp:
        _file(tmp, "corpus.jsonl", corpus)
        _file(tmp, "queries.jsonl", queries)
        _file(tmp, "qrels/test.tsv", qrels)
        for doc in _outcome(lambda: read_corpus(tmp)):
            _check_doc(doc)
        for query in _outcome(lambda: read_topics(tmp)):
            assert isinstance(query, Query) and id_problem(query.id) is None and text_problem(query.text) is None
        for qrel in _outcome(lambda: read_qrels(tmp)):
            assert isinstance(qrel, Qrel) and isinstance(qrel.relevance, int)


@FUZZ
@given(data=content())
def test_tsv_topics(data):
    with tempfile.TemporaryDirectory() as tmp:
        queries = _outcome(lambda: read_topics(_file(tmp, "topics.tsv", data)))
    assert len({q.id for q in queries}) == len(queries)
    for query in queries:
        assert id_problem(query.id) is None and query.text.strip()


@FUZZ
@given(data=content())
def test_trec_qrels(data):
    with tempfile.TemporaryDirectory() as tmp:
        qrels = _outcome(lambda: read_qrels(_file(tmp, "qrels.trec", data)))
    pairs = {}
    for qrel in qrels:
        assert id_problem(qrel.query_id) is None and id_problem(qrel.doc_id) is None
        assert pairs.setdefault((qrel.query_id, qrel.doc_id), qrel.relevance) == qrel.relevance
    assert len(pairs) == len(qrels)


@FUZZ
@given(data=content())
def test_trec_runs(data):
    with tempfile.TemporaryDirectory() as tmp:
        path = _file(tmp, "a.run", data)
        run = _outcome(lambda: [Run.from_trec(path)])
        for read in run:
            for qid in read:
                assert id_problem(qid) is None
                for did, score in read[qid].items():
                    assert id_problem(did) is None and math.isfinite(score)
            read.to_trec(Path(tmp) / "again.run")  # what was read can be written, and reads back the same
            again = Run.from_trec(Path(tmp) / "again.run")
            assert {q: again[q] for q in again} == {q: read[q] for q in read}
