"""Tiny randomly initialised models built in the test session (no model hub)."""

import json

WORDS = ["the", "moon", "ocean", "tides", "capital", "china", "elephant", "volcano", "magma", "coffee",
         "北", "京", "首", "都", "ช้าง", "query", ":", "passage", "earth"]


def build_tiny_bert(folder, words=WORDS, hidden=32, seed=0):
    """A 2-layer BERT with a WordPiece vocabulary of ``words``, saved with E5 prefixes in ``folder``."""
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]
    core = Tokenizer(models.WordPiece({t: i for i, t in enumerate(vocab)}, unk_token="[UNK]"))
    core.normalizer = normalizers.BertNormalizer(lowercase=True)
    core.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    core.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2),
                                                                                                ("[SEP]", 3)])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, unk_token="[UNK]", pad_token="[PAD]",
                                        cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]")
    torch.manual_seed(seed)
    model = BertModel(BertConfig(vocab_size=len(vocab), hidden_size=hidden, num_hidden_layers=2, num_attention_heads=2,
                                 intermediate_size=2 * hidden, max_position_embeddings=64))
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    (folder / "babelir_encoder.json").write_text(json.dumps({"query_prefix": "query: ",
                                                             "passage_prefix": "passage: "}))
    return folder
