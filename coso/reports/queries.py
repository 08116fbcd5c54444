"""What a report holds, read through the same functions as the pages that show each figure.

- visit days: :mod:`coso.visits.queries` (the 1+2 ledger: the cadres, their visits, their
  target), the days counted by :func:`coso.visits.rules.count_visit_days` inside the period;
- plans against done: :func:`coso.plans.queries.area_period` and :func:`coso.plans.rules.report`
  (the "plan against done" page);
- evaluations and compliance by child unit, the items failing most: :mod:`coso.dashboard.analysis`
  (the "where to act" page and its rates export);
- secretaries: :func:`coso.dashboard.analysis.child_summaries` (the unit page);
- corrective actions and good practices: the period's rows, counted here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from coso.dashboard import analysis
from coso.dashboard.rules import Period
from coso.difficulties import queries as difficulty_queries
from coso.difficulties import rules as difficulty_rules
from coso.difficulties.words import category_label
from coso.evaluations.queries import not_superseded
from coso.extensions import db
from coso.feedback.rules import DONE, OPEN
from coso.judging.queries import thresholds
from coso.models import CorrectiveAction, Difficulty, Evaluation, Unit
from coso.plans import queries as plan_queries
from coso.plans import rules as plan_rules
from coso.reports.rules import ReportPeriod
from coso.visits import queries as visit_queries
from coso.visits.rules import count_visit_days

#: The most good practices a report lists (the count covers them all).
PRACTICES = 15
#: The items failing most that a report lists.
ITEMS = 10


@dataclass(frozen=True)
class CadreDays:
    name: str
    unit: str
    days: int
    target: float  # the yearly target's share of the period

    @property
    def share(self) -> float | None:
        return self.days / self.target if self.target else None


@dataclass
class ActionCounts:
    unit: Unit | None
    opened: int = 0
    closed: int = 0
    open_at_end: int = 0


@dataclass(frozen=True)
class PracticeRow:
    branch: str
    parent: str
    meeting_date: date
    text: str


@dataclass
class Report:
    unit: Unit
    when: ReportPeriod
    today: date
    as_of: date  # the period's end, or today while it runs
    cadres: list[CadreDays]
    plans: plan_rules.Tally
    plans_by_area: list[tuple[Unit | None, plan_rules.Tally]]
    rates: list[analysis.Rate]
    total: analysis.Rate
    items: list[analysis.FailingItem]
    actions: list[ActionCounts]
    actions_total: ActionCounts
    practices: list[PracticeRow]
    practices_count: int
    secretaries: list[analysis.ChildSummary]
    secretaries_total: analysis.ChildSummary
    #: Difficulties and proposals (issue 19, item 1): per category (its label), and the
    #: period's time to first answer and to resolve.
    difficulties: list[tuple[str, difficulty_rules.CategoryCounts]] = field(default_factory=list)
    difficulty_times: difficulty_rules.PeriodFigures | None = None
    missing: list[str] = field(default_factory=list)

    @property
    def period(self) -> Period:
        return self.when.period


def cadre_days(unit: Unit, when: ReportPeriod) -> list[CadreDays]:
    """Each cadre under ``unit`` (the ledger's): days at the grassroots inside the period."""
    period = when.period
    users = visit_queries.cadres_under(unit)
    spans = visit_queries.year_spans([user.id for user in users], when.year)
    out = []
    for user in users:
        inside = [
            (s.form, max(s.start_date, period.start), min(s.end_date, period.end))
            for s in spans.get(user.id, [])
            if s.end_date >= period.start and s.start_date <= period.end
        ]
        days = count_visit_days(inside, when.year)
        target = visit_queries.target_for(user) * when.year_share
        out.append(CadreDays(user.display_name, user.unit.name, days.total, round(target, 1)))
    out.sort(key=lambda c: (c.share if c.share is not None else 1e9, c.name))
    return out


def _utc(day: date, end: bool = False) -> datetime:
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "UTC")
    moment = datetime.combine(day, time.max if end else time.min, tzinfo=zone)
    return moment.astimezone(UTC)


def _child_of(unit: Unit, paths: dict[int, str]) -> dict[int, int | None]:
    """Each branch id's child of ``unit`` (None for the unit itself)."""
    children = analysis.children(unit)
    out: dict[int, int | None] = {}
    for branch_id, path in paths.items():
        out[branch_id] = next((c.id for c in children if f"/{c.id}/" in path), None)
    return out


def action_counts(unit: Unit, period: Period) -> tuple[list[ActionCounts], ActionCounts]:
    """Corrective actions per child unit: opened in the period, closed (done) in it, and
    open at its end."""
    first, last = _utc(period.start), _utc(period.end, end=True)
    rows = db.session.execute(
        sa.select(
            CorrectiveAction.branch_id,
            CorrectiveAction.status,
            CorrectiveAction.created_at,
            CorrectiveAction.closed_at,
            Unit.path,
        )
        .join(Unit, Unit.id == CorrectiveAction.branch_id)
        .where(
            unit.subtree_clause(),
            CorrectiveAction.created_at <= last,
            sa.or_(CorrectiveAction.closed_at.is_(None), CorrectiveAction.closed_at >= first),
        )
    ).all()
    child_of = _child_of(unit, {row.branch_id: row.path for row in rows})
    counts = {child.id: ActionCounts(child) for child in analysis.children(unit)}
    total = ActionCounts(unit)
    for row in rows:
        created = _aware(row.created_at)
        closed = _aware(row.closed_at) if row.closed_at is not None else None
        target = counts.get(child_of[row.branch_id] or -1)
        opened = created >= first
        done = row.status == DONE and closed is not None and closed <= last
        # Open at the end: taken on (open now, or done since) and not yet done by then.
        still_open = row.status in (OPEN, DONE) and (closed is None or closed > last)
        for tally in (t for t in (target, total) if t is not None):
            tally.opened += opened
            tally.closed += done
            tally.open_at_end += still_open
    shown = sorted(counts.values(), key=lambda c: c.unit.name if c.unit else "")
    return [c for c in shown if c.opened or c.closed or c.open_at_end], total


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def practices(unit: Unit, period: Period) -> tuple[list[PracticeRow], int]:
    """Good practices recommended for spreading in the period (newest first), and their count."""
    parent = sa.orm.aliased(Unit)
    where = (
        Evaluation.recommend_practice.is_(True),
        Evaluation.good_practice.is_not(None),
        Evaluation.meeting_date >= period.start,
        Evaluation.meeting_date <= period.end,
        unit.subtree_clause(),
        not_superseded(),
    )
    count = db.session.scalar(
        sa.select(sa.func.count(Evaluation.id))
        .join(Unit, Unit.id == Evaluation.branch_id)
        .where(*where)
    )
    rows = db.session.execute(
        sa.select(Unit.name, parent.name, Evaluation.meeting_date, Evaluation.good_practice)
        .select_from(Evaluation)
        .join(Unit, Unit.id == Evaluation.branch_id)
        .outerjoin(parent, parent.id == Unit.parent_id)
        .where(*where)
        .order_by(Evaluation.meeting_date.desc(), Evaluation.id.desc())
        .limit(PRACTICES)
    ).all()
    return [PracticeRow(r[0], r[1] or "", r[2], r[3]) for r in rows], count or 0


def difficulties(
    unit: Unit, period: Period
) -> tuple[list[tuple[str, difficulty_rules.CategoryCounts]], difficulty_rules.PeriodFigures]:
    """The area's difficulties in the period, per category (in the province's words, most
    raised first), and the period's time to first answer and to resolve."""
    start, end = _utc(period.start), _utc(period.end, end=True)
    rows = db.session.execute(
        sa.select(
            Difficulty.category, Difficulty.raised_at, Difficulty.answered_at, Difficulty.closed_at
        )
        .join(Unit, Unit.id == Difficulty.unit_id)
        .where(
            unit.subtree_clause(),
            Difficulty.raised_at <= end,
            sa.or_(Difficulty.closed_at.is_(None), Difficulty.closed_at >= start),
        )
    ).all()
    timings = [
        (r.category, difficulty_rules.Timing(
            _aware(r.raised_at),
            _aware(r.answered_at) if r.answered_at else None,
            _aware(r.closed_at) if r.closed_at else None,
        ))
        for r in rows
    ]  # fmt: skip
    counts, times = difficulty_rules.period_summary(timings, start, end)
    labels = dict(difficulty_queries.every_label(difficulty_queries.province_of(unit)))
    named = [(category_label(code, labels.get(code, code)), c) for code, c in counts.items()]
    named.sort(key=lambda row: (-row[1].raised, row[0]))
    return named, times


def gather(unit: Unit, when: ReportPeriod, today: date, locale: str) -> Report:
    """Everything a report of ``unit`` for ``when`` shows, as of ``today``."""
    period = when.period
    as_of = min(period.end, today)
    found = plan_queries.area_period(unit, period.start, period.end, today)
    plan_report = plan_rules.report(found.facts, found.visits, period.start, period.end, today)
    areas = plan_queries.units(plan_report.by_area)
    by_area = sorted(
        ((areas.get(a), t) for a, t in plan_report.by_area.items()),
        key=lambda r: (r[0] is None, r[0].name if r[0] else ""),
    )
    rates, total = analysis.child_rates(unit, period)
    actions, actions_total = action_counts(unit, period)
    practice_rows, practice_count = practices(unit, period)
    secretaries, secretaries_total = analysis.child_summaries(unit, as_of, thresholds(unit))
    difficulty_rows, difficulty_times = difficulties(unit, period)
    return Report(
        unit=unit,
        when=when,
        today=today,
        as_of=as_of,
        cadres=cadre_days(unit, when),
        plans=plan_report.total,
        plans_by_area=by_area,
        rates=rates,
        total=total,
        items=analysis.failing_items(unit, period, total.evaluations, locale, limit=ITEMS),
        actions=actions,
        actions_total=actions_total,
        practices=practice_rows,
        practices_count=practice_count,
        secretaries=[s for s in secretaries if s.branches],
        secretaries_total=secretaries_total,
        difficulties=difficulty_rows,
        difficulty_times=difficulty_times,
    )
