"""Pure arithmetic for the province's pages: periods and rates.

No Flask and no database here, so every rule can be read and tested on its own.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

#: The longest period a rate or an export may cover (about two years).
MAX_PERIOD_DAYS = 731


class PeriodError(ValueError):
    """A period that cannot be read; ``field`` names the offending input."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem  # "invalid" | "order" | "too_long"


@dataclass(frozen=True)
class Period:
    """A closed range of dates; ``month`` is set when it is exactly one calendar month."""

    start: date
    end: date
    month: str | None = None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


def month_period(text: str) -> Period:
    """The calendar month ``YYYY-MM`` as a period.

    :raise PeriodError: the text is not a month.
    """
    text = text.strip()
    try:
        year, month = int(text[:4]), int(text[5:7])
        if len(text) != 7 or text[4] != "-" or not 1 <= month <= 12 or year < 1900:
            raise ValueError
    except ValueError:
        raise PeriodError("month", "invalid") from None
    last = calendar.monthrange(year, month)[1]
    return Period(date(year, month, 1), date(year, month, last), f"{year:04d}-{month:02d}")


def previous_month(today: date) -> Period:
    """The last full calendar month before ``today``'s."""
    first = today.replace(day=1)
    return month_period((first - timedelta(days=1)).strftime("%Y-%m"))


def parse_period(month: str | None, start: str | None, end: str | None, default: Period) -> Period:
    """A period from a month (``YYYY-MM``) or a date range; nothing given is ``default``.

    A month wins over a range. A range may leave one end open: it then runs from
    the other end to the end (or start) of the default period.

    :raise PeriodError: a value cannot be read, the range is reversed or too long.
    """
    if month and month.strip():
        return month_period(month)
    if not (start and start.strip()) and not (end and end.strip()):
        return default
    first = _date("from", start) or default.start
    last = _date("to", end) or max(default.end, first)
    if last < first:
        raise PeriodError("to", "order")
    if (last - first).days + 1 > MAX_PERIOD_DAYS:
        raise PeriodError("to", "too_long")
    return Period(first, last)


def _date(name: str, text: str | None) -> date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PeriodError(name, "invalid") from None


def months_ending(last: date, count: int) -> list[Period]:
    """``count`` calendar months, oldest first, the last one containing ``last``."""
    out = []
    year, month = last.year, last.month
    for _ in range(count):
        out.append(month_period(f"{year:04d}-{month:02d}"))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    out.reverse()
    return out


def rate(part: int, whole: int) -> float | None:
    """``part / whole`` as a 0..1 share, or None when there is nothing to divide."""
    return part / whole if whole else None
