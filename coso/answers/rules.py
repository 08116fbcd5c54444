"""The period of an export: what may be asked, in pure functions."""

from __future__ import annotations

from datetime import date

from coso.dashboard.rules import Period, PeriodError, parse_period

#: The longest period one export covers: a year (a leap year's too). A province's year is
#: tens of thousands of evaluations and hundreds of thousands of answers; longer is two files.
MAX_DAYS = 366
#: What is exported: one row per evaluation, or one row per answered item.
KINDS = ("evaluations", "answers")


def default_period(today: date) -> Period:
    """This year so far: the first of January to ``today``."""
    return Period(date(today.year, 1, 1), today)


def export_period(start: str | None, end: str | None, today: date) -> Period:
    """The period from the ``from`` and ``to`` arguments (dd/mm/yyyy or ISO).

    Nothing given is this year so far; one end alone runs to (or from) the default's.

    :raise PeriodError: a date cannot be read, the range is reversed, or longer than a year.
    """
    period = parse_period(None, start, end, default_period(today))
    if period.days > MAX_DAYS:
        raise PeriodError("to", "too_long")
    return period
