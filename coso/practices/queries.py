"""Reads: the practices spread to a user (and which are new to them), the editor's list, one
practice as a user may see it."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from coso import scope
from coso.extensions import among, db
from coso.models import Evaluation, Practice, PracticeRead, Unit, User
from coso.practices.rules import MAX_LISTED, reaches


@dataclass
class Listed:
    """A spread practice as a reader sees it in a list."""

    practice: Practice
    unit_name: str
    new: bool


def _reaching(user: User) -> sa.ColumnElement[bool]:
    """Practices spread to the user's home unit or a unit above it (its ancestors' ids)."""
    return sa.and_(
        Practice.spread_at.is_not(None), Practice.spread_unit_id.in_(user.unit.ancestor_ids)
    )


def _read_ids(user: User, practice_ids: list[int]) -> set[int]:
    if not practice_ids:
        return set()
    return set(
        db.session.scalars(
            sa.select(PracticeRead.practice_id).where(
                PracticeRead.user_id == user.id, among(PracticeRead.practice_id, practice_ids)
            )
        )
    )


def spread_to(user: User, limit: int = MAX_LISTED) -> list[Listed]:
    """The practices spread to ``user``'s area, newest spread first, each new or not."""
    rows = db.session.execute(
        sa.select(Practice, Unit.name)
        .join(Unit, Unit.id == Practice.unit_id)
        .where(_reaching(user))
        .order_by(Practice.spread_at.desc(), Practice.id.desc())
        .limit(limit)
    ).all()
    read = _read_ids(user, [practice.id for practice, _name in rows])
    return [Listed(practice, name, practice.id not in read) for practice, name in rows]


def new_count(user: User) -> int:
    """How many practices spread to ``user`` they have not opened yet."""
    opened = sa.select(PracticeRead.practice_id).where(PracticeRead.user_id == user.id)
    return int(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Practice)
            .where(_reaching(user), Practice.id.not_in(opened))
        )
        or 0
    )


def visible(practice: Practice, user: User) -> bool:
    """May ``user`` open ``practice``: spread to their area, or theirs to edit."""
    spread_unit = practice.spread_unit if practice.spread_at else None
    if spread_unit is not None and user.active and reaches(spread_unit.path, user.unit.path):
        return True
    return scope.may(user, "publish", practice.unit)


def is_read(practice: Practice, user: User) -> bool:
    return bool(
        db.session.scalar(
            sa.select(PracticeRead.id).where(
                PracticeRead.practice_id == practice.id, PracticeRead.user_id == user.id
            )
        )
    )


def recorded(unit: Unit, limit: int = MAX_LISTED) -> list[tuple[Practice, str]]:
    """The practices recorded in ``unit``'s subtree, newest first (the editor's list)."""
    return [
        (practice, name)
        for practice, name in db.session.execute(
            sa.select(Practice, Unit.name)
            .join(Unit, Unit.id == Practice.unit_id)
            .where(unit.subtree_clause())
            .order_by(Practice.created_at.desc(), Practice.id.desc())
            .limit(limit)
        )
    ]


def recorded_evaluations(evaluation_ids: list[int]) -> dict[int, int]:
    """Which of these evaluations' practices are recorded already: evaluation id → practice id."""
    if not evaluation_ids:
        return {}
    return {
        evaluation_id: practice_id
        for evaluation_id, practice_id in db.session.execute(
            sa.select(Practice.evaluation_id, Practice.id).where(
                among(Practice.evaluation_id, evaluation_ids)
            )
        )
        if evaluation_id is not None
    }


def of_evaluation(evaluation: Evaluation) -> Practice | None:
    return db.session.scalar(sa.select(Practice).where(Practice.evaluation_id == evaluation.id))


def for_pack(user: User) -> list[dict[str, object]]:
    """The practices spread to ``user`` as the field pack carries them (for reading offline)."""
    return [
        {
            "id": item.practice.id,
            "title": item.practice.title,
            "description": item.practice.description,
            "unit_name": item.unit_name,
            "source": item.practice.source,
            "spread_on": item.practice.spread_at.date().isoformat()
            if item.practice.spread_at
            else None,
            "new": item.new,
        }
        for item in spread_to(user)
    ]
