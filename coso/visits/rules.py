"""The rules of days at the grassroots: counting visit days, the pace, missing reports.

Pure (no Flask, no database), so each rule is read and tested on its own; the
ledger (coso.visits.queries) and the visit pages apply them.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

#: Roles whose holders go to the grassroots wherever their home unit is (domain.md: the
#: standing committee goes too, "Thường trực Tỉnh đoàn sẽ đi cơ sở").
GOING_ROLES = frozenset({"cadre", "province"})
#: A secretary goes out from a unit above the branches (a commune's, a school's union);
#: a branch's own secretary is the grassroots, and an administrator alone never goes.
GOING_SECRETARY = "secretary"


def goes_out(roles: Iterable[str], home_kind: str) -> bool:
    """Whether a user with ``roles`` at a unit of ``home_kind`` logs visit days and is counted
    in the 1+2 ledger, whatever other roles they hold."""
    held = set(roles)
    return bool(held & GOING_ROLES) or (GOING_SECRETARY in held and home_kind != "branch")


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
