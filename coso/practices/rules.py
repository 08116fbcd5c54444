"""The rules of good practices, pure: where one came from, whom a spread one reaches, and the
short title an evaluation's practice gets."""

from __future__ import annotations

EVALUATION, VISIT, OWN = "evaluation", "visit", "own"
#: Where a practice came from; the record form offers the last two (an evaluation's practice
#: is recorded from the evaluation itself, and stays linked to it).
SOURCES = (EVALUATION, VISIT, OWN)
FORM_SOURCES = (VISIT, OWN)
MAX_TITLE, MAX_DESCRIPTION = 200, 2000
#: How many spread practices a page and the field pack carry (the newest).
MAX_LISTED = 100


def reaches(spread_path: str | None, home_path: str) -> bool:
    """Does a practice spread to the unit at ``spread_path`` reach a user whose home unit is at
    ``home_path``? Only inside that unit's subtree; a practice not spread reaches nobody."""
    return bool(spread_path) and home_path.startswith(spread_path or "")


def title_from(text: str, limit: int = 120) -> str:
    """A short title for a practice written as one text: its first line, cut at a word."""
    first = " ".join((text or "").strip().splitlines()[0].split()) if (text or "").strip() else ""
    if len(first) <= limit:
        return first
    cut = first[:limit].rsplit(" ", 1)[0] or first[:limit]
    return cut.rstrip(",.;: ") + "…"
