"""The periods a report covers, in pure functions: the first half, the second half, the year."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from coso.dashboard.rules import Period

H1, H2, YEAR = "h1", "h2", "year"
PARTS = (H1, H2, YEAR)
#: The earliest year a report may be asked for (before it, there is nothing to report).
FIRST_YEAR = 2000


class ReportPeriodError(ValueError):
    """A year or part that cannot be read; ``field`` names the offending input."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


@dataclass(frozen=True)
class ReportPeriod:
    year: int
    part: str

    @property
    def period(self) -> Period:
        if self.part == H1:
            return Period(date(self.year, 1, 1), date(self.year, 6, 30))
        if self.part == H2:
            return Period(date(self.year, 7, 1), date(self.year, 12, 31))
        return Period(date(self.year, 1, 1), date(self.year, 12, 31))

    @property
    def year_share(self) -> float:
        """The share of the year's days the period covers (a yearly target's share)."""
        days = 366 if calendar.isleap(self.year) else 365
        return self.period.days / days


def last_closed(today: date) -> ReportPeriod:
    """The half-year that ended last: H2 of last year in January–June, H1 from July."""
    return ReportPeriod(today.year, H1) if today.month >= 7 else ReportPeriod(today.year - 1, H2)


def parse(year: str | None, part: str | None, today: date) -> ReportPeriod:
    """The period from the ``year`` and ``part`` arguments; nothing given is :func:`last_closed`.

    :raise ReportPeriodError: a year that is not a number from 2000 to this year, an unknown part.
    """
    default = last_closed(today)
    year = (year or "").strip()
    part = (part or "").strip() or default.part
    if not year:
        number = default.year
    elif year.isdecimal() and len(year) == 4:
        number = int(year)
    else:
        raise ReportPeriodError("year")
    if not FIRST_YEAR <= number <= today.year:
        raise ReportPeriodError("year")
    if part not in PARTS:
        raise ReportPeriodError("part")
    return ReportPeriod(number, part)
