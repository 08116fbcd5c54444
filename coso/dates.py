"""Reading dates, months and moments strictly: one parser for the API, the forms and the dashboard.

Pure (no Flask, no database). ``date.fromisoformat`` of Python 3.11 takes ISO weeks
(``2026-W49-1``), the basic form (``20261201``) and any year from 1 to 9999; a year-1
moment with an offset of +14:00 then overflowed in arithmetic (a 500). Here a day is
``YYYY-MM-DD``, a month ``YYYY-MM``, a moment ``YYYY-MM-DDTHH:MM[:SS[.ffffff]][Z|±HH:MM]``,
all within the years ``MIN_YEAR``..``MAX_YEAR`` (issue 17, items 7, 9 and 16).
Every function raises ``ValueError`` (``OutOfRange`` for a year outside the bounds).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, tzinfo

#: The years a date of this app may fall in. Nothing here happened before 2000 or will
#: be planned after 2100; the bounds also keep every date arithmetic far from
#: ``date.min``/``date.max`` (year 1 with an offset of +14:00 overflowed: issue 17, item 7).
MIN_YEAR, MAX_YEAR = 2000, 2100

_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
_MONTH = re.compile(r"(\d{4})-(\d{2})", re.ASCII)
_STAMP = re.compile(
    r"(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,6})?)?"
    r"(Z|[+-]\d{2}:\d{2})?",
    re.ASCII | re.IGNORECASE,
)


class OutOfRange(ValueError):
    """A well-written date whose year lies outside ``MIN_YEAR``..``MAX_YEAR``."""


def _in_bounds(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise OutOfRange(f"year {year} is outside {MIN_YEAR}-{MAX_YEAR}")


def parse_day(text: str) -> date:
    """A calendar day written ``YYYY-MM-DD`` and nothing else, in the years allowed.

    ``date.fromisoformat`` also takes ISO weeks (``2026-W49-1``), the basic form
    (``20261201``) and year 1; one strict parser serves the API, the forms and the
    dashboard so they all accept the same days. Raises ``ValueError``.
    """
    if not isinstance(text, str) or not _DAY.fullmatch(text.strip()):
        raise ValueError("not a YYYY-MM-DD date")
    day = date.fromisoformat(text.strip())
    _in_bounds(day.year)
    return day


def parse_month(text: str) -> date:
    """A month written ``YYYY-MM``, as its first day, in the years allowed (``ValueError``)."""
    if not isinstance(text, str) or not (match := _MONTH.fullmatch(text.strip())):
        raise ValueError("not a YYYY-MM month")
    year, month = int(match.group(1)), int(match.group(2))
    _in_bounds(year)
    return date(year, month, 1)


def parse_stamp(text: str, default_timezone: tzinfo = UTC) -> datetime:
    """A moment written ``YYYY-MM-DDTHH:MM[:SS[.ffffff]][Z|±HH:MM]``; aware, in the years allowed.

    A stamp without an offset is taken in ``default_timezone``. Raises ``ValueError``.
    """
    if not isinstance(text, str) or not (match := _STAMP.fullmatch(text.strip())):
        raise ValueError("not an ISO 8601 date and time")
    parse_day(match.group(1))
    stamp = datetime.fromisoformat(text.strip().upper().replace("Z", "+00:00"))
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=default_timezone)
    return stamp
