"""What the CLI prints from documents cannot drive the terminal: controls and bidi overrides escaped."""

import pytest

from babelir.present import print_hits, shown
from babelir.run import Run


class _Index:
    def __init__(self, docs):
        self.docs = docs

    def documents(self, ids):
        return {d: self.docs[d] for d in ids}


class _Retriever:
    def __init__(self, docs):
        self.index = _Index(docs)

    def retrieve(self, queries, k, lang=None):
        return Run({"q": {d: float(len(self.index.docs) - i) for i, d in enumerate(self.index.docs)}})


@pytest.mark.parametrize("title, text, raw, escaped", [
    ("\x1b[2Jcleared", "alpha", "\x1b", "\\x1b[2Jcleared"),  # the reported title: ESC[2J clears the screen
    ("t", "alpha\x00beta", "\x00", "alpha\\x00beta"),
    ("t", "alpha \u202eateb", "\u202e", "alpha \\u202eateb"),  # shows the rest of the line reversed
    ("t", "alpha\x07\x9b31m", "\x9b", "alpha\\x07\\x9b31m"),  # BEL, and the C1 control sequence introducer
    ("t", "alpha \u2067isolate\u2069", "\u2067", "\\u2067isolate\\u2069"),
])
def test_titles_and_texts_are_printed_escaped(capsys, title, text, raw, escaped):
    print_hits(_Retriever({"d1": ("en", title, text)}), "alpha", 10, "en")
    out = capsys.readouterr().out
    assert raw not in out and escaped in out


def test_right_to_left_text_and_joiners_are_printed_as_they_are(capsys):
    text = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 \u200f(\u0661)"
    print_hits(_Retriever({"fa-1": ("fa", None, text)}), "x", 10, "fa")
    assert text in capsys.readouterr().out


def test_shown_escapes_every_control_character_and_keeps_the_rest():
    assert shown("".join(map(chr, range(0x20)))) == "".join(f"\\x{c:02x}" for c in range(0x20))
    assert shown("\x7f\x85") == "\\x7f\\x85"
    assert shown("ภาษา 文档 a\u200db") == "ภาษา 文档 a\u200db"
