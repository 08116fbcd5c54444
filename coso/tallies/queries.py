"""Sums over ``evaluation_tally`` and ``answer_tally``, grouped as a page needs them.

A tally row belongs to a branch's parent (its commune), so a unit's subtree holds exactly
the tally rows of its branches whenever the unit is not itself a branch: every branch in
the subtree has its parent there, and every row there counts only branches under it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from coso.extensions import db
from coso.models import AnswerTally, EvaluationTally, Unit

#: A tally's unit is never a branch: said in SQL, the units are read from the small partial
#: index ``ix_unit_path_above_branches`` instead of among every branch of the subtree.
ABOVE_BRANCHES = sa.text("unit.kind <> 'branch'")

#: Narrows a tally select (joined to ``Unit``, the row's commune) to the units wanted.
Scope = Callable[[sa.Select[Any]], sa.Select[Any]]


def whole_months(start: date, end: date) -> bool:
    """From a month's first day to a month's last day."""
    return start.day == 1 and (end + timedelta(days=1)).day == 1


def one_month(start: date, end: date) -> bool:
    """Exactly one calendar month (its branches evaluated are then a sum of tallies)."""
    return whole_months(start, end) and (start.year, start.month) == (end.year, end.month)


def month_sums(
    start: date, end: date, by: Sequence[sa.ColumnElement[Any]], scope: Scope
) -> list[Any]:
    """Rows of ``*by``, month, evaluations, compliant, branches for the months from ``start``
    to ``end`` (each a month's first day)."""
    select = (
        sa.select(
            *by,
            EvaluationTally.month,
            sa.func.sum(EvaluationTally.evaluations),
            sa.func.sum(EvaluationTally.compliant),
            sa.func.sum(EvaluationTally.branches),
        )
        .select_from(EvaluationTally)
        .join(Unit, Unit.id == EvaluationTally.unit_id)
    )
    select = scope(select).where(
        ABOVE_BRANCHES, EvaluationTally.month >= start, EvaluationTally.month <= end
    )
    return list(db.session.execute(select.group_by(*by, EvaluationTally.month)).all())


def item_sums(
    start: date, end: date, by: Sequence[sa.ColumnElement[Any]], scope: Scope
) -> list[Any]:
    """Rows of ``*by``, item code, failed, partly met over the months from ``start`` to
    ``end`` (whole months)."""
    select = (
        sa.select(
            *by,
            AnswerTally.item_code,
            sa.func.sum(AnswerTally.fail),
            sa.func.sum(AnswerTally.partial),
        )
        .select_from(AnswerTally)
        .join(Unit, Unit.id == AnswerTally.unit_id)
    )
    select = scope(select).where(
        ABOVE_BRANCHES, AnswerTally.month >= start, AnswerTally.month <= end
    )
    return [
        row
        for row in db.session.execute(select.group_by(*by, AnswerTally.item_code)).all()
        if row[-1] or row[-2]
    ]


def counts_subtree(unit: Unit) -> bool:
    """The tally rows under ``unit`` count its subtree by child: it is not a branch, and no
    branch hangs right under it (a row of its own would not say which child it counts)."""
    if unit.is_branch:
        return False
    direct = sa.exists().where(Unit.parent_id == unit.id, Unit.kind == "branch")
    return not db.session.scalar(sa.select(direct))


def within(unit: Unit) -> Scope:
    """The tally rows of ``unit``'s subtree."""
    return lambda select: select.where(unit.subtree_clause())
