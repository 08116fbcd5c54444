"""Reading plans: the facts the rules need, a period's plans and visits, a cadre's next visits,
the branches no plan reaches, and planned days for the ledger.

Which visit fulfils which plan is never stored for the automatic case: it is read each time
by :func:`coso.plans.rules.match` from the plans and the visits around them, so a correction
(which replaces an evaluation's visit) or a late visit is seen at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from coso.dashboard import flagged
from coso.extensions import db
from coso.judging.queries import path_ids, thresholds
from coso.meetings import queries as meetings
from coso.models import Meeting, PlanCadre, Unit, User, Visit, VisitPlan
from coso.plans import rules
from coso.plans.rules import PlanFacts, VisitFacts

#: How far outside a period visits are read, so that a plan's window and a month's plans
#: starting at its edge are matched as they would be in a longer period.
MARGIN = timedelta(days=rules.MAX_DAYS + 2)


def _areas(units: Iterable[Unit | Any]) -> dict[str, int | None]:
    """Each unit path's commune id (None above the communes)."""
    paths = {u.path for u in units}
    ids = {i for p in paths for i in path_ids(p)}
    communes: set[int] = set()
    for start in range(0, len(ids), 500):
        chunk = list(ids)[start : start + 500]
        communes.update(
            db.session.scalars(sa.select(Unit.id).where(Unit.id.in_(chunk), Unit.kind == "commune"))
        )
    return {p: next((i for i in path_ids(p) if i in communes), None) for p in paths}


def plan_facts(plans: Sequence[VisitPlan]) -> list[PlanFacts]:
    areas = _areas(p.unit for p in plans)
    return [
        PlanFacts(
            id=p.id,
            unit_id=p.unit_id,
            unit_path=p.unit.path,
            start=p.start_date,
            end=p.end_date,
            status=p.status,
            day_before=p.day_before,
            cadres=tuple(c.user_id for c in p.cadres),
            manual=tuple((c.user_id, c.visit_id) for c in p.cadres if c.visit_id),
            area=areas.get(p.unit.path),
        )
        for p in plans
    ]


def _visit_facts(rows: Iterable[Any]) -> list[VisitFacts]:
    rows = list(rows)
    areas = _areas(r for r in rows)
    return [
        VisitFacts(r.id, r.user_id, r.path, r.start_date, r.end_date, areas.get(r.path))
        for r in rows
    ]


def _visit_query() -> sa.Select[Any]:
    return sa.select(Visit.id, Visit.user_id, Unit.path, Visit.start_date, Visit.end_date).join(
        Unit, Unit.id == Visit.unit_id
    )


def _loaded() -> sa.Select[tuple[VisitPlan]]:
    return sa.select(VisitPlan).options(
        selectinload(VisitPlan.unit), selectinload(VisitPlan.cadres).selectinload(PlanCadre.user)
    )


@dataclass
class Period:
    """A period's plans and the visits around them, matched."""

    plans: list[VisitPlan]
    facts: list[PlanFacts]
    visits: list[VisitFacts]
    matches: dict[tuple[int, int], int]
    today: date

    def state(self, plan: VisitPlan) -> str:
        fact = next(f for f in self.facts if f.id == plan.id)
        return rules.plan_state(fact, self.matches, self.today)

    def states(self) -> dict[int, str]:
        return {f.id: rules.plan_state(f, self.matches, self.today) for f in self.facts}

    def visit_of(self, plan_id: int, user_id: int) -> int | None:
        return self.matches.get((plan_id, user_id))


def _matched(plans: list[VisitPlan], visit_rows: list[Any], today: date) -> Period:
    facts = plan_facts(plans)
    manual = {v for f in facts for _, v in f.manual}
    have = {r.id for r in visit_rows}
    missing = list(manual - have)
    if missing:
        visit_rows += list(db.session.execute(_visit_query().where(Visit.id.in_(missing))))
    visits = _visit_facts(visit_rows)
    return Period(plans, facts, visits, rules.match(facts, visits), today)


def area_period(unit: Unit, first: date, last: date, today: date) -> Period:
    """The plans of units in ``unit``'s subtree touching ``first``..``last`` (and a margin), and
    every visit of a unit there around them."""
    plans = list(
        db.session.scalars(
            _loaded()
            .join(Unit, Unit.id == VisitPlan.unit_id)
            .where(
                unit.subtree_clause(),
                VisitPlan.start_date <= last + MARGIN,
                VisitPlan.end_date >= first - MARGIN,
            )
            .order_by(VisitPlan.start_date, VisitPlan.id)
        )
    )
    visit_rows = list(
        db.session.execute(
            _visit_query().where(
                unit.subtree_clause(),
                Visit.start_date <= last + MARGIN,
                Visit.end_date >= first - MARGIN,
            )
        )
    )
    return _matched(plans, visit_rows, today)


def cadre_period(user: User, first: date, last: date, today: date) -> Period:
    """The plans a cadre goes on (or proposed) touching the period, and the cadre's visits."""
    plans = list(
        db.session.scalars(
            _loaded()
            .where(
                VisitPlan.id.in_(sa.select(PlanCadre.plan_id).where(PlanCadre.user_id == user.id)),
                VisitPlan.start_date <= last + MARGIN,
                VisitPlan.end_date >= first - MARGIN,
            )
            .order_by(VisitPlan.start_date, VisitPlan.id)
        )
    )
    visit_rows = list(
        db.session.execute(
            _visit_query().where(
                Visit.user_id == user.id,
                Visit.start_date <= last + MARGIN,
                Visit.end_date >= first - MARGIN,
            )
        )
    )
    return _matched(plans, visit_rows, today)


def plan_period(plan: VisitPlan, today: date) -> Period:
    """One plan with its cadres' visits around it (its page)."""
    user_ids = [c.user_id for c in plan.cadres]
    first, last = plan.start_date - MARGIN, plan.end_date + MARGIN
    others = list(
        db.session.scalars(
            _loaded().where(
                VisitPlan.id.in_(
                    sa.select(PlanCadre.plan_id).where(PlanCadre.user_id.in_(user_ids))
                ),
                VisitPlan.start_date <= last,
                VisitPlan.end_date >= first,
            )
        )
    )
    visit_rows = list(
        db.session.execute(
            _visit_query().where(
                Visit.user_id.in_(user_ids), Visit.start_date <= last, Visit.end_date >= first
            )
        )
    )
    if plan not in others:
        others.append(plan)
    return _matched(others, visit_rows, today)


def my_next(user: User, today: date, limit: int = 5) -> tuple[list[VisitPlan], list[VisitPlan]]:
    """A cadre's next visits (approved, not yet done, not over) and their proposals waiting."""
    period = cadre_period(user, today, today + timedelta(days=366), today)
    states = period.states()
    upcoming = [p for p in period.plans if states[p.id] == rules.UPCOMING and p.end_date >= today]
    waiting = [p for p in period.plans if p.status == rules.PROPOSED and p.end_date >= today]
    return upcoming[:limit], waiting


def pending_for(planner: User, limit: int = 50) -> list[VisitPlan]:
    """Proposals the planner may decide: the unit and every cadre inside the planner's area."""
    from coso import scope

    plans = db.session.scalars(
        _loaded()
        .join(Unit, Unit.id == VisitPlan.unit_id)
        .where(scope.scope_clause(planner), VisitPlan.status == rules.PROPOSED)
        .order_by(VisitPlan.start_date, VisitPlan.id)
        .limit(limit * 4)
    )
    return [p for p in plans if may_decide(planner, p)][:limit]


def may_decide(planner: User, plan: VisitPlan) -> bool:
    """A planner decides (and re-plans) a plan of a unit in their area for cadres of their area."""
    from coso import scope

    return scope.may_plan(planner, plan.unit) and all(
        scope.may_plan(planner, c.user.unit) for c in plan.cadres
    )


def next_branches(unit: Unit, today: date) -> list[rules.Need]:
    """The flagged or overdue branches of ``unit``'s subtree no plan reaches, neediest first.

    The states are the flagged list's own (coso.dashboard.flagged, judged by each branch's
    thresholds); the rules only leave out the branches a plan reaches and order the rest.
    """
    rows = flagged.all_rows(flagged.Filters(unit=unit), today, thresholds(unit))
    period = area_period(unit, today, today + timedelta(days=366), today)
    reached = rules.reached(period.facts, period.matches, today)
    needs = [rules.Need(r.branch_id, r.name, r.state, r.serious, r.since) for r in rows]
    return rules.who_next(needs, reached)


def planned_days(user_ids: list[int], year: int) -> dict[int, int]:
    """Each user's planned days in ``year`` (approved plans in force)."""
    if not user_ids:
        return {}
    first, last = date(year, 1, 1), date(year, 12, 31)
    out: dict[int, int] = {}
    for start in range(0, len(user_ids), 500):
        chunk = user_ids[start : start + 500]
        rows = db.session.execute(
            sa.select(PlanCadre.user_id, VisitPlan.start_date, VisitPlan.end_date)
            .join(VisitPlan, VisitPlan.id == PlanCadre.plan_id)
            .where(
                PlanCadre.user_id.in_(chunk),
                VisitPlan.status == rules.PLANNED,
                VisitPlan.start_date <= last,
                VisitPlan.end_date >= first,
            )
        )
        facts = [
            PlanFacts(id=i, unit_id=0, unit_path="", start=s, end=e, cadres=(u,))
            for i, (u, s, e) in enumerate(rows)
        ]
        out.update(rules.planned_days(facts, year))
    return out


def names(user_ids: Iterable[int]) -> dict[int, User]:
    ids = list(set(user_ids))
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(ids)))}


def units(unit_ids: Iterable[Any]) -> dict[int, Unit]:
    ids = [i for i in set(unit_ids) if i is not None]
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(sa.select(Unit).where(Unit.id.in_(ids)))}


def declared_meetings(plans: Sequence[VisitPlan], today: date) -> dict[int, Meeting]:
    """For each plan, its unit's declared meeting to go to (issue 18, item 2: "my next visits").

    The first meeting not cancelled within the plan's days (from today on); else the unit's
    next meeting after today, if one is declared in the coming weeks. One query for all plans.
    """
    if not plans:
        return {}
    last = max(plan.end_date for plan in plans)
    horizon = max(last - today + timedelta(days=1), meetings.PACK_DAYS)
    coming = meetings.upcoming({p.unit_id for p in plans}, today, horizon)
    out: dict[int, Meeting] = {}
    for plan in plans:
        mine = [m for m in coming if m.branch_id == plan.unit_id and not m.cancelled]
        start = max(plan.start_date, today)
        within = next((m for m in mine if start <= m.day <= plan.end_date), None)
        chosen = within or next(iter(mine), None)
        if chosen is not None:
            out[plan.id] = chosen
    return out
