"""Guidance periods: the month a meeting falls in and the month before (pure, no database)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from coso.models import Guidance

#: A guidance period as written in forms and URLs: YYYY-MM.
PERIOD_RE = r"^\d{4}-(0[1-9]|1[0-2])$"


def period_of(day: date) -> str:
    """The guidance period (YYYY-MM) a meeting on ``day`` falls in."""
    return f"{day.year:04d}-{day.month:02d}"


def previous_period(period: str) -> str:
    """The period (YYYY-MM) of the month before ``period``."""
    year, month = int(period[:4]), int(period[5:])
    return f"{year - 1:04d}-12" if month == 1 else f"{year:04d}-{month - 1:02d}"


def snapshot(guidance: Guidance) -> dict[str, Any]:
    """A guidance's contents as plain data (for the audit log and for copying a month)."""
    return {
        "period": guidance.period,
        "title": guidance.title,
        "material": guidance.material,
        "link": guidance.link,
        "topics": [[topic.code, topic.title] for topic in guidance.topics],
    }


#: Parts of a used guidance that may go from empty to filled (an addition, not a rewrite).
FILLABLE = ("material", "link")


def frozen_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """The parts of a used guidance that ``new`` would rewrite, in form order (none: allowed).

    Evaluations name the topics they covered and were filled against what the
    guidance said, so once one used it nothing said may be unsaid: the month,
    the title and every topic (code, title and order) stay; new topics may be
    added after them, and a material or link that was empty may be filled in.
    ``old`` is a ``snapshot``; ``new`` the validated form (topics as dicts).
    """
    problems = [
        name
        for name in ("period", "title", *FILLABLE)
        if (old.get(name) or None) != (new.get(name) or None)
        and not (name in FILLABLE and not old.get(name))
    ]
    before = [tuple(topic) for topic in old["topics"]]
    after = [(topic["code"], topic["title"]) for topic in new["topics"]]
    if after[: len(before)] != before:
        problems.append("topics")
    return problems


def next_period(period: str) -> str:
    """The period (YYYY-MM) of the month after ``period``."""
    year, month = int(period[:4]), int(period[5:])
    return f"{year + 1:04d}-01" if month == 12 else f"{year:04d}-{month + 1:02d}"


def next_free_period(start: str, taken: Callable[[str], bool], limit: int = 24) -> str:
    """``start`` or the first month after it that ``taken`` says has no guidance.

    Copying never lands on a month that already has guidance; after ``limit``
    months all taken, the month after them is proposed anyway (the copy then says why).
    """
    period = start
    for _step in range(limit):
        if not taken(period):
            return period
        period = next_period(period)
    return period
