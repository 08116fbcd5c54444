"""Counting the tallies again: ``flask tallies check`` and ``flask tallies rebuild``.

The triggers keep the tallies in the transaction of every write (``coso.models.tallies``);
these are for an operator after work done with the triggers off (a bulk load, a restore
into a database made by hand): ``check`` says whether the stored rows equal a count from
the evaluations, ``rebuild`` replaces them with it.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from coso.extensions import db
from coso.models import AnswerTally, EvaluationTally, VisitDayTally
from coso.models.tally_triggers import rebuild_statements
from coso.models.visit_days import rebuild_visit_statements


def _contents() -> dict[tuple[Any, ...], tuple[int, ...]]:
    """Every non-zero tally row, by key."""
    out: dict[tuple[Any, ...], tuple[int, ...]] = {}
    for row in db.session.execute(
        sa.select(
            EvaluationTally.unit_id,
            EvaluationTally.month,
            EvaluationTally.evaluations,
            EvaluationTally.compliant,
            EvaluationTally.branches,
        )
    ):
        if any(row[2:]):
            out[("month", row[0], row[1])] = tuple(row[2:])
    for row in db.session.execute(
        sa.select(
            AnswerTally.unit_id,
            AnswerTally.month,
            AnswerTally.item_code,
            AnswerTally.fail,
            AnswerTally.partial,
        )
    ):
        if any(row[3:]):
            out[("item", row[0], row[1], row[2])] = tuple(row[3:])
    for user_id, day, visits in db.session.execute(
        sa.select(VisitDayTally.user_id, VisitDayTally.day, VisitDayTally.visits)
    ):
        if visits:
            out[("visit day", user_id, day)] = (visits,)
    return out


def rebuild() -> None:
    """Replace the tallies with a count from the evaluations (the caller commits)."""
    dialect = db.session.get_bind().dialect.name
    for statement in rebuild_statements(dialect) + rebuild_visit_statements():
        db.session.execute(sa.text(statement))


def differences() -> list[tuple[Any, ...]]:
    """The keys whose stored figures differ from a count made now (nothing is changed)."""
    stored = _contents()
    savepoint = db.session.begin_nested()
    try:
        rebuild()
        counted = _contents()
    finally:
        savepoint.rollback()
    return sorted(
        (key for key in stored.keys() | counted.keys() if stored.get(key) != counted.get(key)),
        key=repr,
    )
