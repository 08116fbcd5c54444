"""The one search key: a text as every search compares it, on SQLite, PostgreSQL and the phone.

SQLite's ``lower()`` folds only A–Z and nobody types accents on a phone, so each searchable
row keeps its texts' keys in a ``search`` column (units: name and code; users: username and
display name) and a query's key is compared with it by LIKE. Pure: no Flask, no database.
"""

from __future__ import annotations

import unicodedata

#: Joins a unit's name key and code key in its search column: no search key contains it
#: (search keys hold no control character), so a query never matches across the two.
SEARCH_SEPARATOR = "\n"


def search_key(text: str) -> str:
    """``text`` as searches compare it: lower case, no accents, đ as d, single spaces.

    "Chi đoàn ấp Hưng Định 1", "CHI DOAN AP HUNG DINH 1" and "chi  đoàn ấp hưng định 1"
    have the same key, so a cadre typing without accents on a phone finds the branch.
    Letters are decomposed (NFD) and their combining marks (Unicode category M) dropped;
    format characters (Cf: zero-width spaces, soft hyphens) vanish; separators (Z) and
    control characters (Cc: tabs, newlines) become one space. static/js/search.js holds
    the same function for the phone's offline search (tests/test_search.py holds them to
    the same outputs), so a change here is a change there, and a migration re-keys
    every unit.
    """
    out: list[str] = []
    space = False
    for char in unicodedata.normalize("NFD", text or "").lower():
        category = unicodedata.category(char)
        if category[0] == "M" or category == "Cf":
            continue
        if category[0] == "Z" or category == "Cc":
            space = bool(out)
            continue
        if space:
            out.append(" ")
            space = False
        out.append("d" if char == "đ" else char)
    return "".join(out)
