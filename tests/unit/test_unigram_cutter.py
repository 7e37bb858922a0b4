"""The lean piece cutter (a MARISA trie, SentencePiece's Viterbi in Python) cuts every word as
SentencePiece does: a searching process uses it, an indexing one SentencePiece itself."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from babelir.text import e5_pieces as pieces_module
from babelir.text import unigram

TRICKY = ["ayininin", "xxxiii", "universitätsbibliothek", "ภาษาไทยเป็นภาษา", "北京是中华人民共和国的首都。",
          "türkiye'nin", "\U0010ffff", "a\U0010ffff\U0010fffeb", "😀👍🏽", "x\x00y", "ǆǅ", "ﬁ", "١٢٣", "ـــ",
          "𝔘𝔫𝔦", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "▁▁", "-", "é" * 3, "e\u0301"]


@pytest.fixture(scope="module")
def cutters():
    """(lean terms, SentencePiece terms): ``words -> each word's marked pieces``."""
    return pieces_module._SentencePieceCut().lean_terms, pieces_module._sentencepiece_processor()


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    """A fresh e5-pieces cache under ``tmp_path``: its folder, written; the module forgets it after."""
    monkeypatch.setenv("BABELIR_CACHE_DIR", str(tmp_path))
    pieces_module._cached_files.cache_clear()
    pieces_module._rules.cache_clear()
    try:
        yield pieces_module._cached_files()
    finally:
        pieces_module._cached_files.cache_clear()
        pieces_module._rules.cache_clear()


def lean_used(cut) -> bool:
    return cut.processor is None


def xquadr_words(directory, languages=None, limit=None) -> list[str]:
    """Distinct prepared words of XQuAD-R's contexts and questions, as the analyzer cuts them."""
    words: dict[str, None] = {}
    rules = pieces_module._rules()
    for path in sorted(directory.glob("*.json")):
        if languages and path.stem not in languages:
            continue
        for article in json.loads(path.read_text(encoding="utf-8"))["data"]:
            for paragraph in article["paragraphs"]:
                texts = [paragraph["context"]] + [qa["question"] for qa in paragraph["qas"]]
                for text in texts:
                    words.update(dict.fromkeys(filter(None, pieces_module._prepare(text, rules).split(" "))))
        if limit and len(words) > limit:
            break
    return list(words)


def test_tricky_words_are_cut_as_sentencepiece_cuts_them(cutters):
    lean, sentencepiece = cutters
    assert lean(TRICKY) == sentencepiece(TRICKY)
    assert lean(["universitätsbibliothek"]) == [("~▁univers", "~ität", "~s", "~bibliothek")]


def test_xquadr_words_of_four_scripts_are_cut_alike(cutters, xquadr_dir):
    lean, sentencepiece = cutters
    words = xquadr_words(xquadr_dir, {"de", "ru", "th", "zh"}, limit=20_000)
    assert len(words) > 10_000
    assert lean(words) == sentencepiece(words)


@pytest.mark.slow
def test_every_xquadr_word_is_cut_alike(cutters, xquadr_dir):
    lean, sentencepiece = cutters
    words = xquadr_words(xquadr_dir)
    assert len(words) > 100_000
    assert lean(words) == sentencepiece(words)


ALPHABET = st.sampled_from(list("aeinrstuy'ılşçğöüäßéèàñ") + list("бвгдеиклмнорст") + list("กขคงจนมยรลวอะาิีุู่้")
                           + list("中国人的是北京首都") + ["\U0010ffff", "😀", "\u0301", "ـ", "٣", "▁"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(ALPHABET, min_size=1, max_size=24), min_size=1, max_size=8))
def test_generated_words_are_cut_alike(cutters, words):
    lean, sentencepiece = cutters
    assert lean(words) == sentencepiece(words)


def test_the_float32_path_alone_cuts_alike(cutters, monkeypatch):
    """Every comparison treated as a near tie: each word is cut in float32 only, as SentencePiece adds."""
    lean, sentencepiece = cutters
    monkeypatch.setattr(unigram, "ROUNDING", 1.0)
    words = TRICKY + ["ayininin", "Bibliotheken", "zeitschriften", "ünivers"]
    assert lean(words) == sentencepiece(words)


def test_float64_sums_give_way_to_float32_near_ties(monkeypatch):
    cutter = pieces_module._lean_cutter()
    exact = []
    original = cutter._viterbi

    def counting(text, scores, slack):
        exact.append(slack is None)
        return original(text, scores, slack)

    monkeypatch.setattr(cutter, "_viterbi", counting)
    monkeypatch.setattr(unigram, "ROUNDING", 1.0)
    cutter.cut("bibliothek")
    assert exact == [False, True]  # every comparison a near tie: float64 first, then float32
    exact.clear()
    monkeypatch.setattr(unigram, "ROUNDING", 0.0)
    cutter.cut("bibliothek")
    assert exact == [False]  # no tie: float64 decides
    exact.clear()
    assert cutter.cut("ayininin") == ["▁ay", "inin", "in"]
    assert exact == [False, True]  # ▁ay+inin+in and ▁ay+in+inin score exactly alike: float32 decides


def test_a_process_that_cuts_many_words_loads_sentencepiece(monkeypatch):
    monkeypatch.setattr(pieces_module, "_many_words", False)
    monkeypatch.setattr(pieces_module, "LEAN_WORDS", 5)
    cut = pieces_module._SentencePieceCut()
    first = cut(["one", "two", "three"])
    assert lean_used(cut) and cut.count == 3
    second = cut(["four", "five", "six"])  # past LEAN_WORDS: SentencePiece from now on
    assert not lean_used(cut)
    assert first + second == pieces_module._sentencepiece_processor()(["one", "two", "three", "four", "five", "six"])

    told = pieces_module._SentencePieceCut()
    pieces_module.expect_many_words()
    assert told(["one"]) == first[:1] and not lean_used(told)


def test_an_older_cache_gains_the_lean_cutters_files(private_cache):
    folder = private_cache
    assert sorted(p.name for p in folder.iterdir()) == sorted(pieces_module.CACHED)
    (folder / "pieces.trie").unlink()  # as a cache written before the lean cutter
    (folder / "pieces.scores.npy").unlink()
    pieces_module._cached_files.cache_clear()
    assert pieces_module._cached_files() == folder
    assert sorted(p.name for p in folder.iterdir()) == sorted(pieces_module.CACHED)
    assert pieces_module._lean_cutter().cut("ayininin") == ["▁ay", "inin", "in"]
    rules = folder / "rules.json"  # a cache written before the checksums: written again when read
    saved = json.loads(rules.read_text())
    del saved["files"]
    rules.write_text(json.dumps(saved))
    pieces_module._cached_files.cache_clear()
    assert pieces_module._lean_cutter().cut("ayininin") == ["▁ay", "inin", "in"]
    assert "files" in json.loads(rules.read_text())


DAMAGE = {"garbage": b"garbage", "empty": b"", "half": None, "directory": "dir"}


@pytest.mark.parametrize("name, how", [(name, "garbage") for name in pieces_module.CACHED] + [
    ("pieces.scores.npy", "empty"), ("pieces.trie", "half"), ("pieces.model", "directory"), ("rules.json", "empty")])
def test_a_damaged_cached_file_is_written_again(private_cache, name, how):
    folder = private_cache
    path = folder / name
    if how == "directory":
        path.unlink()
        (path / "x").mkdir(parents=True)
    else:
        path.write_bytes(path.read_bytes()[:len(path.read_bytes()) // 2] if how == "half" else DAMAGE[how])
    pieces_module._cached_files.cache_clear()
    assert pieces_module._rules().sha256 == pieces_module._vocabulary().rules.sha256
    assert pieces_module._lean_cutter().cut("ayininin") == ["▁ay", "inin", "in"]
    assert pieces_module._sentencepiece_processor()(["ayininin"]) == [("~▁ay", "~inin", "~in")]
    assert path.is_file() and len(path.read_bytes()) > 100


@pytest.mark.parametrize("field, value", [("longest_piece", 2), ("sha256", "0" * 64), ("table", {})])
def test_an_edited_rules_file_is_written_again(private_cache, field, value):
    folder = private_cache
    original = (folder / "rules.json").read_bytes()
    saved = json.loads(original)
    saved[field] = value  # still valid JSON, still the right shape
    (folder / "rules.json").write_text(json.dumps(saved))
    pieces_module._cached_files.cache_clear()
    assert pieces_module._lean_cutter().cut("universitätsbibliothek")[:2] == ["▁univers", "ität"]
    assert pieces_module._rules().sha256 == pieces_module._vocabulary().rules.sha256
    assert json.loads((folder / "rules.json").read_bytes()) == json.loads(original)


@pytest.mark.parametrize("name", ["pieces.trie", "pieces.scores.npy", "pieces.model"])
def test_a_cached_file_with_other_bytes_than_its_checksum_is_written_again(private_cache, name):
    import numpy as np

    folder = private_cache
    original = (folder / name).read_bytes()
    if name == "pieces.scores.npy":  # well formed, other scores
        import io

        scores = np.load(io.BytesIO(original))
        buffer = io.BytesIO()
        np.save(buffer, scores[::-1].copy())
        (folder / name).write_bytes(buffer.getvalue())
    else:
        (folder / name).write_bytes(original[:-8] + bytes(8))
    assert pieces_module._lean_cutter().cut("ayininin") == ["▁ay", "inin", "in"]
    assert pieces_module._sentencepiece_processor()(["ayininin"]) == [("~▁ay", "~inin", "~in")]
    assert (folder / name).read_bytes() == original


def test_a_damaged_cache_that_cannot_be_mended_is_built_in_memory(private_cache, monkeypatch):
    from pathlib import Path

    folder = private_cache
    (folder / "pieces.trie").write_bytes(b"")

    def refused(self, missing_ok=False):
        raise PermissionError(f"[Errno 30] Read-only file system: '{self}'")

    monkeypatch.setattr(Path, "unlink", refused)
    assert pieces_module._lean_cutter().cut("ayininin") == ["▁ay", "inin", "in"]


def test_a_very_long_word_is_cut_by_sentencepiece(monkeypatch):
    monkeypatch.setattr(pieces_module, "_many_words", False)
    cut = pieces_module._SentencePieceCut()
    assert cut(["short", "words"]) and lean_used(cut)
    long_word = "𓀀" * 3313 + "ρόμιοενιαίου"  # the lean cutter breaks a tie otherwise here (path score ~ -1e5)
    assert cut([long_word]) == pieces_module._sentencepiece_processor()([long_word])
    assert not lean_used(cut)


def test_the_longest_lean_word_cannot_score_near_where_the_cutters_part():
    cutter = pieces_module._lean_cutter()
    assert pieces_module.LEAN_LONGEST * -float(cutter.unknown) < 0.5e5  # every piece scores above an unknown
    assert float(cutter.scores.min()) > float(cutter.unknown)
