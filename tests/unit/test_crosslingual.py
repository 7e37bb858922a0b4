"""Language-bias correction and the same-language share, on data whose right answers are known."""

import numpy as np
import pytest

from babelir.evaluate.crosslingual import same_language_share
from babelir.index.dense import DenseVectors, write_chunk
from babelir.run import Run


def test_same_language_share_hand_checked():
    run = Run({"q1": {"en-a": 3, "en-b": 2, "de-c": 1, "de-d": 0.5}, "q2": {"de-x": 1.0}})
    share = same_language_share(run, {"q1": "en", "q2": "en"}, {"en-a": "en", "en-b": "en", "de-c": "de",
                                                               "de-d": "de", "de-x": "de"}, depth=4)
    assert share == pytest.approx((2 / 4 + 0 / 1) / 2)


def _language_clustered(tmp_path):
    """Two languages of 150 documents: a strong language direction plus a weak topic direction.
    Topic 0 exists only in language 'b'; a language-'a' query about topic 0 must find it."""
    rng = np.random.default_rng(0)
    dim = 64
    lang_dir = {"a": rng.normal(size=dim), "b": rng.normal(size=dim)}
    topics = rng.normal(size=(10, dim))
    docnos, vectors, langs = [], [], {}
    for i in range(300):
        lang = "a" if i < 150 else "b"
        topic = (i % 9) + 1 if lang == "a" else i % 10  # language a never covers topic 0
        vectors.append(3.0 * lang_dir[lang] + topics[topic] + 0.1 * rng.normal(size=dim))
        docnos.append(i)
        langs[i] = lang
    vectors = np.array(vectors, dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    write_chunk(tmp_path, "c0", np.array(docnos), vectors)
    query = 3.0 * lang_dir["a"] + topics[0]
    ids = {n: f"{lang}-{n}" for n, lang in langs.items()}
    return DenseVectors(tmp_path, ["c0"], ids, langs), (query / np.linalg.norm(query))[None, :].astype(np.float32), langs


def test_correction_finds_the_other_language_answer(tmp_path):
    dense, query, langs = _language_clustered(tmp_path)
    plain = dense.search(query, 5)[0]
    assert all(doc.startswith("a-") for doc, _ in plain)  # language wins over topic
    assert dense.corrects_bias
    corrected = dense.search(dense.debias_queries(query, ["a"]), 5, debias=True)[0]
    assert all(doc.startswith("b-") and int(doc[2:]) % 10 == 0 for doc, _ in corrected)  # topic 0, in b


def test_languages_with_few_documents_are_only_centred(tmp_path):
    vectors = np.eye(4, dtype=np.float32)
    write_chunk(tmp_path, "c0", np.arange(4), vectors)
    langs = {0: "en", 1: "de", 2: "th", 3: "zh"}
    dense = DenseVectors(tmp_path, ["c0"], {n: str(n) for n in langs}, langs)
    assert not dense.corrects_bias
    assert np.allclose(dense.means, dense.overall_mean)


def test_standardised_scores_are_z_scores_within_each_document_language(tmp_path):
    dense, query, langs = _language_clustered(tmp_path)
    corrected_query = dense.debias_queries(query, ["a"])
    hits = dict(dense.search(corrected_query, 300, debias=True)[0])
    cosines = dict(dense.search(corrected_query, 300, debias=True, standardise=False)[0])
    for lang in ("a", "b"):
        ids = [f"{lang}-{n}" for n, own in langs.items() if own == lang]
        raw = np.array([cosines[i] for i in ids], dtype=np.float64)
        expected = (raw - raw.mean()) / raw.std()
        assert np.allclose([hits[i] for i in ids], expected, atol=1e-3)
        # within a language the order is the cosine order
        assert sorted(ids, key=lambda i: -hits[i])[:10] == sorted(ids, key=lambda i: -cosines[i])[:10]


def test_standardisation_lets_each_languages_best_document_compete(tmp_path):
    """Language 'b' scores spread wider than language 'a' scores: without standardisation the top
    of the ranking is all 'b'; with it, each language's best document is near the top."""
    rng = np.random.default_rng(1)
    dim = 32
    vectors = rng.normal(size=(300, dim)).astype(np.float32)
    vectors[150:, :4] *= 6.0  # 'b' documents vary much more along the query's direction
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    langs = {n: ("a" if n < 150 else "b") for n in range(300)}
    write_chunk(tmp_path, "c0", np.arange(300), vectors)
    dense = DenseVectors(tmp_path, ["c0"], {n: f"{lang}-{n}" for n, lang in langs.items()}, langs)
    query = np.zeros((1, dim), dtype=np.float32)
    query[0, :4] = 0.5
    top_means_only = dense.search(query, 20, debias=True, standardise=False)[0]
    top_standardised = dense.search(query, 20, debias=True)[0]
    assert sum(doc[0] == "a" for doc, _ in top_means_only) <= 2
    assert 6 <= sum(doc[0] == "a" for doc, _ in top_standardised) <= 14


def test_ann_graphs_per_language_match_exact_corrected_search(tmp_path):
    pytest.importorskip("faiss")
    from babelir.index.ann import ann_search, build_ann, load_ann

    dense, query, langs = _language_clustered(tmp_path)
    record = build_ann(tmp_path, dense, generation=7, corrected=True)
    assert record["corrected"] and set(record["groups"]) == {"a", "b"}
    record, graphs = load_ann(tmp_path)
    corrected = dense.debias_queries(query, ["a"])
    for standardise in (True, False):
        exact = dense.search(corrected, 20, debias=True, standardise=standardise)[0]
        approximate = ann_search(dense, record, graphs, corrected, 20, standardise=standardise)[0]
        assert [d for d, _ in approximate] == [d for d, _ in exact]
        assert np.allclose([s for _, s in approximate], [s for _, s in exact], atol=1e-3)
    only_b = ann_search(dense, record, graphs, corrected, 5, doc_langs={"b"})[0]
    assert only_b and all(d.startswith("b-") for d, _ in only_b)
