"""Stemmers: Snowball (PyStemmer) and a light Arabic stemmer; lemmatisers: simplemma's dictionaries.

``get_stemmer(spec)`` returns a function ``list[str] -> list[str]`` for a spec such as
``snowball:russian`` or ``arabic-light+snowball`` (Larkey et al.'s light10 prefix/suffix removal,
as Lucene's ArabicStemmer, followed by Snowball Arabic). ``get_lemmatizer(code, normalize)`` returns
one that replaces each word by its simplemma lemma, normalised again (a German noun's lemma comes back
capitalised).

simplemma's dictionaries are read through its ``TrieDictionaryFactory``: each language's dictionary
becomes a MARISA trie, built once per machine and simplemma version into
``$BABELIR_CACHE_DIR/simplemma/<version>/`` (about 1 s per language) and loaded from there in
milliseconds. The eight languages XQuAD-R lemmatises take ~30 MB so, against ~540 MB as Python
dicts (simplemma's default); the lemmas are the same.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

log = logging.getLogger(__name__)

_AR_PREFIXES = ("وال", "بال", "كال", "فال", "لل", "ال", "و")
_AR_SUFFIXES = ("ها", "ان", "ات", "ون", "ين", "يه", "ية", "ه", "ة", "ي")


def arabic_light(word: str) -> str:
    """Larkey's light10: strip one prefix, then suffixes, keeping at least two letters.

    >>> arabic_light("والكتاب"), arabic_light("مدرسات")
    ('كتاب', 'مدرس')
    """
    for prefix in _AR_PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 2 and (prefix != "و" or len(word) > 3):
            word = word[len(prefix):]
            break
    changed = True
    while changed:
        changed = False
        for suffix in _AR_SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 2:
                word = word[:-len(suffix)]
                changed = True
                break
    return word


@lru_cache(maxsize=None)
def _snowball(algorithm: str):
    import Stemmer

    return Stemmer.Stemmer(algorithm, 50_000)


@lru_cache(maxsize=None)
def get_stemmer(spec: str) -> Callable[[list[str]], list[str]]:
    """The stemming function for ``spec`` (``snowball:<algorithm>`` or ``arabic-light+snowball``)."""
    if spec.startswith("snowball:"):
        stemmer = _snowball(spec.split(":", 1)[1])
        return stemmer.stemWords
    if spec == "arabic-light+snowball":
        stemmer = _snowball("arabic")
        return lambda words: stemmer.stemWords([arabic_light(w) for w in words])
    raise ValueError(f"unknown stemmer {spec!r}")


def _shared_prefix(a: str, b: str) -> int:
    """How many leading characters ``a`` and ``b`` share."""
    return len(os.path.commonprefix([a, b]))


# Languages that capitalise nouns: a case-folded word is also looked up capitalised, as a noun.
CAPITALISED_NOUNS = frozenset({"de", "lb"})


@lru_cache(maxsize=None)
def get_lemmatizer(code: str, normalize: Callable[[str], str]) -> Callable[[list[str]], list[str]]:
    """The lemmatising function for simplemma's language ``code``; a lemma that differs from its
    word is passed through ``normalize`` (the pipeline's normaliser) so that it reads as the text did.
    In German, where simplemma also knows the capitalised form, the noun's lemma is taken unless
    the other reading keeps more of the word ("garten": Garten, not garen; "grossen": gross, not Gros).

    >>> from babelir.text.normalize import default
    >>> get_lemmatizer("de", default)(["häuser", "gärten", "garten", "spielten", "grossen"])
    ['haus', 'garten', 'garten', 'spielen', 'gross']
    """
    from simplemma.utils import normalize_token

    lemmatizer, lookup = _simplemma()
    nouns_first = code in CAPITALISED_NOUNS

    @lru_cache(maxsize=200_000)
    def lemma(word: str) -> str:
        found = lemmatizer.lemmatize(word, lang=code)
        if nouns_first:  # case folding made "Garten" "garten", which simplemma reads as a form of "garen"
            noun = word[:1].upper() + word[1:]
            if lookup.get_lemma(normalize_token(noun), code) is not None:  # simplemma.is_known
                as_noun = lemmatizer.lemmatize(noun, lang=code)
                if _shared_prefix(as_noun.casefold(), word) >= _shared_prefix(found.casefold(), word):
                    found = as_noun
        return word if found == word else normalize(found)

    return lambda words: [lemma(w) for w in words]


@lru_cache(maxsize=1)
def _simplemma():
    """simplemma's default lemmatizer and dictionary lookup, over tries cached on disk."""
    from simplemma import Lemmatizer
    from simplemma.strategies import DefaultStrategy, DictionaryLookupStrategy

    factory = _trie_factory()
    return Lemmatizer(lemmatization_strategy=DefaultStrategy(dictionary_factory=factory)), \
        DictionaryLookupStrategy(factory)


def _stamp(path: Path) -> str:
    """What identifies a file as written: its size, modification time (ns) and inode."""
    stat = path.stat()
    return f"{stat.st_size} {stat.st_mtime_ns} {stat.st_ino}"


def _trie_factory():
    """simplemma's TrieDictionaryFactory, caching its tries under babelir's cache directory and
    writing each one atomically (simplemma writes in place: a process that reads a trie another is
    still writing would find it corrupt and build it again)."""
    from marisa_trie import BytesTrie
    from simplemma.__metadata__ import __version__
    from simplemma.strategies.dictionaries.dictionary_factory import SUPPORTED_LANGUAGES
    from simplemma.strategies.dictionaries.trie_dictionary_factory import TrieDictionaryFactory, TrieWrapDict

    from babelir.encode.cache import cache_dir
    from babelir.io.atomic import atomic_write_bytes, atomic_write_text

    class AtomicTrieFactory(TrieDictionaryFactory):
        __slots__ = ()

        def _get_dictionary_uncached(self, lang):
            # the cached trie memory-mapped, not read whole (a language's 0.6 to 18 MB were read
            # at its first word: ~56 µs a query over 500 XQuAD-R queries), and only when its stamp
            # says it is the file this factory wrote: a file changed since (edited, scribbled on,
            # copied without its times) is built again, not trusted (MARISA checks its structure,
            # not its contents). The file is only ever replaced whole, never changed under a map.
            path = self._cache_dir / f"{lang}.dic"
            if lang not in SUPPORTED_LANGUAGES:
                return super()._get_dictionary_uncached(lang)  # (its error)
            try:
                if (self._cache_dir / f"{lang}.dic.stamp").read_text() == _stamp(path):
                    return TrieWrapDict(BytesTrie().mmap(str(path)))
            except (OSError, RuntimeError):  # missing, unreadable or damaged: built again below
                pass
            trie = self._build_trie(lang)
            try:
                self._write_trie_to_disk(lang, trie)
            except Exception as error:  # a read-only cache: this process keeps the trie in memory
                log.warning("could not cache simplemma's %s dictionary in %s: %s", lang, self._cache_dir, error)
            return TrieWrapDict(trie)

        def _write_trie_to_disk(self, lang, trie) -> None:
            target = self._cache_dir / f"{lang}.dic"
            atomic_write_bytes(target, trie.tobytes())  # the trie first, then its stamp
            atomic_write_text(target.with_name(f"{lang}.dic.stamp"), _stamp(target))

    return AtomicTrieFactory(disk_cache_dir=str(cache_dir() / "simplemma" / __version__))
