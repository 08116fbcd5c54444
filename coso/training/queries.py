"""Counting findings for the training view: one grouped query per figure, rolled up to the
children of the unit looked at (as "where to act" does), and the evidence behind a cell."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import sqlalchemy as sa

from coso.dashboard import analysis
from coso.dashboard.rules import Period
from coso.extensions import db
from coso.models import Evaluation, EvaluationAnswer, Unit, User
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
