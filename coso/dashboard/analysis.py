"""Where to act: rates per child unit, the monthly trend, the items that fail most,
good practices, and each child unit's branch profile.

Rates read the evaluations of one period only: for a small subtree each of its
branches (a path range) seeks its meetings through the (branch, meeting date)
index; for a whole province the meeting-date index gives the period at once
(the database picks). Results are grouped by the branch's parent in SQL, then
rolled up in Python to the children of the unit being looked at, so a tree of
any depth costs one grouped query however many levels it has.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from coso.checklists.queries import current_template
from coso.dashboard.rules import TREND_MONTHS, Period, months_ending, rate
from coso.evaluations.queries import not_superseded
from coso.extensions import among, db
from coso.judging import flags
from coso.judging.queries import Thresholds
from coso.models import BranchStatus, Evaluation, EvaluationAnswer, SecretaryTerm, Unit, User
from coso.models.evaluations import FAILING_ANSWER
from coso.models.units import SECRETARY_ROLE
from coso.tallies import queries as tallies
from coso.web import Page, paginate

PRACTICES_PAGE = 25


def _bucket(unit: Unit) -> sa.ColumnElement[int]:
    """A branch's group: itself when it sits right under ``unit``, else its parent."""
    return sa.case((Unit.parent_id == unit.id, Unit.id), else_=Unit.parent_id)


def _child_of(unit: Unit, bucket_ids: set[int]) -> dict[int, int]:
    """Map each bucket (a unit under ``unit``) to the child of ``unit`` it lies under."""
    out: dict[int, int] = {}
    ids = [i for i in bucket_ids if i is not None]
    for start in range(0, len(ids), 500):
        for bucket_id, path in db.session.execute(
            sa.select(Unit.id, Unit.path).where(among(Unit.id, ids[start : start + 500]))
        ):
            chain = [int(part) for part in path.strip("/").split("/") if part]
            if len(chain) > unit.depth + 1:
                out[bucket_id] = chain[unit.depth + 1]
    return out


def _rolled(unit: Unit, rows: list[tuple[Any, ...]]) -> dict[int, list[tuple[Any, ...]]]:
    """Group rows whose first value is a bucket id by the child of ``unit`` they lie under."""
    mapping = _child_of(unit, {row[0] for row in rows})
    out: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        child = mapping.get(row[0])
        if child is not None:
            out[child].append(row[1:])
    return out


def children(unit: Unit) -> list[Unit]:
    """The active units right under ``unit``, by name."""
    return list(
        db.session.scalars(
            sa.select(Unit)
            .where(Unit.parent_id == unit.id, Unit.active.is_(True))
            .order_by(Unit.name, Unit.id)
        )
    )


def _branches_in(unit: Unit) -> Any:
    return sa.and_(unit.subtree_clause(), Unit.kind == "branch", Unit.active.is_(True))


def _evaluations_in(unit: Unit, period: Period) -> Any:
    return sa.and_(
        _branches_in(unit),
        Evaluation.meeting_date >= period.start,
        Evaluation.meeting_date <= period.end,
        not_superseded(),
    )


# ----------------------------------------------------------------------- rates


@dataclass
class Rate:
    """Compliance of one unit's branches over a period."""

    unit: Unit | None
    branches: int = 0
    evaluated: int = 0  # branches with at least one evaluation in the period
    evaluations: int = 0
    compliant: int = 0

    @property
    def rate(self) -> float | None:
        return rate(self.compliant, self.evaluations)

    @property
    def coverage(self) -> float | None:
        return rate(self.evaluated, self.branches)


def child_rates(unit: Unit, period: Period) -> tuple[list[Rate], Rate]:
    """The compliance rate of each child of ``unit`` over ``period``, weakest first, and the total.

    Only evaluations still standing count (a corrected one is replaced by its correction).
    A calendar month is read from the communes' tallies (``coso.tallies``).
    """
    bucket = _bucket(unit)
    compliant = sa.func.sum(sa.case((Evaluation.compliant.is_(True), 1), else_=0))
    if tallies.one_month(period.start, period.end) and tallies.counts_subtree(unit):
        sums = tallies.month_sums(period.start, period.end, [Unit.id], tallies.within(unit))
        evaluated: Any = [(commune, n, ok, b) for commune, _month, n, ok, b in sums]
    else:
        evaluated = db.session.execute(
            sa.select(
                bucket, sa.func.count(), compliant, sa.func.count(sa.distinct(Evaluation.branch_id))
            )
            .select_from(Evaluation)
            .join(Unit, Unit.id == Evaluation.branch_id)
            .where(_evaluations_in(unit, period))
            .group_by(bucket)
        ).all()
    branches = db.session.execute(
        sa.select(bucket, sa.func.count()).where(_branches_in(unit)).group_by(bucket)
    ).all()
    rates = {child.id: Rate(child) for child in children(unit)}
    total = Rate(unit)
    for child_id, values in _rolled(unit, [tuple(r) for r in evaluated]).items():
        target = rates.get(child_id)
        for count, ok, distinct in values:
            if target is not None:
                target.evaluations += count
                target.compliant += int(ok or 0)
                target.evaluated += distinct
    for child_id, values in _rolled(unit, [tuple(r) for r in branches]).items():
        if child_id in rates:
            rates[child_id].branches += sum(count for (count,) in values)
    for item in rates.values():
        total.branches += item.branches
        total.evaluated += item.evaluated
        total.evaluations += item.evaluations
        total.compliant += item.compliant
    if unit.is_branch:  # a branch has no children: its own figures are the total
        (row,) = db.session.execute(
            sa.select(sa.func.count(), compliant)
            .select_from(Evaluation)
            .join(Unit, Unit.id == Evaluation.branch_id)
            .where(_evaluations_in(unit, period))
        ).all()
        total = Rate(unit, 1, 1 if row[0] else 0, row[0], int(row[1] or 0))
    ordered = sorted(
        rates.values(),
        key=lambda r: (r.rate is None, r.rate if r.rate is not None else 0, r.unit.name),  # type: ignore[union-attr]
    )
    return ordered, total


@dataclass
class Month:
    period: Period
    evaluations: int = 0
    compliant: int = 0

    @property
    def rate(self) -> float | None:
        return rate(self.compliant, self.evaluations)

    @property
    def label(self) -> str:
        return f"{self.period.start.month:02d}/{self.period.start.year % 100:02d}"


def monthly_trend(unit: Unit, last: date, months: int = TREND_MONTHS) -> list[Month]:
    """The compliance rate month by month, ``months`` months ending with ``last``'s."""
    periods = months_ending(last, months)
    out = {p.month: Month(p) for p in periods}
    if not unit.is_branch:  # the tally rows under it are its branches
        sums = tallies.month_sums(periods[0].start, periods[-1].end, [], tallies.within(unit))
        for first, count, ok, _branches in sums:
            month = out[f"{first.year:04d}-{first.month:02d}"]
            month.evaluations, month.compliant = int(count or 0), int(ok or 0)
        return list(out.values())
    span = Period(periods[0].start, periods[-1].end)
    compliant = sa.func.sum(sa.case((Evaluation.compliant.is_(True), 1), else_=0))
    by_day = db.session.execute(
        sa.select(Evaluation.meeting_date, sa.func.count(), compliant)
        .select_from(Evaluation)
        .join(Unit, Unit.id == Evaluation.branch_id)
        .where(_evaluations_in(unit, span))
        .group_by(Evaluation.meeting_date)
    ).all()
    for day, count, ok in by_day:
        month = out.get(f"{day.year:04d}-{day.month:02d}")
        if month is not None:
            month.evaluations += count
            month.compliant += int(ok or 0)
    return list(out.values())


@dataclass
class FailingItem:
    code: str
    text: str
    critical: bool
    fail: int = 0
    partial: int = 0
    share: float | None = None  # of the period's evaluations, failed or partly met


def failing_items(
    unit: Unit, period: Period, evaluations: int, locale: str, limit: int = 10
) -> list[FailingItem]:
    """The checklist items most often failed or partly met in the subtree over the period."""
    rows: Any
    if not unit.is_branch and tallies.whole_months(period.start, period.end):
        sums = tallies.item_sums(period.start, period.end, [], tallies.within(unit))
        pairs = (("fail", 1), ("partial", 2))
        rows = [(row[0], value, row[i]) for row in sums for value, i in pairs]
    else:
        rows = db.session.execute(
            sa.select(EvaluationAnswer.item_code, EvaluationAnswer.value, sa.func.count())
            .select_from(EvaluationAnswer)
            .join(Evaluation, Evaluation.id == EvaluationAnswer.evaluation_id)
            .join(Unit, Unit.id == Evaluation.branch_id)
            .where(_evaluations_in(unit, period), sa.text(f"evaluation_answer.{FAILING_ANSWER}"))
            .group_by(EvaluationAnswer.item_code, EvaluationAnswer.value)
        ).all()
    template = current_template(unit)
    found: dict[str, FailingItem] = {}
    for code, value, count in rows:
        item = found.get(code)
        if item is None:
            spec = template.item(code) if template else None
            item = found[code] = FailingItem(
                code=code,
                text=spec.text(locale) if spec else code,
                critical=bool(spec and spec.critical),
            )
        if value == "fail":
            item.fail += count
        else:
            item.partial += count
    for item in found.values():
        item.share = rate(item.fail + item.partial, evaluations)
    ordered = sorted(found.values(), key=lambda i: (-i.fail, -i.partial, i.code))
    return ordered[:limit]


# -------------------------------------------------------------- good practices


@dataclass
class Practice:
    evaluation_id: int
    branch_id: int
    branch_name: str
    parent_name: str | None
    meeting_date: date
    score: float | None
    cadre: str
    text: str


def good_practices(unit: Unit, page: int) -> Page[Practice]:
    """One page of good practices recommended for spreading, newest first (not counted).

    Read through the ``(recommend_practice, meeting_date)`` index, newest first, so
    only recommended evaluations are visited; there is no total count, which would
    have to visit them all. SQLite's statistics cannot tell that few evaluations
    are recommended and would rather walk every evaluation of the subtree through
    the branch index: there the subtree is tested in a form it cannot index
    (the prefix of the path), which leaves it the recommended index.
    """
    parent = aliased(Unit)
    if db.session.get_bind().dialect.name == "sqlite":
        in_subtree = sa.func.substr(Unit.path, 1, len(unit.path)) == unit.path
    else:
        in_subtree = unit.subtree_clause()
    query = (
        sa.select(
            Evaluation.id,
            Unit.id,
            Unit.name,
            parent.name,
            Evaluation.meeting_date,
            Evaluation.score,
            User.display_name,
            Evaluation.good_practice,
        )
        .select_from(Evaluation)
        .join(Unit, Unit.id == Evaluation.branch_id)
        .outerjoin(parent, parent.id == Unit.parent_id)
        .join(User, User.id == Evaluation.cadre_id)
        .where(
            Evaluation.recommend_practice.is_(True),
            Evaluation.good_practice.is_not(None),
            in_subtree,
            not_superseded(),
        )
        .order_by(Evaluation.meeting_date.desc(), Evaluation.id.desc())
    )
    return paginate(query, page, PRACTICES_PAGE, count=False).map(lambda row: Practice(*row))


# ---------------------------------------------------------- children and profile


@dataclass
class ChildSummary:
    """One child on a unit's page: its branches' states and their secretaries."""

    unit: Unit
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(flags.STATES, 0))
    branches: int = 0
    party_secretaries: int = 0
    secretary_changes: int = 0
    state: str | None = None  # a branch child's own effective state
    since: date | None = None
    score: float | None = None

    @property
    def party_share(self) -> float | None:
        return rate(self.party_secretaries, self.branches)


def child_summaries(
    unit: Unit, today: date, resolved: Thresholds
) -> tuple[list[ChildSummary], ChildSummary]:
    """Each child of ``unit`` with its state counts and branch profile, and the unit's total.

    Three grouped queries over the subtree's branches (states from the status rows,
    secretaries from the branch profile, changes from secretary terms ended in the
    last 365 days), rolled up to the children.
    """
    bucket = _bucket(unit)
    state = resolved.state_expr(today)
    party = sa.func.sum(sa.case((Unit.secretary_party_member.is_(True), 1), else_=0))
    states = db.session.execute(
        sa.select(bucket, state, sa.func.count(), party)
        .select_from(Unit)
        .outerjoin(BranchStatus, BranchStatus.branch_id == Unit.id)
        .where(_branches_in(unit))
        .group_by(bucket, state)
    ).all()
    year_ago = today - timedelta(days=365)
    changes = db.session.execute(
        sa.select(bucket, sa.func.count())
        .select_from(SecretaryTerm)
        .join(Unit, Unit.id == SecretaryTerm.branch_id)
        .where(
            _branches_in(unit),
            SecretaryTerm.role == SECRETARY_ROLE,  # a deputy leaving is not turnover
            SecretaryTerm.ended_on > year_ago,
            SecretaryTerm.ended_on <= today,
        )
        .group_by(bucket)
    ).all()
    summaries = {child.id: ChildSummary(child) for child in children(unit)}
    for child_id, values in _rolled(unit, [tuple(r) for r in states]).items():
        target = summaries.get(child_id)
        if target is None:
            continue
        for st, count, party_count in values:
            target.counts[st] += count
            target.branches += count
            target.party_secretaries += int(party_count or 0)
    for child_id, values in _rolled(unit, [tuple(r) for r in changes]).items():
        if child_id in summaries:
            summaries[child_id].secretary_changes += sum(count for (count,) in values)
    branch_children = [s.unit.id for s in summaries.values() if s.unit.is_branch]
    if branch_children:
        since = resolved.since_expr(today)
        for branch_id, st, since_on, score in db.session.execute(
            sa.select(Unit.id, state, since, BranchStatus.score)
            .select_from(Unit)
            .outerjoin(BranchStatus, BranchStatus.branch_id == Unit.id)
            .where(among(Unit.id, branch_children))
        ):
            target = summaries[branch_id]
            target.state, target.since, target.score = st, since_on, score
    total = ChildSummary(unit)
    for item in summaries.values():
        for st, count in item.counts.items():
            total.counts[st] += count
        total.branches += item.branches
        total.party_secretaries += item.party_secretaries
        total.secretary_changes += item.secretary_changes
    return list(summaries.values()), total
