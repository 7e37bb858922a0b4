"""The stage contract: built-in stages give the same runs (same scores) as the search they replace,
compose with ``>>`` / ``|``, and a user-defined stage composes with them."""

import pytest

from babelir.encode.base import get_encoder
from babelir.errors import BabelirError
from babelir.index.core import Index
from babelir.retrieve.pipeline import from_mode
from babelir.retrieve.stage import BM25, Dense, Fuse, GroupEvidence, Hybrid, Sparse, Stage, Then, Union
from babelir.run import Run
from babelir.types import Doc, Query

WORDS = {
    "en": "river mountain city music bread coffee tea forest ocean storm bridge train school market".split(),
    "de": "Fluss Berg Stadt Musik Brot Kaffee Tee Wald Meer Sturm Brücke Zug Schule Markt".split(),
}


def _docs():
    """110 documents in each of two languages (so the dense language correction is on), each with
    a group of three."""
    docs = []
    for lang, words in WORDS.items():
        for i in range(110):
            text = " ".join(words[(i * j + j) % len(words)] for j in range(1, 6)) + f" {lang}{i}"
            docs.append(Doc(f"{lang}-{i:03d}", text, lang=lang, group=f"{lang}-g{i // 3}"))
    return docs


QUERIES = [Query("q1", "river mountain coffee", "en"), Query("q2", "Brot und Kaffee im Wald"),
           Query("q3", "ocean storm bridge"), Query("q4", "Schule Markt Zug", "de")]


@pytest.fixture(scope="module")
def indexes(tmp_path_factory):
    """(multilingual index with dense and sparse vectors and groups, one-language index with groups)."""
    root = tmp_path_factory.mktemp("stage")
    encoder = get_encoder()
    with Index.create(root / "multi", encoder=encoder, sparse=True) as index:
        index.add(_docs())
    with Index.create(root / "one", encoder=encoder, sparse=True) as index:
        index.add([d for d in _docs() if d.lang == "en"][:60])
    return root / "multi", root / "one"


def _same(a: Run, b: Run):
    assert set(a) == set(b)
    for qid in a:
        assert a.ranking(qid) == b.ranking(qid), qid


def _old_factory():
    """The search the old factory (make_retriever, before stages) made, from the retriever classes
    the stages wrap: the same retrievers, fusion and group evidence, threaded by flags. The stages
    were checked against the factory itself (from git, commit 02d41e3's test) before it was removed."""
    import math

    from babelir.retrieve.bm25 import BM25Retriever
    from babelir.retrieve.dense import DenseRetriever, SparseRetriever
    from babelir.retrieve.grouped import MIN_DEPTH, default_group_weight, with_group_evidence
    from babelir.retrieve.hybrid import HybridRetriever, default_modes

    class Grouped:
        def __init__(self, retriever, weight):
            self.retriever, self.weight, self.index = retriever, weight, retriever.index

        def retrieve(self, queries, k=100, lang="auto", quiet=True):
            depth = max(k, MIN_DEPTH)
            run = self.retriever.retrieve(queries, depth, lang, quiet)
            return with_group_evidence(self.index, run, self.weight, depth).cutoff(k)

    def make_retriever(index, mode="bm25", fusion="zscore", weights=None, k1=None, b=None, debias=None,
                       hybrid_of=None, standardise=True, doc_langs=None, exact=False, group_weight=None,
                       language_aware=True):
        group_weight = default_group_weight(index) if group_weight is None else group_weight
        assert math.isfinite(group_weight)
        if mode == "bm25":
            retriever = BM25Retriever(index, k1=k1, b=b, doc_langs=doc_langs)
        elif mode == "dense":
            retriever = DenseRetriever(index, debias=debias, standardise=standardise, doc_langs=doc_langs, exact=exact)
        elif mode == "sparse":
            retriever = SparseRetriever(index, doc_langs=doc_langs)
        else:
            modes = tuple(hybrid_of) if hybrid_of else default_modes(index)
            children = [make_retriever(index, m, k1=k1, b=b, debias=debias, standardise=standardise,
                                       doc_langs=doc_langs, exact=exact, group_weight=0.0) for m in modes]
            retriever = HybridRetriever(index, children, modes, fusion=fusion, weights=weights, debias=debias,
                                        standardise=standardise, language_aware=language_aware)
        return Grouped(retriever, group_weight) if group_weight > 0 else retriever

    return make_retriever


CASES = [  # (make_retriever arguments, the same search as stages)
    (dict(mode="bm25"), lambda ix: BM25(ix) >> GroupEvidence()),
    (dict(mode="bm25", k1=0.9, b=0.4), lambda ix: BM25(ix, k1=0.9, b=0.4) >> GroupEvidence()),
    (dict(mode="dense"), lambda ix: Dense(ix) >> GroupEvidence()),
    (dict(mode="dense", debias=False), lambda ix: Dense(ix, debias=False) >> GroupEvidence()),
    (dict(mode="dense", standardise=False), lambda ix: Dense(ix, standardise=False) >> GroupEvidence()),
    (dict(mode="sparse"), lambda ix: Sparse(ix) >> GroupEvidence()),
    (dict(mode="hybrid"), lambda ix: Hybrid(ix) >> GroupEvidence()),
    (dict(mode="hybrid", fusion="linear"), lambda ix: Hybrid(ix, fusion="linear") >> GroupEvidence()),
    (dict(mode="hybrid", fusion="rrf"), lambda ix: Hybrid(ix, fusion="rrf") >> GroupEvidence()),
    (dict(mode="hybrid", hybrid_of=("bm25", "dense"), weights=[0.3, 0.7]),
     lambda ix: (BM25(ix) | Dense(ix)).fuse("zscore", weights=[0.3, 0.7]) >> GroupEvidence()),
    (dict(mode="hybrid", language_aware=False), lambda ix: Hybrid(ix, language_aware=False) >> GroupEvidence()),
    (dict(mode="hybrid", doc_langs="de", k1=1.5),
     lambda ix: Fuse([BM25(ix, k1=1.5, doc_langs="de"), Dense(ix, doc_langs="de"), Sparse(ix, doc_langs="de")])
     >> GroupEvidence()),
    (dict(mode="bm25", group_weight=0.5), lambda ix: BM25(ix) >> GroupEvidence(0.5)),
    (dict(mode="hybrid", group_weight=1.0), lambda ix: Hybrid(ix) >> GroupEvidence(1.0)),
    (dict(mode="dense", group_weight=0.0), lambda ix: Dense(ix)),
]


@pytest.mark.parametrize("which", [0, 1], ids=["multilingual", "one-language"])
@pytest.mark.parametrize("k", [10, 150])
def test_stages_give_the_old_factorys_runs(indexes, which, k):
    make_retriever = _old_factory()
    for options, stages in CASES:
        with Index.open(indexes[which]) as index:
            if which == 1 and options.get("doc_langs"):
                continue
            old = make_retriever(index, **options).retrieve(QUERIES, k, lang="auto")
        with Index.open(indexes[which]) as index:
            new = stages(index).retrieve(QUERIES, k, lang="auto")
            mode = from_mode(index, **options).retrieve(QUERIES, k, lang="auto")  # babelir search --mode …
        assert any(old.values()), options
        _same(old, new)
        _same(old, mode)


def test_the_lang_option_fills_queries_without_a_language(indexes):
    make_retriever = _old_factory()
    with Index.open(indexes[0]) as index:
        old = make_retriever(index, "hybrid").retrieve(QUERIES, 10, lang="de")
        _same(old, (Hybrid(index) >> GroupEvidence()).retrieve(QUERIES, 10, lang="de"))


class DropLang(Stage):
    """A user-defined filter: the documents of one language leave the run."""

    def __init__(self, lang, index=None):
        self.lang, self.index = lang, index

    def transform(self, queries, run=None):
        langs = self.index.store.langs(sorted({d for q in run for d in run[q]}))
        return Run({q: {d: s for d, s in run[q].items() if langs[d] != self.lang} for q in run})

    def describe(self):
        return f"drop({self.lang})"


def test_a_user_defined_stage_composes_with_built_in_ones(indexes):
    with Index.open(indexes[0]) as index:
        plain = Hybrid(index, ["bm25", "dense"]).retrieve(QUERIES, 20)
        pipeline = (BM25(index) | Dense(index)).fuse("zscore") >> DropLang("en")
        assert isinstance(pipeline, Then) and pipeline.second.index is index  # took its predecessor's index
        assert str(pipeline) == "hybrid(bm25,dense,fusion=zscore) >> drop(en)"
        run = pipeline.retrieve(QUERIES, 20)
        langs = index.store.langs(sorted({d for q in run for d in run[q]}))
        assert run["q1"] and set(langs.values()) == {"de"}
        # the filter keeps the hybrid's scores and order of the documents it keeps
        expected = [(d, s) for d, s in plain.ranking("q1") if d.startswith("de-")]
        assert run.ranking("q1") == expected[:len(run.ranking("q1"))]


def test_describe_and_equality(indexes):
    with Index.open(indexes[0]) as index:
        assert str(BM25(index, k1=0.9, b=0.4)) == "bm25(k1=0.9,b=0.4)"
        assert str(Dense(index, exact=True, doc_langs="de,en")) == "dense(exact=true,doc_langs=[de,en])"
        assert str(Hybrid(index)) == "hybrid(bm25,dense,sparse,fusion=zscore)"
        assert str(Hybrid(index, fusion="rrf") >> GroupEvidence(1.0)) == "hybrid(bm25,dense,sparse,fusion=rrf) >> group(weight=1.0)"
        assert BM25(index, k1=0.9) == BM25(index, k1=0.9) and BM25(index) != BM25(index, k1=0.9)
        assert isinstance(BM25(index) | Dense(index) | Sparse(index), Union)
        assert len((BM25(index) | Dense(index) | Sparse(index)).stages) == 3


def test_misuse_is_a_clear_error(indexes):
    with Index.open(indexes[0]) as index:
        with pytest.raises(BabelirError, match="must be fused"):
            (BM25(index) | Dense(index)).retrieve(QUERIES, 10)
        with pytest.raises(BabelirError, match="must be fused"):
            (BM25(index) | Dense(index)) >> GroupEvidence()
        with pytest.raises(BabelirError, match="first stage"):
            (BM25(index) >> Dense(index)).retrieve(QUERIES, 10)
        with pytest.raises(BabelirError, match="group weight"):
            GroupEvidence(-1)
        with pytest.raises(BabelirError, match="unknown fusion"):
            (BM25(index) | Dense(index)).fuse("max")
        with pytest.raises(BabelirError, match="2 modes .* but 3 weights"):
            (BM25(index) | Dense(index)).fuse("linear", weights=[1, 2, 3])
