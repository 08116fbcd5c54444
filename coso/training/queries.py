"""Counting findings for the training view: one grouped query per figure, rolled up to the
children of the unit looked at (as "where to act" does), and the evidence behind a cell."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from coso.dashboard import analysis
from coso.dashboard.rules import Period
from coso.extensions import db
from coso.models import Difficulty, Evaluation, EvaluationAnswer, Unit, User
from coso.models.evaluations import FAILING_ANSWER
from coso.training.rules import Tally
from coso.web import Page, paginate


@dataclass(frozen=True)
class Findings:
    """What a period's evaluations in an area failed, per child unit."""

    children: list[Unit]
    tallies: dict[tuple[int, str], Tally]
    evaluations: dict[int, int]


def findings(unit: Unit, period: Period) -> Findings:
    """The failed and partly met items of the period's standing evaluations, per child unit."""
    bucket = analysis._bucket(unit)
    failing = db.session.execute(
        sa.select(bucket, EvaluationAnswer.item_code, EvaluationAnswer.value, sa.func.count())
        .select_from(EvaluationAnswer)
        .join(Evaluation, Evaluation.id == EvaluationAnswer.evaluation_id)
        .join(Unit, Unit.id == Evaluation.branch_id)
        .where(
            analysis._evaluations_in(unit, period),
            sa.text(f"evaluation_answer.{FAILING_ANSWER}"),
        )
        .group_by(bucket, EvaluationAnswer.item_code, EvaluationAnswer.value)
    ).all()
    counted = db.session.execute(
        sa.select(bucket, sa.func.count())
        .select_from(Evaluation)
        .join(Unit, Unit.id == Evaluation.branch_id)
        .where(analysis._evaluations_in(unit, period))
        .group_by(bucket)
    ).all()
    children = analysis.children(unit)
    evaluations = {child.id: 0 for child in children}
    for child_id, rows in analysis._rolled(unit, [tuple(r) for r in counted]).items():
        evaluations[child_id] = evaluations.get(child_id, 0) + sum(n for (n,) in rows)
    raw: dict[tuple[int, str], list[int]] = {}
    for child_id, rows in analysis._rolled(unit, [tuple(r) for r in failing]).items():
        for code, value, count in rows:
            pair = raw.setdefault((child_id, code), [0, 0])
            pair[0 if value == "fail" else 1] += count
    tallies = {key: Tally(fail, partial) for key, (fail, partial) in raw.items()}
    return Findings(children, tallies, evaluations)


@dataclass(frozen=True)
class Evidence:
    evaluation_id: int
    branch_id: int
    branch: str
    meeting_date: date
    cadre: str
    value: str
    note: str | None


def evidence(unit: Unit, code: str, period: Period, page: int) -> Page[Evidence]:
    """The standing evaluations in ``unit``'s area that failed or partly met ``code``."""
    query = (
        sa.select(
            Evaluation.id,
            Unit.id,
            Unit.name,
            Evaluation.meeting_date,
            User.display_name,
            EvaluationAnswer.value,
            EvaluationAnswer.note,
        )
        .select_from(EvaluationAnswer)
        .join(Evaluation, Evaluation.id == EvaluationAnswer.evaluation_id)
        .join(Unit, Unit.id == Evaluation.branch_id)
        .join(User, User.id == Evaluation.cadre_id)
        .where(
            analysis._evaluations_in(unit, period),
            EvaluationAnswer.item_code == code,
            sa.text(f"evaluation_answer.{FAILING_ANSWER}"),
        )
        .order_by(Evaluation.meeting_date.desc(), Evaluation.id.desc())
    )
    result: Page[Any] = paginate(query, page)
    return replace(result, rows=[Evidence(*row) for row in result.rows])


def _raised_in(unit: Unit, period: Period) -> Any:
    """Difficulties about ``unit`` or a unit under it, raised in the period's local days."""
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "UTC")
    start = datetime.combine(period.start, time.min, tzinfo=zone)
    end = datetime.combine(period.end + timedelta(days=1), time.min, tzinfo=zone)
    return sa.and_(unit.subtree_clause(), Difficulty.raised_at >= start, Difficulty.raised_at < end)


def difficulty_counts(
    unit: Unit, period: Period
) -> tuple[dict[str, int], dict[int, dict[str, int]]]:
    """How many difficulties of each category were raised in the period: in the whole area,
    and per child unit of ``unit`` (one grouped query, rolled up as the findings are)."""
    bucket = analysis._bucket(unit)  # one expression: PostgreSQL groups by the same binds
    rows = db.session.execute(
        sa.select(bucket, Difficulty.category, sa.func.count())
        .select_from(Difficulty)
        .join(Unit, Unit.id == Difficulty.unit_id)
        .where(_raised_in(unit, period))
        .group_by(bucket, Difficulty.category)
    ).all()
    total: dict[str, int] = defaultdict(int)
    for _bucket, category, count in rows:
        total[category] += count
    by_child: dict[int, dict[str, int]] = {}
    for child_id, grouped in analysis._rolled(unit, [tuple(r) for r in rows]).items():
        counts = by_child.setdefault(child_id, defaultdict(int))
        for category, count in grouped:
            counts[category] += count
    # A difficulty about a child unit itself (a commune's own) is in that child's bucket; one
    # about ``unit`` itself is in the area's total only.
    return dict(total), {child: dict(c) for child, c in by_child.items()}


@dataclass(frozen=True)
class RaisedDifficulty:
    id: int
    unit: str
    raised_at: datetime
    text: str
    state: str


def difficulty_evidence(
    unit: Unit, category: str, period: Period, page: int
) -> Page[RaisedDifficulty]:
    """The difficulties of one category raised in the period in ``unit``'s area."""
    query = (
        sa.select(Difficulty.id, Unit.name, Difficulty.raised_at, Difficulty.text, Difficulty.state)
        .select_from(Difficulty)
        .join(Unit, Unit.id == Difficulty.unit_id)
        .where(_raised_in(unit, period), Difficulty.category == category)
        .order_by(Difficulty.raised_at.desc(), Difficulty.id.desc())
    )
    result: Page[Any] = paginate(query, page)
    return replace(result, rows=[RaisedDifficulty(*row) for row in result.rows])
