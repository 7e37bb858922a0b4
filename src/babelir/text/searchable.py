"""Whether a query has anything to search for: a letter, a digit or a symbol.

A query of spaces, punctuation, combining marks alone, or invisible characters (zero-width spaces
and joiners, direction marks, controls) has no searchable text; ``babelir search --query`` and the
HTTP API both refuse it with the same reason (:data:`NOT_SEARCHABLE`).

>>> has_searchable_text("\\u200b\\u200c"), has_searchable_text("***"), has_searchable_text("ภาษา ๓")
(False, False, True)
"""

from __future__ import annotations

import unicodedata

NOT_SEARCHABLE = "only spaces, punctuation, marks or invisible characters"


def has_searchable_text(text: str) -> bool:
    """True when ``text`` has a letter, a number or a symbol (Unicode categories L, N, S)."""
    return any(unicodedata.category(char)[0] in "LNS" for char in text)
