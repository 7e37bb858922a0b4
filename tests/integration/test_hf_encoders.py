"""hf:PATH and st:PATH encoders, on tiny randomly initialised models built in the test session."""

import json

import numpy as np
import pytest

from tests.conftest import run_cli, write
from tests.tiny_models import build_tiny_bert

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    """A 2-layer BERT with a 24-entry WordPiece vocabulary, saved as a transformers directory."""
    from transformers import AutoTokenizer

    folder = build_tiny_bert(tmp_path_factory.mktemp("tiny-bert"))
    assert AutoTokenizer.from_pretrained(folder).tokenize("Volcano magma") == ["volcano", "magma"]
    return folder


def test_hf_encoder_mean_pools_with_its_prefixes(tiny_bert):
    from transformers import AutoModel, AutoTokenizer

    from babelir.encode.base import get_encoder

    encoder = get_encoder(f"hf:{tiny_bert}", cache=False)
    vectors = encoder.encode_passages(["the moon and the ocean tides", "volcano magma"])
    assert vectors.shape == (2, 32) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # the same numbers by hand: "passage: " prefix, masked mean of the last hidden states, unit length
    tokenizer, model = AutoTokenizer.from_pretrained(tiny_bert), AutoModel.from_pretrained(tiny_bert)
    batch = tokenizer(["passage: volcano magma"], return_tensors="pt")
    with torch.no_grad():
        expected = model(**batch).last_hidden_state.mean(1)[0].numpy()
    assert np.allclose(vectors[1], expected / np.linalg.norm(expected), atol=1e-5)
    assert not np.allclose(encoder.encode_queries(["volcano magma"])[0], vectors[1])  # prefixes differ
    assert encoder.config()["name"] == f"hf:{tiny_bert}" and "model.safetensors" in encoder.config()["weights"]


def test_hf_encoder_through_index_and_search(tiny_bert, tmp_path):
    corpus = write(tmp_path / "c.jsonl", "".join(json.dumps({"id": i, "text": t, "lang": "en"}) + "\n" for i, t in
                                                 [("a", "the moon and the ocean tides"), ("b", "volcano magma"),
                                                  ("c", "coffee")]))
    run_cli("index", corpus, "-o", tmp_path / "ix", "--dense", "--encoder", f"hf:{tiny_bert}", "-q", check=True)
    manifest = json.loads((tmp_path / "ix" / "manifest.json").read_text())
    assert manifest["encoder"]["name"] == f"hf:{tiny_bert}" and manifest["encoder"]["dim"] == 32
    # an exact text match is the nearest neighbour even for a random model (same tokens, prefixes aside)
    result = run_cli("search", tmp_path / "ix", "--query", "volcano magma", "--mode", "dense", "--k", "3",
                     check=True)
    assert result.stdout.split()[1] == "b"
    bad = run_cli("index", corpus, "-o", tmp_path / "ix2", "--sparse", "--encoder", f"hf:{tiny_bert}")
    assert bad.returncode == 2 and "no learned sparse head" in bad.stderr
    missing = run_cli("index", corpus, "-o", tmp_path / "ix3", "--dense", "--encoder", f"hf:{tmp_path}/nothing")
    assert missing.returncode == 2 and "no such model directory" in missing.stderr


def test_st_encoder_uses_the_models_prompts(tiny_bert, tmp_path):
    st = pytest.importorskip("sentence_transformers")
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer

    folder = tmp_path / "tiny-st"
    model = st.SentenceTransformer(modules=[Transformer(str(tiny_bert)), Pooling(32, pooling_mode="mean")],
                                   prompts={"query": "query: ", "passage": "passage: "}, device="cpu")
    model.save(str(folder))
    from babelir.encode.base import get_encoder

    encoder = get_encoder(f"st:{folder}", cache=False)
    assert encoder.dim == 32 and encoder.prompts == {"query": "query", "passage": "passage"}
    vectors = encoder.encode_passages(["volcano magma"])
    expected = model.encode(["passage: volcano magma"], normalize_embeddings=True)
    assert np.allclose(vectors, expected, atol=1e-5)
    assert not np.allclose(encoder.encode_queries(["volcano magma"]), vectors)
