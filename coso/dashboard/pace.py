"""Pure arithmetic for the province's pages: periods, rates, visit days and the pace.

No Flask and no database here, so every rule can be read and tested on its own.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass, field
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


# ------------------------------------------------------------------ visit days


@dataclass
class VisitDays:
    """Days at the grassroots in one year: distinct dates overall and per form."""

    total: int = 0
    by_form: dict[str, int] = field(default_factory=dict)


def count_visit_days(visits: Iterable[tuple[str, date, date]], year: int) -> VisitDays:
    """Count a cadre's days at the grassroots in ``year`` from ``(form, start, end)`` ranges.

    A day is a calendar date: two visits on the same date count one day, in the
    total as in each form's column. The form columns can therefore add up to more
    than the total (a branch meeting and an inspection on one date are one day
    at the grassroots, and one day of each form). Visits spanning the new year
    count only their dates inside ``year``.
    """
    first, last = date(year, 1, 1), date(year, 12, 31)
    per_form: dict[str, set[date]] = {}
    for form, start, end in visits:
        start, end = max(start, first), min(end, last)
        dates = per_form.setdefault(form, set())
        day = start
        while day <= end:
            dates.add(day)
            day += timedelta(days=1)
    every: set[date] = set().union(*per_form.values()) if per_form else set()
    return VisitDays(
        total=len(every), by_form={form: len(dates) for form, dates in per_form.items()}
    )


def expected_days(target: float, year: int, today: date) -> float:
    """Days a cadre should have by ``today`` to reach ``target`` in ``year`` at an even pace.

    ``target x (day of year / days in year)`` during the year, the whole target
    for a past year and nothing for a year not yet begun.
    """
    if year < today.year:
        return float(target)
    if year > today.year:
        return 0.0
    days_in_year = 366 if calendar.isleap(year) else 365
    return target * today.timetuple().tm_yday / days_in_year


def is_behind(days: int, target: float, year: int, today: date) -> bool:
    """Behind the pace: fewer days so far than :func:`expected_days`."""
    return days < expected_days(target, year, today)


def report_missing(
    form: str, report: str | None, end: date, today: date, grace_days: int = 10
) -> bool:
    """A visit other than a branch meeting whose report is still missing after ``grace_days``.

    A branch meeting's report is its evaluation, so it is never missing.
    """
    return form != "meeting" and not (report or "").strip() and (today - end).days > grace_days
