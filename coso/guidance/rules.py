"""Guidance periods: the month a meeting falls in and the month before (pure, no database)."""

from __future__ import annotations

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
