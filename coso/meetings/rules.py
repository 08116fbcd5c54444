"""The rules of a branch's meeting calendar: patterns, the dates they give, the calendar's windows.

Pure (no Flask, no database). A regular pattern is "the n-th weekday of each month at a
time" ("the 2nd Sunday of each month, 19:30"); it gives at most one date a month, and a
month is its *slot*: the generated meeting of a slot may then be moved or cancelled on its
own, and generating again fills only the slots that hold nothing yet.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import date, timedelta

#: Kinds of meeting a branch declares (kept small; coso.meetings.words says them).
REGULAR, THEMED, OTHER = "regular", "themed", "other"
KINDS = (REGULAR, THEMED, OTHER)
#: Which weekday of the month: the 1st to the 5th (a month has four or five of each).
NTHS = (1, 2, 3, 4, 5)
#: Monday is 0 and Sunday 6, as in ``date.weekday()``.
WEEKDAYS = (0, 1, 2, 3, 4, 5, 6)
#: How many months a pattern fills at a time (this month and the next ones).
DEFAULT_MONTHS, MAX_MONTHS = 3, 12
#: How far ahead a single meeting may be declared or moved.
MAX_AHEAD = timedelta(days=400)
#: The calendar page's two views.
WEEK, DAY = "week", "day"
VIEWS = (WEEK, DAY)


def nth_weekday(year: int, month: int, nth: int, weekday: int) -> date | None:
    """The ``nth`` (1-5) ``weekday`` (0 Monday .. 6 Sunday) of a month, or None if it has none.

    >>> nth_weekday(2026, 12, 2, 6)
    datetime.date(2026, 12, 13)
    """
    if nth not in NTHS or weekday not in WEEKDAYS or not 1 <= month <= 12:
        raise ValueError("nth must be 1-5, weekday 0-6 and month 1-12")
    first = date(year, month, 1)
    day = 1 + (weekday - first.weekday()) % 7 + 7 * (nth - 1)
    if day > calendar.monthrange(year, month)[1]:
        return None
    return date(year, month, day)


def months_from(year: int, month: int, count: int) -> list[tuple[int, int]]:
    """``count`` months starting with ``year``-``month``, across year ends."""
    out = []
    for step in range(count):
        index = year * 12 + (month - 1) + step
        out.append((index // 12, index % 12 + 1))
    return out


def slot_of(day: date) -> str:
    """The month a pattern's meeting fills: ``YYYY-MM``."""
    return f"{day.year:04d}-{day.month:02d}"


def pattern_dates(nth: int, weekday: int, start: date, months: int) -> list[date]:
    """The pattern's dates from ``start`` (included) over ``months`` months, oldest first.

    Months without an ``nth`` weekday (a 5th Sunday) give nothing; a date of the first
    month before ``start`` is left out (it has passed).
    """
    dates = []
    for year, month in months_from(start.year, start.month, months):
        day = nth_weekday(year, month, nth, weekday)
        if day is not None and day >= start:
            dates.append(day)
    return dates


def slots_to_fill(dates: Iterable[date], taken: Iterable[str]) -> list[date]:
    """The dates whose month holds no meeting of the pattern yet.

    A slot is taken by whatever the pattern put there before, moved or cancelled alike:
    generating again never duplicates a meeting nor brings a cancelled one back.
    """
    used = set(taken)
    return [day for day in dates if slot_of(day) not in used]


def week_start(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def window(view: str, day: date) -> tuple[date, date]:
    """The first and last day the calendar shows: ``day``'s week (Monday to Sunday) or ``day``."""
    if view == DAY:
        return day, day
    first = week_start(day)
    return first, first + timedelta(days=6)


def step(view: str, day: date, direction: int) -> date:
    """The day the previous (-1) or next (+1) page of the calendar shows."""
    return day + timedelta(days=direction * (1 if view == DAY else 7))


def days_of(first: date, last: date) -> list[date]:
    """Every day from ``first`` to ``last``, both included."""
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def may_declare_on(day: date, today: date) -> bool:
    """A meeting is declared (or moved) for today or a later day, at most ``MAX_AHEAD`` ahead."""
    return today <= day <= today + MAX_AHEAD
