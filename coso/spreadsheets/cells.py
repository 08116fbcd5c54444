"""The one rule for formula-like cells, out and back in.

A cell whose text starts like a formula (``=``, ``+``, ``-``, ``@``, a tab or a
carriage return) would be run by Excel or LibreOffice when the file is opened: a
name like ``=HYPERLINK(...)`` becomes a link, worse can run commands. Every cell
written gets an apostrophe before such text (a spreadsheet shows the text as typed),
and every cell read has it taken off again, so an export imported again round-trips.
"""

from __future__ import annotations

from typing import Any

#: Cells that start like a formula are prefixed, so a spreadsheet never runs them.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: Any) -> Any:
    """Text a spreadsheet shows as text and never runs as a formula; other values unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def unquote(text: str) -> str:
    """Undo the apostrophe ``safe_text`` puts before a cell that looks like a formula."""
    if text.startswith("'") and text[1:].startswith(FORMULA_START):
        return text[1:]
    return text
