"""The rules of visit plans: which visit fulfils which plan, a plan's state, the period's
figures (plan against done) and the order of "who should go where next".

Pure (no Flask, no database): the queries hand in plain facts, these rules decide.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from coso.judging import flags

PROPOSED, PLANNED, DECLINED, REPLANNED = "proposed", "planned", "declined", "replanned"
#: States read from a plan and the visits (PLANNED is never shown: it is one of these three).
DONE, MISSED, UPCOMING = "done", "missed", "upcoming"
STATES = (UPCOMING, DONE, MISSED, REPLANNED, PROPOSED, DECLINED)
#: The longest plan (a month of field study).
MAX_DAYS = 31


@dataclass(frozen=True)
class PlanFacts:
    """What the rules need of a plan.

    :param unit_path: the planned unit's path; a visit of that unit or one under it counts.
    :param cadres: the users sent.
    :param manual: visits linked by hand, by user.
    :param area: the commune (or other grouping) the plan's unit lies in, for the per-area table.
    """

    id: int
    unit_id: int
    unit_path: str
    start: date
    end: date
    status: str = PLANNED
    day_before: bool = False
    cadres: tuple[int, ...] = ()
    manual: tuple[tuple[int, int], ...] = ()
    area: Any = None


@dataclass(frozen=True)
class VisitFacts:
    """What the rules need of a visit (an evaluation's day or a logged visit)."""

    id: int
    user_id: int
    unit_path: str
    start: date
    end: date
    area: Any = None


def window(plan: PlanFacts) -> tuple[date, date]:
    """The days a visit may fall on to fulfil the plan: its dates, and the eve when the cadre
    is to arrive a day before."""
    first = plan.start - timedelta(days=1) if plan.day_before else plan.start
    return first, plan.end


def _reaches(plan: PlanFacts, visit: VisitFacts) -> bool:
    first, last = window(plan)
    return visit.unit_path.startswith(plan.unit_path) and visit.start <= last and visit.end >= first


def match(plans: Iterable[PlanFacts], visits: Iterable[VisitFacts]) -> dict[tuple[int, int], int]:
    """Which visit fulfils each (plan, cadre): ``{(plan id, user id): visit id}``.

    A visit linked by hand wins. Otherwise the cadre's first visit of the planned unit (or
    a unit under it) inside :func:`window`. Only approved plans (planned, or re-planned
    afterwards) are fulfilled; each visit fulfils one plan at most, the earliest first.
    """
    plans = sorted(plans, key=lambda p: (p.start, p.id))
    visits = sorted(visits, key=lambda v: (v.start, v.id))
    found: dict[tuple[int, int], int] = {}
    used: set[int] = set()
    for plan in plans:
        for user_id, visit_id in plan.manual:
            if user_id in plan.cadres and visit_id not in used:
                found[(plan.id, user_id)] = visit_id
                used.add(visit_id)
    for plan in plans:
        if plan.status not in (PLANNED, REPLANNED):
            continue
        for user_id in plan.cadres:
            if (plan.id, user_id) in found:
                continue
            for visit in visits:
                if visit.user_id == user_id and visit.id not in used and _reaches(plan, visit):
                    found[(plan.id, user_id)] = visit.id
                    used.add(visit.id)
                    break
    return found


def state(status: str, end: date, done: bool, today: date) -> str:
    """A plan's (or one cadre's share of it) state: done once a visit fulfils it, missed when
    its last day has passed without one, upcoming until then; proposals, declined and
    re-planned plans are what their row says (a re-planned plan lives on in its new dates)."""
    if status in (PROPOSED, DECLINED, REPLANNED):
        return status
    if done:
        return DONE
    return MISSED if end < today else UPCOMING


def plan_state(plan: PlanFacts, matches: dict[tuple[int, int], int], today: date) -> str:
    """The plan's state: done when any of its cadres went."""
    done = any((plan.id, user_id) in matches for user_id in plan.cadres)
    return state(plan.status, plan.end, done, today)


@dataclass
class Tally:
    """Plan against done over a period, for the whole area, one cadre or one commune."""

    planned: int = 0  # approved: done + missed + upcoming + replanned
    done: int = 0
    missed: int = 0
    upcoming: int = 0
    replanned: int = 0
    unplanned: int = 0  # visits that no plan asked for
    proposed: int = 0
    declined: int = 0

    def add(self, state_: str) -> None:
        if state_ in (DONE, MISSED, UPCOMING, REPLANNED):
            self.planned += 1
        setattr(self, state_, getattr(self, state_) + 1)

    @property
    def done_share(self) -> float | None:
        """Done among the plans whose time is over (done + missed), None before any is."""
        over = self.done + self.missed
        return self.done / over if over else None


@dataclass
class Report:
    total: Tally = field(default_factory=Tally)
    by_cadre: dict[int, Tally] = field(default_factory=dict)
    by_area: dict[Any, Tally] = field(default_factory=dict)


def report(
    plans: Sequence[PlanFacts],
    visits: Sequence[VisitFacts],
    first: date,
    last: date,
    today: date,
) -> Report:
    """Plan against done for the plans starting and the visits made in ``first``..``last``.

    ``plans`` and ``visits`` may reach outside the period (a visit fulfilling a plan of the
    period a day early, a plan of last month fulfilled by a visit of this one): the matching
    sees them all, the counts only what falls in the period. The whole area counts each plan
    once (done when one of its cadres went); each cadre counts their own share; a commune
    counts the plans of its units and the visits made there.
    """
    matches = match(plans, visits)
    out = Report()
    for plan in plans:
        if not first <= plan.start <= last:
            continue
        plan_st = plan_state(plan, matches, today)
        out.total.add(plan_st)
        out.by_area.setdefault(plan.area, Tally()).add(plan_st)
        for user_id in plan.cadres:
            mine = state(plan.status, plan.end, (plan.id, user_id) in matches, today)
            out.by_cadre.setdefault(user_id, Tally()).add(mine)
    fulfilling = set(matches.values())
    for visit in visits:
        if first <= visit.start <= last and visit.id not in fulfilling:
            out.total.unplanned += 1
            out.by_cadre.setdefault(visit.user_id, Tally()).unplanned += 1
            out.by_area.setdefault(visit.area, Tally()).unplanned += 1
    return out


def planned_days(plans: Iterable[PlanFacts], year: int) -> dict[int, int]:
    """Each cadre's planned days in ``year``: distinct dates of their approved plans still in
    force (a re-planned plan counts by its new dates, a proposal not yet)."""
    per_user: dict[int, set[date]] = {}
    first, last = date(year, 1, 1), date(year, 12, 31)
    for plan in plans:
        if plan.status != PLANNED:
            continue
        day = max(plan.start, first)
        while day <= min(plan.end, last):
            for user_id in plan.cadres:
                per_user.setdefault(user_id, set()).add(day)
            day += timedelta(days=1)
    return {user_id: len(days) for user_id, days in per_user.items()}


# ----------------------------------------------------------- who should go where next

#: The order of need: never evaluated, overdue, repeat offender, then the other flagged
#: branches (serious ones first within each group).
NEED = {flags.NEVER: 0, flags.OVERDUE: 1, flags.REPEAT: 2, flags.FLAGGED: 3}


@dataclass(frozen=True)
class Need:
    """A branch needing a visit, as the flagged list judged it."""

    branch_id: int
    name: str
    state: str
    serious: bool = False
    since: date | None = None


def reached(
    plans: Iterable[PlanFacts], matches: dict[tuple[int, int], int], today: date
) -> set[int]:
    """Units a plan already reaches: an approved plan not yet over, or a proposal waiting."""
    out = set()
    for plan in plans:
        if plan_state(plan, matches, today) in (UPCOMING, PROPOSED):
            out.add(plan.unit_id)
    return out


def who_next(branches: Iterable[Need], reached_ids: set[int]) -> list[Need]:
    """The flagged or overdue branches no plan reaches, the neediest first.

    Never evaluated, then overdue, then repeat offenders, then the other flagged; within a
    group serious first, then the longest-standing (no date first), then by name.
    """
    waiting = [b for b in branches if b.state in NEED and b.branch_id not in reached_ids]
    return sorted(
        waiting,
        key=lambda b: (
            NEED[b.state],
            not b.serious,
            b.since is not None,
            b.since or date.min,
            b.name,
            b.branch_id,
        ),
    )
