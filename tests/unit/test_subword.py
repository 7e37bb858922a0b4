"""The subword (SentencePiece) analyzer: trained on the corpus, stored in the index, checked on open."""

import json

import pytest

from babelir.errors import IndexFormatError
from babelir.index.build import build_index
from babelir.index.core import Index
from babelir.text.subword import MODEL_FILE, SubwordAnalyzer, train_subword_model
from tests.conftest import run_cli, write

TEXTS = [
    "The Moon is Earth's only natural satellite and it causes the tides.",
    "月球是地球唯一的天然卫星。它的引力引起了海洋的潮汐。",
    "ดวงจันทร์เป็นดาวบริวารตามธรรมชาติดวงเดียวของโลก",
    "Луна — единственный естественный спутник Земли.",
    "Mwezi ni setilaiti pekee ya asili ya Dunia.",
] * 20


@pytest.fixture(scope="module")
def analyzer():
    return SubwordAnalyzer(train_subword_model(TEXTS, vocab_size=300))


def test_pieces_are_deterministic_and_cover_every_script(analyzer):
    for text in TEXTS[:5]:
        pieces = analyzer.analyze(text)
        assert pieces and pieces == analyzer.analyze(text)
        assert all(piece and not any(ch.isspace() for ch in piece) for piece in pieces)
    assert analyzer.analyze("MOON") == analyzer.analyze("moon")  # case folded


def test_index_keeps_the_model_and_checks_it(tmp_path, analyzer):
    with Index.create(tmp_path / "ix", analyzer=analyzer) as index:
        from babelir.types import Doc

        index.add([Doc(f"d{i}", t) for i, t in enumerate(TEXTS[:5])])
    manifest = json.loads((tmp_path / "ix" / "manifest.json").read_text())
    assert manifest["analyzer"]["name"] == "subword" and (tmp_path / "ix" / MODEL_FILE).exists()
    with Index.open(tmp_path / "ix") as index:
        assert index.search("潮汐")[0][0] == "d1"
        assert index.search("sputnik спутник")[0][0] == "d3"
    (tmp_path / "ix" / MODEL_FILE).write_bytes(b"other")
    with pytest.raises(IndexFormatError, match="checksum"):
        Index.open(tmp_path / "ix")


def test_build_index_trains_the_model_on_the_corpus(tmp_path):
    corpus = write(tmp_path / "c.jsonl", "\n".join(json.dumps({"id": f"d{i}", "text": t}, ensure_ascii=False)
                                                for i, t in enumerate(TEXTS)) + "\n")
    build_index(corpus, tmp_path / "ix", analyzer="subword", subword_vocab=300, quiet=True, lang="en")
    with Index.open(tmp_path / "ix") as index:
        assert index.manifest["analyzer"]["vocab_size"] <= 300
        assert index.search("Dunia")[0][0] in {f"d{i}" for i in range(4, 100, 5)}


def test_cli_subword_index(tmp_path):
    corpus = write(tmp_path / "c.jsonl", "\n".join(json.dumps({"id": f"d{i}", "text": t, "lang": "en"},
                                                             ensure_ascii=False) for i, t in enumerate(TEXTS)) + "\n")
    run_cli("index", corpus, "-o", tmp_path / "ix", "--analyzer", "subword", "--subword-vocab", "300", "-q", check=True)
    out = run_cli("search", tmp_path / "ix", "--query", "ดวงจันทร์", "--k", "1", check=True).stdout
    assert out.split()[1] in {f"d{i}" for i in range(2, 100, 5)}


def test_words_and_pieces_index_roundtrip(tmp_path):
    corpus = write(tmp_path / "c.jsonl", "\n".join(json.dumps({"id": f"d{i}", "text": t, "lang": "en"},
                                                             ensure_ascii=False) for i, t in enumerate(TEXTS)) + "\n")
    build_index(corpus, tmp_path / "ix", analyzer="language-aware+subword", subword_vocab=300, quiet=True)
    with Index.open(tmp_path / "ix") as index:
        config = index.manifest["analyzer"]
        assert config["name"] == "language-aware+subword" and config["words"]["name"] == "language-aware"
        terms = index.analyzer.analyze("natural satellites", "en")
        assert "satellit" in terms and any(t.startswith("#") for t in terms)
        assert index.search("satellites", lang="en")[0][0] in {f"d{i}" for i in range(0, 100, 5)}
