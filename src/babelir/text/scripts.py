"""Writing system of a text or a token, from Unicode character names (no extra data).

>>> script_of("Straße"), script_of("ภาษา"), script_of("北京"), script_of("▁123")
('LATIN', 'THAI', 'HAN', 'NONE')
"""

from __future__ import annotations

import unicodedata

ALIASES = {"CJK": "HAN"}


def script_of(text: str) -> str:
    """The script of the first letter in ``text`` (the first word of its Unicode name; CJK -> HAN),
    or ``NONE`` when it has no letter."""
    for char in text:
        if char.isalpha():
            name = unicodedata.name(char, "UNKNOWN").split()[0]
            return ALIASES.get(name, name)
    return "NONE"
