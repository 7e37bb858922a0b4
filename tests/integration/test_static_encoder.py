"""babelir model distill-static and the static:DIR encoder, on a tiny teacher built in the session."""

import json

import numpy as np
import pytest

from tests.conftest import run_cli, write
from tests.tiny_models import build_tiny_bert

pytest.importorskip("torch")
pytest.importorskip("transformers")

WORDS = ["the", "moon", "ocean", "tides", "volcano", "magma", "lava", "coffee", "beans", "tea", "what", "is"]


@pytest.fixture(scope="module")
def static_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("static")
    teacher = build_tiny_bert(folder / "teacher", words=WORDS, hidden=32)
    result = run_cli("model", "distill-static", "--teacher", f"hf:{teacher}", "-o", str(folder / "static"),
                     "--dim", "8", "--quiet")
    assert result.returncode == 0, result.stderr
    return folder


def test_distilled_table_has_one_row_per_token_and_zero_for_specials(static_dir):
    table = np.load(static_dir / "static" / "embeddings.npy")
    assert table.shape == (5 + len(WORDS), 8) and table.dtype == np.float16
    assert not table[:5].any()  # [PAD] [UNK] [CLS] [SEP] [MASK]: special, never averaged in
    assert np.abs(table[5:]).sum(1).min() > 0
    settings = json.loads((static_dir / "static" / "babelir_static.json").read_text())
    assert settings["dim"] == 8 and settings["tokens"] == len(WORDS)


def test_static_encoder_averages_token_vectors(static_dir):
    from tokenizers import Tokenizer

    from babelir.encode.base import get_encoder

    encoder = get_encoder(f"static:{static_dir / 'static'}")
    vectors = encoder.encode_passages(["the moon", "Volcano magma", "", "zzz"])
    assert vectors.shape == (4, 8) and vectors.dtype == np.float32
    table = np.load(static_dir / "static" / "embeddings.npy").astype(np.float32)  # stored as float16
    ids = Tokenizer.from_file(str(static_dir / "static" / "tokenizer.json")).encode("volcano magma",
                                                                                     add_special_tokens=False).ids
    expected = table[ids].sum(0)
    assert np.allclose(vectors[1], expected / np.linalg.norm(expected), atol=1e-5)
    assert not vectors[2].any()  # no tokens: a zero row
    assert np.allclose(encoder.encode_queries(["the moon"]), vectors[:1])


def test_fit_corpus_moves_sentences_towards_the_teacher(static_dir):
    from babelir.encode.base import get_encoder
    from babelir.train.distill_static import distill_static

    teacher = static_dir / "teacher"
    texts = ["the moon and the ocean tides", "volcano magma is lava", "coffee beans", "tea is what", "the tea"]
    fitted = distill_static(teacher, static_dir / "fitted", dim=12, fit_texts=texts,
                            fit_encoder=get_encoder(f"hf:{teacher}", cache=False), quiet=True)
    plain = distill_static(teacher, static_dir / "plain", dim=12, quiet=True)
    target = get_encoder(f"hf:{teacher}", cache=False).encode_passages(texts)

    def agreement(directory):
        vectors = get_encoder(f"static:{directory}").encode_passages(texts)
        # the static space is the teacher's rotated by PCA: compare similarity structure, not coordinates
        return -np.abs(vectors @ vectors.T - target @ target.T).mean()

    assert agreement(fitted) > agreement(plain)


def test_index_and_search_with_a_static_encoder(static_dir, tmp_path):
    corpus = write(tmp_path / "c.jsonl", "".join(json.dumps({"id": f"d{i}", "text": t, "lang": "en"}) + "\n"
                                                for i, t in enumerate(["the moon and ocean tides", "volcano magma",
                                                                       "coffee beans and tea"])))
    result = run_cli("index", str(corpus), "-o", str(tmp_path / "ix"), "--dense", "--encoder",
                     f"static:{static_dir / 'static'}")
    assert result.returncode == 0, result.stderr
    result = run_cli("search", str(tmp_path / "ix"), "--query", "volcano magma", "--mode", "dense", "--k", "1")
    assert result.returncode == 0 and "d1" in result.stdout


def test_a_missing_static_directory_is_a_clear_error(tmp_path):
    result = run_cli("index", str(write(tmp_path / "c.jsonl", '{"id": "a", "text": "x"}\n')), "-o",
                     str(tmp_path / "ix"), "--dense", "--encoder", f"static:{tmp_path / 'nothing'}")
    assert result.returncode == 2 and "not a static encoder directory" in result.stderr
