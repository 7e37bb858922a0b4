"""Dense vectors in the index: cross-lingual search, deletes, backfill, resume, hybrid, CLI."""

import json

import numpy as np
import pytest

from babelir.encode.base import get_encoder
from babelir.errors import BabelirError
from babelir.index.build import build_index
from babelir.index.core import Index
from babelir.index.docstore import DocStore
from babelir.retrieve.pipeline import from_mode
from babelir.types import Doc, Query
from tests.conftest import run_cli, write

DOCS = [
    Doc("en-moon", "The Moon is Earth's only natural satellite and causes the ocean tides.", lang="en"),
    Doc("zh-capital", "北京是中华人民共和国的首都。", lang="zh"),
    Doc("sw-coffee", "Kahawa ni kinywaji kinachotengenezwa kwa maharagwe ya kahawa yaliyokaangwa.", lang="sw"),
    Doc("th-elephant", "ช้างเป็นสัตว์บกที่ใหญ่ที่สุด", lang="th"),
    Doc("de-volcano", "Ein Vulkan bricht aus, wenn Magma aus dem Erdinneren aufsteigt.", lang="de"),
]


@pytest.fixture(scope="module")
def encoder():
    return get_encoder()


def test_encoder_contract(encoder):
    vectors = encoder.encode_passages(["hello", "สวัสดี"])
    assert vectors.shape == (2, encoder.dim) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert not np.allclose(encoder.encode_queries(["hello"])[0], vectors[0])  # query/passage prefixes differ
    assert encoder.config()["query_prefix"] == "query: "


def test_cross_lingual_dense_search_and_deletes(tmp_path, encoder):
    with Index.create(tmp_path / "ix", encoder=encoder) as index:
        index.add(DOCS)
        queries = encoder.encode_queries(["月球和海洋潮汐", "capital of China", "ช้าง elephant"])
        top = [hits[0][0] for hits in index.search_dense(queries, k=3)]
        assert top == ["en-moon", "zh-capital", "th-elephant"]
        index.delete(["en-moon"])
        assert "en-moon" not in dict(index.search_dense(queries[:1], k=5)[0])
    manifest = json.loads((tmp_path / "ix" / "manifest.json").read_text())
    assert manifest["encoder"]["name"] == "e5-small" and manifest["encoder"]["dim"] == encoder.dim


def test_vectors_are_added_to_an_existing_index_and_resume(tmp_path, encoder, monkeypatch):
    corpus = write(tmp_path / "c.jsonl", "".join(json.dumps({"id": d.id, "text": d.text, "lang": d.lang},
                                                            ensure_ascii=False) + "\n" for d in DOCS))
    build_index(corpus, tmp_path / "ix", quiet=True)
    calls = {"n": 0}
    real_commit = DocStore.commit

    def crash_on_second_chunk(self):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        real_commit(self)

    monkeypatch.setattr(DocStore, "commit", crash_on_second_chunk)
    with Index.open(tmp_path / "ix", writable=True) as index, pytest.raises(KeyboardInterrupt):
        index.encode_missing(encoder, batch_size=2)
    monkeypatch.setattr(DocStore, "commit", real_commit)
    with Index.open(tmp_path / "ix", writable=True) as index:
        assert index.encode_missing(encoder, batch_size=2) == 3  # 2 were committed before the crash
        assert index.encode_missing(encoder) == 0
        hits = index.search_dense(encoder.encode_queries(["Vulkan Magma"]), k=1)[0]
        assert hits[0][0] == "de-volcano"


def test_hybrid_and_the_cli_modes(tmp_path, encoder):
    with Index.create(tmp_path / "ix", encoder=encoder) as index:
        index.add(DOCS)
        queries = [Query("q1", "ocean tides Moon", "en"), Query("q2", "首都", "zh")]
        for mode in ("bm25", "dense", "hybrid"):
            run = from_mode(index, mode).retrieve(queries, k=3)
            assert run.ranking("q1")[0][0] == "en-moon", mode
            assert run.ranking("q2")[0][0] == "zh-capital", mode
    result = run_cli("search", tmp_path / "ix", "--query", "grande animal terrestre", "--mode", "dense", "--k", "1",
                     check=True)
    assert result.stdout.split()[1] == "th-elephant"
    result = run_cli("search", tmp_path / "ix", "--query", "x", "--mode", "sparse")
    assert result.returncode == 2 and "no sparse vectors" in result.stderr


def test_dense_mode_on_an_index_without_vectors_is_a_user_error(tmp_path):
    with Index.create(tmp_path / "ix") as index:  # BM25 only (an empty index is refused before the mode)
        index.add([Doc("d1", "x marks the spot", lang="en")])
    result = run_cli("search", tmp_path / "ix", "--query", "x", "--mode", "dense")
    assert result.returncode == 2 and "no dense vectors" in result.stderr and "Traceback" not in result.stderr


def test_learned_sparse_index_search_and_hybrid(tmp_path):
    corpus = write(tmp_path / "c.jsonl", "".join(json.dumps({"id": d.id, "text": d.text, "lang": d.lang},
                                                            ensure_ascii=False) + "\n" for d in DOCS))
    run_cli("index", corpus, "-o", tmp_path / "ix", "--dense", "--sparse", "-q", check=True)
    with Index.open(tmp_path / "ix") as index:
        assert index.manifest["sparse"]["dim"] > 0
        hits = index.search_sparse(["ocean tides and the Moon", "Vulkan Magma"], k=2)
        assert [h[0][0] for h in hits] == ["en-moon", "de-volcano"]
    topics = write(tmp_path / "t.tsv", "q1\tocean tides Moon\ten\nq2\t首都\tzh\n")
    for extra in (["--mode", "sparse"], ["--mode", "hybrid", "--hybrid-of", "bm25,dense,sparse", "--fusion", "linear",
                                         "--weights", "0.2,0.5,0.3"]):
        run_cli("search", tmp_path / "ix", "--topics", topics, "-o", tmp_path / "r.run", "-q", *extra, check=True)
        first = {line.split()[0]: line.split()[2] for line in (tmp_path / "r.run").read_text().splitlines()
                 if line.split()[3] == "1"}
        assert first == {"q1": "en-moon", "q2": "zh-capital"}, extra
    bad = run_cli("search", tmp_path / "ix", "--query", "x", "--mode", "hybrid", "--hybrid-of", "bm25")
    assert bad.returncode == 2 and "two or more" in bad.stderr
    bad = run_cli("search", tmp_path / "ix", "--query", "x", "--mode", "hybrid", "--fusion", "linear", "--weights", "1")
    assert bad.returncode == 2 and "3 modes (bm25, dense, sparse) but 1 weights" in bad.stderr


def test_doc_langs_filter_in_every_mode(tmp_path):
    corpus = write(tmp_path / "c.jsonl", "".join(json.dumps({"id": d.id, "text": d.text, "lang": d.lang},
                                                            ensure_ascii=False) + "\n" for d in DOCS))
    run_cli("index", corpus, "-o", tmp_path / "ix", "--dense", "--sparse", "-q", check=True)
    queries = [Query("q1", "Moon ocean tides Mond Vulkan 月球 首都", "en")]
    with Index.open(tmp_path / "ix") as index:
        for mode in ("bm25", "dense", "sparse", "hybrid"):
            everything = from_mode(index, mode).retrieve(queries, k=5)["q1"]
            assert "en-moon" in everything, mode
            kept = from_mode(index, mode, doc_langs="de,zh").retrieve(queries, k=5)["q1"]
            assert kept and {doc[:2] for doc in kept} <= {"de", "zh"}, (mode, kept)
        with pytest.raises(BabelirError, match="no documents in fr .*the index holds: de, en, sw, th, zh"):
            from_mode(index, "bm25", doc_langs=["fra"])
    result = run_cli("search", tmp_path / "ix", "--query", "Moon tides", "--mode", "dense", "--doc-langs", "th",
                     "--k", "3", check=True)
    assert "th-elephant" in result.stdout and "en-moon" not in result.stdout
    bad = run_cli("search", tmp_path / "ix", "--query", "x", "--doc-langs", "fi")
    assert bad.returncode == 2 and "no documents in fi" in bad.stderr and "Traceback" not in bad.stderr
    bad = run_cli("search", tmp_path / "ix", "--query", "x", "--doc-langs", "xx")
    assert bad.returncode == 2 and "unknown language code 'xx'" in bad.stderr and "Traceback" not in bad.stderr


def test_ann_graphs_are_built_used_and_rebuilt_when_stale(tmp_path, caplog):
    pytest.importorskip("faiss")
    corpus = write(tmp_path / "c.jsonl", "".join(json.dumps({"id": d.id, "text": d.text, "lang": d.lang},
                                                            ensure_ascii=False) + "\n" for d in DOCS[:4]))
    result = run_cli("index", corpus, "-o", tmp_path / "ix", "--dense", "--ann", "-q", check=True)
    assert "ANN: HNSW" in result.stdout
    record = json.loads((tmp_path / "ix" / "ann" / "ann.json").read_text())
    assert record["groups"] == {"all": {"file": "g0", "count": 4}} and not record["corrected"]
    encoder = get_encoder()
    queries = encoder.encode_queries(["月球和海洋潮汐", "ช้าง elephant"])
    with Index.open(tmp_path / "ix", writable=True) as index:
        assert index._ann_for(False, None) is not None  # the graphs match the latest commit
        for approximate, exact in zip(index.search_dense(queries, k=3), index.search_dense(queries, k=3, exact=True)):
            assert [d for d, _ in approximate] == [d for d, _ in exact]
            assert [s for _, s in approximate] == pytest.approx([s for _, s in exact], abs=1e-5)
        index.add(DOCS[4:])  # a new commit: the graphs are stale, search is exact and says so
        with caplog.at_level("WARNING", logger="babelir"):
            hits = index.search_dense(encoder.encode_queries(["Vulkan Magma"]), k=1)[0]
        assert hits[0][0] == "de-volcano" and "older commit" in caplog.text
        assert index._ann_for(False, None) is None
    run_cli("index", corpus, "-o", tmp_path / "ix", "--dense", "--ann", "-q", check=True)
    assert json.loads((tmp_path / "ix" / "ann" / "ann.json").read_text())["groups"]["all"]["count"] == 5
    bad = run_cli("index", corpus, "-o", tmp_path / "ix2", "--ann")
    assert bad.returncode == 2 and "--ann needs --dense" in bad.stderr


def test_tune_stores_per_language_weights_that_hybrid_search_uses(tmp_path):
    corpus = write(tmp_path / "c.jsonl", "".join(json.dumps({"id": d.id, "text": d.text, "lang": d.lang},
                                                            ensure_ascii=False) + "\n" for d in DOCS))
    run_cli("index", corpus, "-o", tmp_path / "ix", "--dense", "-q", check=True)
    topics = write(tmp_path / "t.tsv", "".join(f"en{i}\t{text}\ten\n" for i, text in enumerate(
        ["Moon tides", "ocean tides", "the capital of China", "elephant", "volcano magma", "coffee beans"])))
    answers = ["en-moon", "en-moon", "zh-capital", "th-elephant", "de-volcano", "sw-coffee"]
    qrels = write(tmp_path / "q.trec", "".join(f"en{i} 0 {d} 1\n" for i, d in enumerate(answers)))
    result = run_cli("tune", tmp_path / "ix", "--topics", topics, "--qrels", qrels, "--step", "0.5", check=True)
    assert "held-out tuned" in result.stdout and "stored in" in result.stdout
    stored = json.loads((tmp_path / "ix" / "manifest.json").read_text())["fusion_weights"]
    # by default tune picks the weights of the default hybrid: z-score fusion of the index's modes
    assert stored["modes"] == ["bm25", "dense"] and stored["fusion"] == "zscore" and list(stored["by_lang"]) == ["en"]
    with Index.open(tmp_path / "ix") as index:
        from babelir.retrieve.stage import Hybrid

        assert Hybrid(index)._hybrid._tuned_weights() == stored["by_lang"]
        retriever = from_mode(index, "hybrid")
        run = retriever.retrieve([Query("a", "volcano magma", "en"), Query("b", "首都", "zh")], k=2)
        assert run.ranking("a")[0][0] == "de-volcano" and run.ranking("b")  # zh: no tuned weights, equal ones
    bad = run_cli("tune", tmp_path / "ix", "--topics", topics, "--qrels", qrels, "--hybrid-of", "bm25")
    assert bad.returncode == 2 and "two or more" in bad.stderr
