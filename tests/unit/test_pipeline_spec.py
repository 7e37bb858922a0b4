"""Pipeline specs: parsed, printed, parsed back equal; mistakes are one line naming the character;
--mode maps to specs; a user-defined stage registered by name composes with built-in ones."""

import sys

import pytest

from babelir.encode.base import get_encoder
from babelir.errors import BabelirError
from babelir.index.core import Index
from babelir.retrieve import pipeline as P
from babelir.retrieve.stage import BM25, Dense, GroupEvidence, Hybrid, Stage
from babelir.run import Run
from babelir.types import Doc, Query
from tests.conftest import run_cli, write

DOCS = [Doc("en-moon", "The Moon causes ocean tides", lang="en", group="g1"),
        Doc("en-tea", "Tea is a drink made from leaves", lang="en", group="g1"),
        Doc("de-moon", "Der Mond verursacht die Gezeiten im Meer", lang="de", group="g2"),
        Doc("de-bread", "Brot wird aus Mehl gebacken", lang="de", group="g3"),
        Doc("fr-moon", "La Lune provoque les marées de l'océan", lang="fr", group="g4")]
QUERIES = [Query("q1", "Moon tides ocean", "en"), Query("q2", "Mond Gezeiten", "de")]


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    path = tmp_path_factory.mktemp("spec") / "ix"
    with Index.create(path, encoder=get_encoder(), sparse=True) as ix:
        ix.add(DOCS)
    with Index.open(path) as ix:
        yield ix


SPECS = ["bm25", "bm25(k1=0.9,b=0.4)", "dense(exact=true)", "dense(debias=false,doc_langs=[de,en])",
         "sparse(k=50)", "hybrid(bm25,dense,sparse,fusion=zscore)",
         "hybrid(bm25(k1=1.2),dense(standardise=false),fusion=linear,weights=[0.3,0.7]) >> group(weight=1.0)",
         "hybrid(bm25,dense,fusion=rrf,depth=200,language_aware=false)", "bm25 >> group(weight=0.5)"]


@pytest.mark.parametrize("spec", SPECS)
def test_a_spec_prints_itself_and_parses_back_equal(index, spec):
    stage = P.parse_pipeline(spec, index)
    assert stage.describe() == spec
    again = P.parse_pipeline(stage.describe(), index)
    assert again == stage and str(again) == spec


def test_spaces_and_defaults(index):
    stage = P.parse_pipeline("  hybrid ( bm25 , dense )  >>  group ", index)
    assert str(stage) == "hybrid(bm25,dense,fusion=zscore) >> group(weight=1.0)"  # groups, no language with 100+ documents: on
    assert str(P.parse_pipeline("hybrid", index)) == "hybrid(bm25,dense,sparse,fusion=zscore)"  # the index's modes
    assert P.parse_pipeline("bm25(k1=0.9)", index) == BM25(index, k1=0.9)


@pytest.mark.parametrize("spec, message", [
    ("bm52", "character 1: unknown stage 'bm52' (known: bm25, dense, group, hybrid, rerank, sparse)"),
    ("bm25 >> grup", "character 9: unknown stage 'grup'"),
    ("bm25(k2=1)", "character 6: bm25 has no parameter 'k2' (it takes: k1, b, doc_langs, k)"),
    ("bm25(k1=fast)", "character 1: bm25: k1 must be a number 0 or more, not 'fast'"),
    ("bm25(b=2)", "b must be a number between 0 and 1"),
    ("dense(exact=yes)", "dense: exact must be true or false, not 'yes'"),
    ("hybrid(bm25,dense,fusion=max)", "unknown fusion 'max'"),
    ("hybrid(bm25)", "two or more stages"),
    ("hybrid(bm25,dense,fusion=rrf,weights=[1,2])", "rrf fuses ranks"),
    ("bm25(", "character 6: expected a value"),
    ("bm25 dense", "character 6: expected '>>' or the end, found 'dense'"),
    ("bm25 >> ", "character 9: expected a stage name"),
    ("bm25(doc_langs=[fi])", "no documents in fi"),
    ("bm25 >> dense", "first stage"),
    ("", "the pipeline is empty"),
])
def test_mistakes_are_one_line_naming_the_place(index, spec, message):
    with pytest.raises(BabelirError) as caught:
        P.parse_pipeline(spec, index).retrieve(QUERIES, 5)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_rerank_is_resolved_lazily_and_says_when_it_is_missing(index, monkeypatch):
    monkeypatch.setitem(sys.modules, "babelir.retrieve.rerank", None)  # as before the module exists
    with pytest.raises(BabelirError, match=r"character 9: rerank\(\.\.\.\) is not available"):
        P.parse_pipeline("bm25 >> rerank(ce:models/ce,depth=100)", index)


class DropLang(Stage):
    def __init__(self, lang, index=None):
        self.lang, self.index = lang, index

    def transform(self, queries, run=None):
        langs = self.index.store.langs(sorted({d for q in run for d in run[q]}))
        return Run({q: {d: s for d, s in run[q].items() if langs[d] != self.lang} for q in run})

    def describe(self):
        return f"drop({self.lang})"


def test_a_registered_user_stage_composes_in_specs(index, monkeypatch):
    monkeypatch.setattr(P, "_FACTORIES", dict(P._FACTORIES))
    P.register_stage("drop", DropLang)
    spec = "hybrid(bm25,dense,fusion=zscore) >> drop(de) >> group(weight=1.0)"
    parsed = P.parse_pipeline(spec, index)
    assert str(parsed) == spec and P.parse_pipeline(str(parsed), index) == parsed
    built = (BM25(index) | Dense(index)).fuse("zscore") >> DropLang("de") >> GroupEvidence(1.0)
    run, same = parsed.retrieve(QUERIES, 5), built.retrieve(QUERIES, 5)
    assert run["q2"] and not any(d.startswith("de-") for q in run for d in run[q])
    assert all(run.ranking(q) == same.ranking(q) for q in run)
    with pytest.raises(BabelirError, match="drop has no parameter 'x'"):
        P.parse_pipeline("bm25 >> drop(de,x=1)", index)
    with pytest.raises(BabelirError, match="a stage name is a word"):
        P.register_stage("my stage", DropLang)


def test_modes_map_to_specs(index):
    assert P.mode_spec(index, "bm25") == "bm25 >> group"
    assert P.mode_spec(index, "dense", group_weight=0.0) == "dense"
    assert P.mode_spec(index, "hybrid", group_weight=0.0) == "hybrid(bm25,dense,sparse,fusion=zscore)"
    assert P.mode_spec(index, "hybrid", hybrid_of=("bm25", "dense"), fusion="linear", weights=[1.0, 2.0], k1=0.9,
                       debias=False, doc_langs="de,en", group_weight=1.0, language_aware=False) == (
        "hybrid(bm25(k1=0.9,doc_langs=[de,en]),dense(debias=false,doc_langs=[de,en]),fusion=linear,"
        "weights=[1.0,2.0],language_aware=false) >> group(weight=1.0)")
    assert P.run_tag(P.parse_pipeline("bm25 >> group", index)) == "babelir:bm25>>group(weight=1.0)"
    assert str(Hybrid(index) >> GroupEvidence()) == P.mode_spec(index, "hybrid").replace("group", "group(weight=1.0)")


def test_search_pipeline_on_the_command_line(tmp_path):
    corpus = write(tmp_path / "c.jsonl", "".join(
        f'{{"id": "{d.id}", "text": "{d.text}", "lang": "{d.lang}"}}\n' for d in DOCS))
    run_cli("index", corpus, "-o", tmp_path / "ix", "-q", check=True)
    topics = write(tmp_path / "t.tsv", "q1\tMoon tides ocean\ten\n")
    spec = "bm25(k1=0.9,b=0.4) >> group(weight=1.0)"
    run_cli("search", tmp_path / "ix", "--topics", topics, "-o", tmp_path / "r.run", "--pipeline", spec, check=True)
    assert (tmp_path / "r.run.pipeline").read_text() == spec + "\n"
    tags = {line.split()[5] for line in (tmp_path / "r.run").read_text().splitlines()}
    assert tags == {"babelir:bm25(k1=0.9,b=0.4)>>group(weight=1.0)"}
    shown = run_cli("search", tmp_path / "ix", "--query", "Moon tides", "--pipeline", "bm25", "--k", "2", check=True)
    assert shown.stdout.split()[1] == "en-moon"
    bad = run_cli("search", tmp_path / "ix", "--query", "Moon", "--pipeline", "bm25(k2=1)")
    assert bad.returncode == 2 and "character 6: bm25 has no parameter 'k2'" in bad.stderr and "Traceback" not in bad.stderr
    both = run_cli("search", tmp_path / "ix", "--query", "Moon", "--pipeline", "bm25", "--k1", "0.5")
    assert both.returncode == 2 and "--pipeline replaces --mode" in both.stderr
