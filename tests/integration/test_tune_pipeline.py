"""babelir tune --pipeline SPEC: the spec's fusion stage is tuned; --hybrid-of/--fusion/--depth are
shorthand for a spec, and tune as before (the reference below is the computation tune made before
it took specs: the modes' runs fused by hybrid search's language-aware fusion)."""

from __future__ import annotations

import json

import pytest

from babelir.cli import main
from babelir.index.core import Index
from babelir.types import Qrel, Query
from tests.conftest import write
from tests.integration.test_dense import DOCS

MEASURE = "P@1"  # five documents: a measure of the first place tells the weights apart
# queries whose English words match the English document while the answer is another (BM25 and the
# vector modes disagree, so the weights matter)
TEXTS = ["Earth magma", "a natural drink", "the largest land animal on Earth", "roasted beans, the natural way",
         "the capital city of the Earth's largest nation", "Moon tides", "ocean tides", "volcano magma", "coffee",
         "Earth's natural satellite"]
ANSWERS = ["de-volcano", "sw-coffee", "th-elephant", "sw-coffee", "zh-capital", "en-moon", "en-moon", "de-volcano",
           "sw-coffee", "en-moon"]


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tune")
    corpus = write(folder / "c.jsonl", "".join(json.dumps({"id": d.id, "text": d.text, "lang": d.lang},
                                                          ensure_ascii=False) + "\n" for d in DOCS))
    assert main(["index", str(corpus), "-o", str(folder / "ix"), "--dense", "--sparse", "-q"]) == 0
    write(folder / "t.tsv", "".join(f"en{i}\t{text}\ten\n" for i, text in enumerate(TEXTS)))
    write(folder / "q.trec", "".join(f"en{i} 0 {d} 1\n" for i, d in enumerate(ANSWERS)))
    return folder


def tune(capsys, folder, *options):
    code = main(["tune", str(folder / "ix"), "--topics", str(folder / "t.tsv"), "--qrels", str(folder / "q.trec"),
                 "--step", "0.25", "--dry-run", "--json", "-m", MEASURE, *options])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else None), err


def reference(folder, modes, fusion, depth=100):
    """tune's computation before --pipeline (commit ea79fc1), rebuilt from the library."""
    from babelir.io.qrels import read_qrels
    from babelir.io.topics import read_topics
    from babelir.retrieve.hybrid import fusion_function
    from babelir.retrieve.language_gate import dense_calibrated, fuse_runs, held_counts, query_languages, run_scopes
    from babelir.retrieve.stage import BM25, Dense, Sparse
    from babelir.tune import tune_weights

    queries, qrels = read_topics(folder / "t.tsv"), read_qrels(folder / "q.trec")
    with Index.open(folder / "ix") as index:
        first = {"bm25": BM25, "dense": Dense, "sparse": Sparse}
        runs = [first[m](index).retrieve(queries, depth) for m in modes]
        scopes = run_scopes(modes, "dense" in modes and dense_calibrated(index, None))
        langs = {q.id: query_languages(q) for q in queries}
        plain = fusion_function(fusion)
        outcome = tune_weights(runs, queries, qrels, fusion, MEASURE, 0.5, 0.25,
                               fuse=lambda r, w: fuse_runs(index, r, scopes, plain, w, langs),
                               among=held_counts(index) or None)
    return json.loads(json.dumps([o.__dict__ for o in outcome]))  # as tune --json prints it


@pytest.mark.parametrize("modes, fusion, depth", [(("bm25", "dense", "sparse"), "zscore", 100),
                                                  (("bm25", "dense"), "linear", 100),
                                                  (("dense", "sparse"), "zscore", 3)])
def test_the_shorthand_and_the_spec_tune_as_tune_did(capsys, collection, modes, fusion, depth):
    expected = reference(collection, modes, fusion, depth)
    assert any(o["dev_queries"] for o in expected)  # something was tuned
    if modes != ("bm25", "dense"):  # weights that beat equal ones: the comparison below is not of ties
        assert expected[0]["dev_tuned"] > expected[0]["dev_equal"]
    code, shorthand, err = tune(capsys, collection, "--hybrid-of", ",".join(modes), "--fusion", fusion,
                                "--depth", str(depth))
    assert code == 0, err
    assert shorthand == expected
    spec = f"hybrid({','.join(modes)},fusion={fusion}{'' if depth == 100 else f',depth={depth}'}) >> group(weight=0)"
    code, by_spec, err = tune(capsys, collection, "--pipeline", spec)
    assert code == 0, err
    assert by_spec == expected


def test_the_default_is_the_default_hybrid_and_the_weights_are_stored_with_the_spec(capsys, collection):
    code = main(["tune", str(collection / "ix"), "--topics", str(collection / "t.tsv"), "--qrels",
                 str(collection / "q.trec"), "--step", "0.5", "--pipeline", "hybrid(bm25,dense(debias=false))"])
    out = capsys.readouterr().out
    assert code == 0 and "(tuned: hybrid(bm25,dense(debias=false)))" in out, out
    stored = json.loads((collection / "ix" / "manifest.json").read_text())["fusion_weights"]
    assert stored["modes"] == ["bm25", "dense"] and stored["fusion"] == "zscore"
    assert stored["tuned_on"]["pipeline"] == "hybrid(bm25,dense(debias=false))"
    code, default, err = tune(capsys, collection)
    assert code == 0, err
    assert default == reference(collection, ("bm25", "dense", "sparse"), "zscore")  # the index's modes


@pytest.mark.parametrize("options, message", [
    (["--pipeline", "bm25 >> group"], "opens with bm25"),
    (["--pipeline", "hybrid(bm25,dense,fusion=rrf)"], "not 'rrf'"),
    (["--pipeline", "hybrid(bm25,dense,weights=[1,2])"], "drop weights"),
    (["--pipeline", "hybrid(bm25,dense)", "--fusion", "linear"], "drop --fusion"),
    (["--pipeline", "hybrid(bm25,nope)"], "nope"),
    (["--hybrid-of", "bm25"], "two or more"),
])
def test_a_pipeline_without_a_fusion_to_tune_is_a_one_line_error(capsys, collection, options, message):
    code, _, err = tune(capsys, collection, *options)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
