"""A lean unigram cutter: SentencePiece's Viterbi over a compact trie of the pieces, for few words.

SentencePiece holds mE5's 250k-piece model in ~55 MB of memory (the model's messages, a hash
map of the pieces and a double-array trie). A process that cuts few new words (one that
searches: a query's words, most of them met before) does not need that: this cutter keeps the
pieces in a MARISA trie (0.8 MB) and their scores in a float32 array (1 MB), and finds the same
pieces, at a few times SentencePiece's cost per word. A process that cuts many words (an index
build) uses SentencePiece itself (:mod:`babelir.text.e5_pieces`).

The search is SentencePiece's own (``unigram_model.cc``, ``Model::EncodeOptimized``; Kudo 2018,
"Subword Regularization", https://arxiv.org/abs/1804.10959), step for step, so that both give the
same pieces, ties included:

- positions advance one character at a time; from each, every piece the text continues with is a
  candidate edge, shortest first;
- a path's score is the float32 sum of its pieces' scores; an end position keeps the first best
  path found (a later candidate replaces it only with a strictly higher score);
- where no piece of one character starts, an unknown edge of one character scores the lowest
  piece score minus 10 (``kUnkPenalty``).

The text is one word, prepared (:func:`babelir.text.e5_pieces._prepare`, no spaces); the model
adds ``▁`` before it (``add_dummy_prefix``).
"""

from __future__ import annotations

from array import array
from itertools import chain

import numpy as np

UNKNOWN_PENALTY = np.float32(10.0)  # SentencePiece's kUnkPenalty


class _Unknown(str):
    """The piece of an unknown character's edge: one character long, told apart by identity."""


UNKNOWN_PIECE = _Unknown("?")
WORD_START = "▁"
ROUNDING = 4 * 2.0 ** -24
"""Per character of a word, the relative gap within which float64 sums are not trusted to order two
paths as SentencePiece's float32 sums do. Sums of the scores are exact in float64 (their exponents
span far less than its 53 bits); float32 rounds each sum by at most 2**-24 of it, and a path's
partial sums are never larger than its total (every score is negative), so a path of n pieces
ends within n * 2**-24 of its exact score: two paths, twice that, and twice again to spare."""


class UnigramCutter:
    """``cut(word) -> its pieces`` (strings, in order; None for an unknown character).

    ``trie``: a :class:`marisa_trie.Trie` of the model's normal pieces; ``scores``: float32
    (len(trie),), each piece's score by the trie's key id."""

    def __init__(self, trie, scores: np.ndarray, longest: int | None = None):
        self.trie, self.scores = trie, np.asarray(scores, dtype=np.float32)
        self.unknown = self.scores.min() - UNKNOWN_PENALTY if len(self.scores) else -UNKNOWN_PENALTY
        # the same values, read as Python floats, then the unknown edge's (at len(trie)); in float32
        # too, made when first needed (rare: two paths within rounding of each other)
        self.floats = array("f", self.scores.tobytes())
        self.floats.append(float(self.unknown))
        self._float32 = None
        self._unknown_edge = ((UNKNOWN_PIECE, len(self.scores)),)
        # the longest piece, in characters (reading every key takes ~0.2 s: the cache keeps it)
        self.longest = longest or max((len(key) for key in trie.iterkeys()), default=1)

    @classmethod
    def build(cls, pieces: list[str], scores: list[float]) -> "UnigramCutter":
        """From the normal pieces and their scores (same order)."""
        import marisa_trie

        trie = marisa_trie.Trie(pieces)
        ordered = np.empty(len(trie), dtype=np.float32)
        ordered[[trie.key_id(piece) for piece in pieces]] = scores
        return cls(trie, ordered)

    @classmethod
    def frombytes(cls, trie_bytes: bytes, scores_bytes: bytes, longest: int | None = None) -> "UnigramCutter":
        """From a saved trie (:meth:`marisa_trie.Trie.tobytes`) and saved scores (``.npy`` bytes)."""
        import io

        import marisa_trie

        trie = marisa_trie.Trie().frombytes(trie_bytes)
        scores = np.load(io.BytesIO(scores_bytes), allow_pickle=False)
        if scores.shape != (len(trie),) or scores.dtype != np.float32:
            raise ValueError(f"{scores.dtype} {scores.shape} scores for {len(trie)} pieces")
        return cls(trie, scores, longest)

    def cut(self, word: str) -> list[str | None]:
        """The pieces of ``▁`` + ``word``, as SentencePiece's unigram Viterbi cuts it."""
        text = WORD_START + word
        found = self._viterbi(text, self.floats, len(text) * ROUNDING)
        if found is None:
            if self._float32 is None:
                self._float32 = np.append(self.scores, self.unknown)
            found = self._viterbi(text, self._float32, None)
        return found

    def _viterbi(self, text: str, scores, slack: float | None) -> list[str | None] | None:
        """``scores``: each piece's by key id, then the unknown edge's. With ``slack`` None: in
        float32, as SentencePiece adds. Otherwise in float64, where sums of these scores are
        exact, and None when two paths come within ``slack`` (relative) of each other: there
        float32's rounding could order them otherwise."""
        size = len(text)
        trie, prefixes, longest = self.trie, self.trie.iter_prefixes_with_ids, self.longest
        best = [scores[0] * 0] * (size + 1)  # the best path's score ending at each position
        starts = [-1] * (size + 1)           # where its last piece starts
        pieces: list[str | None] = [None] * (size + 1)
        for at in range(size):
            here = best[at]
            edges = prefixes(text[at:at + longest])  # shortest first
            if text[at] not in trie:  # no piece of one character here: an unknown one, last
                edges = chain(edges, self._unknown_edge)
            for piece, number in edges:
                end, score = at + len(piece), scores[number] + here
                if starts[end] >= 0:
                    gain = score - best[end]
                    if slack is not None and -slack * -score <= gain <= slack * -score:
                        return None
                    if gain <= 0:
                        continue
                best[end], starts[end], pieces[end] = score, at, piece
        out, end = [], size
        while end > 0:
            out.append(None if pieces[end] is UNKNOWN_PIECE else pieces[end])
            end = starts[end]
        out.reverse()
        return out
