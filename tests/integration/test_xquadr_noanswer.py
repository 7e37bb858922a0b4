"""``babelir datasets xquad-r --no-answer-split``: the NoMIRACL-style relevant / non-relevant subsets,
checked against the XQuAD-R source files read here directly (not through babelir's split)."""

import json

import pytest

from babelir.io.qrels import read_qrels
from babelir.io.topics import read_topics
from babelir.io.xquadr import XQUADR_LANGS, XQUADR_TEST_ARTICLES
from tests.conftest import run_cli


@pytest.fixture(scope="module")
def source(xquadr_dir):
    """From en.json: xquad id -> (paragraph#, article title, removed?) with 'removed' = the
    paragraph is the 2nd, 4th, … of its article."""
    data = json.loads((xquadr_dir / "en.json").read_text(encoding="utf-8"))["data"]
    questions, p = {}, 0
    for article in data:
        for position, paragraph in enumerate(article["paragraphs"]):
            for qa in paragraph["qas"]:
                questions[qa["id"]] = (p, article["title"], position % 2 == 1)
            p += 1
    return questions


@pytest.fixture(scope="module")
def written(xquadr_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("noanswer")
    result = run_cli("datasets", "xquad-r", xquadr_dir, "-o", out, "--no-answer-split", check=True)
    return out, result.stdout


def _read(directory):
    corpus = [json.loads(line) for line in (directory / "corpus.jsonl").read_text(encoding="utf-8").splitlines()]
    lines = (directory / "subsets.tsv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "query_id\tsubset\tpart"
    subsets = {qid: (subset, part) for qid, subset, part in (line.split("\t") for line in lines[1:])}
    return corpus, subsets


@pytest.mark.parametrize("name", ["th", "pool"])
def test_subsets_follow_the_paragraph_split(written, source, name):
    directory = written[0] / name
    corpus, subsets = _read(directory)
    langs = ["th"] if name == "th" else list(XQUADR_LANGS)
    assert set(subsets) == {f"{lang}-{xid}" for lang in langs for xid in source}
    for qid, (subset, part) in subsets.items():
        _, title, removed = source[qid.split("-", 1)[1]]
        assert subset == ("non-relevant" if removed else "relevant"), qid
        assert part == ("test" if title in XQUADR_TEST_ARTICLES else "train"), qid
    # no sentence of a removed paragraph, in any language; every kept paragraph's sentences are there
    removed_paragraphs = {p for p, _, removed in source.values() if removed}
    kept_paragraphs = {p for p, _, removed in source.values() if not removed}
    present = {(d["_id"].split("-")[0], int(d["_id"].split("-")[1])) for d in corpus}
    assert not {p for _, p in present} & removed_paragraphs
    assert present == {(lang, p) for lang in langs for p in kept_paragraphs}


@pytest.mark.parametrize("name", ["th", "pool"])
def test_answers_present_for_relevant_and_absent_for_non_relevant(written, xquadr_dir, name):
    from babelir.io.xquadr import load_language, load_xquadr

    directory = written[0] / name
    corpus, subsets = _read(directory)
    ids = {d["_id"] for d in corpus}
    groups = {d["group"] for d in corpus}
    full = load_language(xquadr_dir, "th")[0] if name == "th" else load_xquadr(xquadr_dir)[1]
    answers = {}
    for qrel in full.qrels:
        answers.setdefault(qrel.query_id, set()).add(qrel.doc_id)
    qrels = {}
    for qrel in read_qrels(directory / "qrels.trec"):
        qrels.setdefault(qrel.query_id, set()).add(qrel.doc_id)
    for qid, (subset, _) in subsets.items():
        if subset == "non-relevant":
            assert not answers[qid] & ids, qid
            assert not {"-".join(a.split("-")[:2]) for a in answers[qid]} & groups, qid
            assert qid not in qrels
        else:  # a query has qrels iff relevant, the same as before the split, all in the corpus
            assert qrels[qid] == answers[qid] and qrels[qid] <= ids, qid
    assert set(qrels) == {q for q, (s, _) in subsets.items() if s == "relevant"}
    if name == "pool":
        assert all({d.split("-")[0] for d in docs} == set(XQUADR_LANGS) for docs in qrels.values())


@pytest.mark.parametrize("name", ["th", "pool"])
def test_topics_and_qrels_partitioned_by_article(written, name):
    directory = written[0] / name
    _, subsets = _read(directory)
    every = [q.id for q in read_topics(directory / "topics.tsv")]
    assert sorted(every) == sorted(subsets)
    for part in ("train", "test"):
        topics = [q.id for q in read_topics(directory / f"topics.{part}.tsv")]
        assert set(topics) == {q for q, (_, p) in subsets.items() if p == part}
        split_qrels = {q.query_id for q in read_qrels(directory / f"qrels.{part}.trec")}
        assert split_qrels == {q for q, (s, p) in subsets.items() if p == part and s == "relevant"}
    train = [q.id for q in read_topics(directory / "topics.train.tsv")]
    test = [q.id for q in read_topics(directory / "topics.test.tsv")]
    assert len(train) + len(test) == len(every) and not set(train) & set(test)
    # both subsets in both parts, about 40% non-relevant (2 of each article's 5 paragraphs)
    for part in ("train", "test"):
        values = [s for s, p in subsets.values() if p == part]
        assert 0.3 < values.count("non-relevant") / len(values) < 0.5, part


def test_printed_counts_and_rerun(written, xquadr_dir, capsys):
    from babelir.cli import main

    out, stdout = written
    assert f"{out / 'th'}: 497 documents, 1190 queries (relevant: 543 train / 179 test; " \
           f"non-relevant: 351 train / 117 test), 722 judgments" in stdout
    assert f"{out / 'pool'}: 7611 documents, 13090 queries" in stdout
    assert len(stdout.splitlines()) == len(XQUADR_LANGS) + 1
    before = (out / "th" / "subsets.tsv").read_bytes()
    assert main(["datasets", "xquad-r", str(xquadr_dir), "-o", str(out), "--no-answer-split"]) == 0
    assert capsys.readouterr().out == stdout
    assert (out / "th" / "subsets.tsv").read_bytes() == before


def test_cross(xquadr_dir, source, tmp_path):
    result = run_cli("datasets", "xquad-r", xquadr_dir, "-o", tmp_path, "--no-answer-split", "--cross", "th:en",
                     check=True)
    assert result.stdout.startswith(f"{tmp_path / 'th-en'}: 690 documents, 1190 queries")
    corpus, subsets = _read(tmp_path / "th-en")
    assert {d["_id"].split("-")[0] for d in corpus} == {"en"}
    assert all(q.startswith("th-") for q in subsets)
    qrels = {q.query_id: q.doc_id for q in read_qrels(tmp_path / "th-en" / "qrels.trec")}
    ids = {d["_id"] for d in corpus}
    for qid, (subset, _) in subsets.items():
        assert (qid in qrels) == (subset == "relevant") == (not source[qid[3:]][2])
    assert set(qrels.values()) <= ids
