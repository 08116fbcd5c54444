"""The visit-day ledger: each cadre's days at the grassroots this year, by form, against the target.

Visits are read per cadre through the ``(user_id, start_date)`` index, one
year (plus the longest visit that could reach into it) at a time; the days are
counted by :func:`coso.visits.rules.count_visit_days` (distinct dates) and the
pace judged by :func:`coso.visits.rules.is_behind`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple, Protocol

import sqlalchemy as sa

from coso.extensions import among, db
from coso.judging.queries import settings_for_path
from coso.judging.scoring import Settings
from coso.models import Unit, User, Visit
from coso.visits.rules import (
    GOING_ROLES,
    GOING_SECRETARY,
    LATE,
    MISSING,
    ON_TIME,
    REPORT_DAYS,
    VisitDays,
    count_visit_days,
    expected_days,
    goes_out,
    is_behind,
    report_state,
)

#: How far before 1 January a visit may start and still reach into the year.
LOOKBACK = timedelta(days=366)


class Span(NamedTuple):
    """What the ledger needs of a visit (a ``Visit`` has the same attributes)."""

    form: str
    start_date: date
    end_date: date
    report: str | None
    reported_at: datetime | None = None


class VisitLike(Protocol):
    form: str
    start_date: date
    end_date: date
    report: str | None
    reported_at: datetime | None


@dataclass
class LedgerRow:
    """One cadre's year."""

    user: User
    year: int
    target: int
    today: date
    days: VisitDays = field(default_factory=VisitDays)
    missing_reports: int = 0
    late_reports: int = 0  # reports that came after the due day (``Settings.report_days``)
    on_time_reports: int = 0
    visits: int = 0
    planned: int = 0  # planned days of the year (coso.plans), filled by the ledger's page
    #: review quality (coso.reviews.rules.quality), filled by the ledger's page
    quality: dict[str, Any] = field(default_factory=dict)

    @property
    def expected(self) -> float:
        """Days the cadre should have by ``today`` at an even pace."""
        return expected_days(self.target, self.year, self.today)

    @property
    def behind(self) -> bool:
        return is_behind(self.days.total, self.target, self.year, self.today)

    @property
    def share(self) -> float | None:
        return self.days.total / self.target if self.target else None

    def form_days(self, form: str) -> int:
        return self.days.by_form.get(form, 0)


def cadres_under(unit: Unit) -> list[User]:
    """Active users under ``unit`` who go to the grassroots, by name.

    Whatever their other roles (:func:`coso.visits.rules.goes_out`): cadres, province
    users, commune secretaries; never an administrator alone nor a branch's own secretary.
    """
    held = [User.roles.like(f"%{role}%") for role in (*GOING_ROLES, GOING_SECRETARY)]
    rows = db.session.execute(
        sa.select(User, Unit.kind)
        .join(Unit, Unit.id == User.unit_id)
        .where(unit.subtree_clause(), User.active.is_(True), sa.or_(*held))
        .order_by(User.display_name, User.id)
    ).all()
    return [user for user, kind in rows if goes_out(user.role_list, kind)]


def _touching(user_ids: list[int], year: int) -> sa.ColumnElement[bool]:
    first, last = date(year, 1, 1), date(year, 12, 31)
    return sa.and_(
        among(Visit.user_id, user_ids),
        Visit.start_date >= first - LOOKBACK,
        Visit.start_date <= last,
        Visit.end_date >= first,
    )


def year_visits(user_ids: list[int], year: int) -> dict[int, list[Visit]]:
    """The visits of these users that touch ``year``, per user, oldest first."""
    out: dict[int, list[Visit]] = defaultdict(list)
    for start in range(0, len(user_ids), 500):
        for visit in db.session.scalars(
            sa.select(Visit)
            .where(_touching(user_ids[start : start + 500], year))
            .order_by(Visit.start_date, Visit.id)
        ):
            out[visit.user_id].append(visit)
    return out


def year_spans(user_ids: list[int], year: int) -> dict[int, list[Span]]:
    """Like :func:`year_visits`, as plain tuples without the report's text (for many cadres)."""
    out: dict[int, list[Span]] = defaultdict(list)
    reported = sa.case((Visit.report.is_(None), sa.null()), else_=sa.literal("x"))
    for start in range(0, len(user_ids), 500):
        for user_id, form, first, last, report, reported_at in db.session.execute(
            sa.select(
                Visit.user_id,
                Visit.form,
                Visit.start_date,
                Visit.end_date,
                reported,
                Visit.reported_at,
            ).where(_touching(user_ids[start : start + 500], year))
        ):
            out[user_id].append(Span(form, first, last, report, reported_at))
    return out


def _settings_for(user: User, cache: dict[str, Settings]) -> Settings:
    path = user.unit.path
    if path not in cache:
        cache[path] = settings_for_path(path)
    return cache[path]


def report_state_of(visit: VisitLike, today: date, due_days: int = REPORT_DAYS) -> str | None:
    """:func:`coso.visits.rules.report_state` of a stored visit."""
    reported_on = visit.reported_at.date() if visit.reported_at is not None else None
    return report_state(visit.form, visit.report, reported_on, visit.end_date, today, due_days)


def row_for(
    user: User,
    visits: Iterable[VisitLike],
    year: int,
    today: date,
    target: int,
    report_days: int = REPORT_DAYS,
) -> LedgerRow:
    """One cadre's ledger line from their visits touching ``year``."""
    visits = list(visits)
    states = [report_state_of(v, today, report_days) for v in visits]
    return LedgerRow(
        user=user,
        year=year,
        target=target,
        today=today,
        days=count_visit_days(((v.form, v.start_date, v.end_date) for v in visits), year),
        missing_reports=states.count(MISSING),
        late_reports=states.count(LATE),
        on_time_reports=states.count(ON_TIME),
        visits=len(visits),
    )


def ledger(unit: Unit, year: int, today: date, behind_only: bool = False) -> list[LedgerRow]:
    """Every cadre under ``unit`` with their days in ``year``: those behind the pace first."""
    users = cadres_under(unit)
    visits = year_spans([user.id for user in users], year)
    cache: dict[str, Settings] = {}
    rows = []
    for user in users:
        settings = _settings_for(user, cache)
        rows.append(
            row_for(
                user,
                visits.get(user.id, []),
                year,
                today,
                settings.visit_target,
                settings.report_days,
            )
        )
    if behind_only:
        rows = [row for row in rows if row.behind]
    rows.sort(key=lambda r: (not r.behind, r.days.total, r.user.display_name, r.user.id))
    return rows


def target_for(user: User) -> int:
    """The yearly visit-day target that applies to ``user`` (a setting, 60 by default)."""
    return _settings_for(user, {}).visit_target


def report_days_for(user: User) -> int:
    """Days after a visit within which its report is due, as set for ``user``'s unit."""
    return _settings_for(user, {}).report_days
