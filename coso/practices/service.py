"""Writes: a practice recorded (by hand or from an evaluation), spread, withdrawn, opened.
Each editor's action has its audit event; the caller commits."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from coso import audit
from coso.extensions import db
from coso.models import Evaluation, Practice, PracticeRead, Unit, User
from coso.models.types import utcnow
from coso.practices.queries import of_evaluation
from coso.practices.rules import EVALUATION, title_from


def _snapshot(practice: Practice) -> dict[str, Any]:
    return {
        "unit_id": practice.unit_id,
        "source": practice.source,
        "evaluation_id": practice.evaluation_id,
        "title": practice.title,
        "spread_unit_id": practice.spread_unit_id,
        "spread": practice.spread_at is not None,
    }


def record(unit: Unit, data: dict[str, Any], user: User) -> Practice:
    """A practice seen at ``unit`` on a visit or recorded on its own."""
    practice = Practice(
        unit_id=unit.id,
        source=data["source"],
        title=data["title"],
        description=data["description"],
        created_by_id=user.id,
    )
    db.session.add(practice)
    db.session.flush()
    audit.record(
        "practice.create", obj=practice, unit_id=unit.id, user=user, after=_snapshot(practice)
    )
    return practice


def from_evaluation(evaluation: Evaluation, user: User) -> Practice:
    """The practice an evaluation noted, recorded once (a second call returns the first)."""
    existing = of_evaluation(evaluation)
    if existing is not None:
        return existing
    text = (evaluation.good_practice or "").strip()
    practice = Practice(
        unit_id=evaluation.branch_id,
        source=EVALUATION,
        evaluation_id=evaluation.id,
        title=title_from(text),
        description=text,
        created_by_id=user.id,
    )
    db.session.add(practice)
    db.session.flush()
    audit.record(
        "practice.create",
        obj=practice,
        unit_id=evaluation.branch_id,
        user=user,
        after=_snapshot(practice),
    )
    return practice


def spread(practice: Practice, user: User) -> None:
    """Spread ``practice`` to the subtree of ``user``'s home unit (the province)."""
    before = _snapshot(practice)
    practice.spread_unit_id = user.unit_id
    practice.spread_at = utcnow()
    practice.spread_by_id = user.id
    db.session.flush()
    audit.record(
        "practice.spread",
        obj=practice,
        unit_id=practice.unit_id,
        user=user,
        before=before,
        after=_snapshot(practice),
    )


def withdraw(practice: Practice, user: User) -> None:
    """Stop spreading ``practice``: it leaves the readers' pages and field packs."""
    before = _snapshot(practice)
    practice.spread_at = None
    practice.spread_unit_id = None
    practice.spread_by_id = None
    audit.record(
        "practice.withdraw",
        obj=practice,
        unit_id=practice.unit_id,
        user=user,
        before=before,
        after=_snapshot(practice),
    )


def mark_read(practice: Practice, user: User) -> None:
    """``user`` opened ``practice``: it is no longer new for them (once; a race keeps one)."""
    exists = db.session.scalar(
        sa.select(PracticeRead.id).where(
            PracticeRead.practice_id == practice.id, PracticeRead.user_id == user.id
        )
    )
    if exists:
        return
    try:
        with db.session.begin_nested():
            db.session.add(PracticeRead(practice_id=practice.id, user_id=user.id))
    except sa.exc.IntegrityError:
        pass  # the same user opened it in another tab at the same moment
