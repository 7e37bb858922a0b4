"""Documents with a group (e.g. each sentence's paragraph): stored, deleted, and used by search."""

import json
import sqlite3

from babelir.index.core import Index
from babelir.retrieve.pipeline import from_mode
from babelir.types import Doc, Query
from tests.conftest import run_cli, write

# p1's second sentence answers the question without the query's words; p1's first sentence matches
# them best, so its paragraph's evidence lifts the answer above the distractor of paragraph p2
SENTENCES = [
    {"id": "p1-0", "text": "The Panthers defense gave up just 308 points in the season.", "group": "p1"},
    {"id": "p1-1", "text": "Kawann Short led the team with eleven sacks.", "group": "p1"},
    {"id": "p2-0", "text": "The team moved to a new stadium downtown.", "group": "p2"},
    {"id": "p2-1", "text": "Fans celebrated the season opener.", "group": "p2"},
    {"id": "p3-0", "text": "Rice is grown in flooded fields.", "group": "p3"},
]
QUERY = "Panthers defense points season team"


def build(tmp_path):
    corpus = write(tmp_path / "c.jsonl", "\n".join(json.dumps(dict(r, lang="en")) for r in SENTENCES) + "\n")
    run_cli("index", corpus, "-o", tmp_path / "ix", "-q", check=True)
    return tmp_path / "ix"


def ranking(index, **options):
    run = from_mode(index, "bm25", **options).retrieve([Query("q", QUERY, "en")], k=5)
    return [doc_id for doc_id, _ in run.ranking("q")]


def test_search_adds_group_evidence_by_default_and_0_turns_it_off(tmp_path):
    path = build(tmp_path)
    with Index.open(path) as index:
        assert index.has_groups
        assert index.groups(["p1-1", "p3-0", "nope"]) == {"p1-1": "p1", "p3-0": "p3"}
    plain = ranking(path, group_weight=0)
    grouped = ranking(path)
    assert plain[0] == grouped[0] == "p1-0"
    assert plain.index("p1-1") > plain.index("p2-0")  # alone, the answer is below the distractor
    assert grouped.index("p1-1") < grouped.index("p2-0")  # its paragraph's evidence lifts it
    # the CLI: the same rankings, and a negative weight is a user error
    topics = write(tmp_path / "t.tsv", f"q\t{QUERY}\ten\n")
    for weight, expected in (([], grouped), (["--group-weight", "0"], plain)):
        run_cli("search", path, "--topics", topics, "-o", tmp_path / "r.run", "-q", *weight, check=True)
        lines = (tmp_path / "r.run").read_text().splitlines()
        assert [line.split()[2] for line in lines] == expected
    bad = run_cli("search", path, "--query", QUERY, "--group-weight", "-1")
    assert bad.returncode == 2 and "--group-weight: must be 0 or more" in bad.stderr and "Traceback" not in bad.stderr


def test_deleting_a_document_deletes_its_group_and_old_stores_have_none(tmp_path):
    path = build(tmp_path)
    with Index.open(path, writable=True) as index:
        index.delete(["p1-1"])
        assert index.groups(["p1-0", "p1-1"]) == {"p1-0": "p1"}
    db = sqlite3.connect(path / "docs.sqlite")
    assert db.execute("SELECT count(*) FROM groups").fetchone()[0] == 4
    db.execute("DROP TABLE groups")  # a store written before groups existed
    db.commit()
    db.close()
    with Index.open(path) as index:
        assert not index.has_groups and index.groups(["p1-0"]) == {}
        assert str(from_mode(index, "bm25")) == "bm25"  # no group evidence
    with Index.open(path, writable=True) as index:  # a writer adds the table; new documents get groups
        index.add([Doc("p4-0", "Another sentence.", lang="en", group="p4")])
        assert index.groups(["p4-0"]) == {"p4-0": "p4"}


def test_the_search_service_uses_group_evidence_too(tmp_path):
    from babelir.serve.service import IndexService

    path = build(tmp_path)
    grouped = ranking(path)
    service = IndexService("s", path)
    assert [doc_id for doc_id, _ in service.search(QUERY, "en", "bm25", 5, None)] == grouped


def test_no_group_evidence_by_default_in_a_multilingual_pool(tmp_path):
    from babelir.retrieve.grouped import default_group_weight

    docs = [Doc(f"{lang}-{i}", f"{word} number {i}", lang=lang, group=f"{lang}-{i // 5}")
            for lang, word in (("en", "sentence"), ("de", "Satz")) for i in range(100)]
    with Index.create(tmp_path / "pool") as index:
        index.add(docs)
        assert index.has_groups and default_group_weight(index) == 0.0
        assert str(from_mode(index, "bm25")) == "bm25 >> group(weight=0.0)"  # the stage's default: off
        assert str(from_mode(index, "bm25", group_weight=1.0)) == "bm25 >> group(weight=1.0)"
        plain = from_mode(index, "bm25", group_weight=0.0).retrieve([Query("q", "sentence number 7", "en")], 10)
        assert from_mode(index, "bm25").retrieve([Query("q", "sentence number 7", "en")], 10).ranking("q") \
            == plain.ranking("q")
        index.delete([f"de-{i}" for i in range(10)])  # German below 100 documents: one large language
        assert default_group_weight(index) == 1.0
