"""The rules of days at the grassroots: counting visit days, the pace, missing reports.

Pure (no Flask, no database), so each rule is read and tested on its own; the
ledger (coso.visits.queries) and the visit pages apply them.
"""

from __future__ import annotations

import calendar
import hashlib
import json
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


#: Days after a visit's last day by which its written report is due (``Settings.report_days``).
REPORT_DAYS = 10

#: A visit report's standing (:func:`report_state`).
ON_TIME, LATE, DUE, MISSING = "on_time", "late", "due", "missing"


def report_missing(
    form: str, report: str | None, end: date, today: date, grace_days: int = REPORT_DAYS
) -> bool:
    """A visit other than a branch meeting whose report is still missing after ``grace_days``.

    A branch meeting's report is its evaluation, so it is never missing.
    """
    return form != "meeting" and not (report or "").strip() and (today - end).days > grace_days


def report_due(end: date, due_days: int = REPORT_DAYS) -> date:
    """The last day a visit's report is on time: ``due_days`` after the visit's last day."""
    return end + timedelta(days=due_days)


def report_state(
    form: str,
    report: str | None,
    reported_on: date | None,
    end: date,
    today: date,
    due_days: int = REPORT_DAYS,
) -> str | None:
    """Whether a visit's written report came in time (issue 18, item 5).

    ``on_time`` or ``late`` by the day the report first arrived against :func:`report_due`;
    without a report, ``due`` until that day and ``missing`` after it. A branch meeting's
    report is its evaluation: None.
    """
    if form == "meeting":
        return None
    last = report_due(end, due_days)
    if (report or "").strip():
        return ON_TIME if reported_on is None or reported_on <= last else LATE
    return MISSING if today > last else DUE


def sync_hash(item: dict[str, object], keys: tuple[str, ...]) -> str:
    """A fingerprint of the ``keys`` of what a phone sent, to tell a replay from other content."""
    content = {key: item.get(key) for key in keys}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


#: What a synced visit is (its hash); a report travels as items of its own.
VISIT_CONTENT = ("uuid", "unit_id", "form", "start_date", "end_date", "report")
#: What one version of a synced report is.
REPORT_CONTENT = ("uuid", "visit_uuid", "version", "report")


def report_step(
    stored_uuid: str | None,
    stored_version: int | None,
    stored_hash: str | None,
    uuid: str,
    version: int,
    digest: str,
) -> str:
    """What a version of a report does to the one stored on its visit.

    ``store`` a later version (or the first) of the same draft; ``same`` the version stored,
    again (a duplicate); ``conflict`` the stored version with other content, an older
    version, or another draft's report when one is stored already. A report written on the
    web form has no draft UUID: any synced draft may follow it with a later version.
    """
    if stored_uuid is not None and stored_uuid != uuid:
        return "conflict"
    current = stored_version or 0
    if version > current:
        return "store"
    if version == current and stored_hash == digest:
        return "same"
    return "conflict"
