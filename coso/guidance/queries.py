"""Which month's guidance a branch uses (the nearest issuing unit above it), and other reads."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from coso import scope
from coso.extensions import db
from coso.models import Evaluation, Guidance, Unit, User
from coso.web import Page, paginate


def guidance_for(unit: Unit, period: str) -> Guidance | None:
    """The guidance for ``period`` issued by the unit closest above ``unit`` (or itself)."""
    return db.session.scalar(
        sa.select(Guidance)
        .join(Unit, Unit.id == Guidance.unit_id)
        .where(Guidance.unit_id.in_(unit.ancestor_ids), Guidance.period == period)
        .order_by(Unit.depth.desc())
        .limit(1)
    )


def in_use(guidance: Guidance) -> bool:
    """True once an evaluation names this guidance (its topics are then fixed)."""
    if guidance.id is None:
        return False
    return (
        db.session.scalar(
            sa.select(Evaluation.id).where(Evaluation.guidance_id == guidance.id).limit(1)
        )
        is not None
    )


def exists(unit: Unit, period: str, other: Guidance | None = None) -> Guidance | None:
    """The guidance ``unit`` itself issued for ``period`` (other than ``other``), if any."""
    query = sa.select(Guidance).where(Guidance.unit_id == unit.id, Guidance.period == period)
    if other is not None:
        query = query.where(Guidance.id != other.id)
    return db.session.scalar(query)


def issued(user: User, unit: Unit | None, page: int, size: int) -> Page[Any]:
    """One page of (guidance, unit) rows in ``user``'s area, newest month first, counted.

    Only ``unit``'s own guidance when ``unit`` is given.
    """
    query = (
        sa.select(Guidance, Unit)
        .join(Unit, Unit.id == Guidance.unit_id)
        .where(scope.scope_clause(user))
    )
    if unit is not None:
        query = query.where(Guidance.unit_id == unit.id)
    return paginate(query.order_by(Guidance.period.desc(), Unit.depth, Unit.name), page, size)
