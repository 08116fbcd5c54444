"""Reads: a unit's chain up to its province, a province's categories, and the difficulties."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from coso import scope
from coso.difficulties import rules
from coso.extensions import db
from coso.models import Difficulty, DifficultyCategory, Unit, User


def chain_of(unit: Unit) -> list[Unit]:
    """The units from the root of ``unit``'s tree down to ``unit`` itself."""
    ids = [int(part) for part in unit.path.strip("/").split("/") if part]
    if not ids:
        return [unit]
    found = {u.id: u for u in db.session.scalars(sa.select(Unit).where(Unit.id.in_(ids)))}
    chain = [found[i] for i in ids if i in found]
    return chain if chain and chain[-1].id == unit.id else [*chain, unit]


def province_of(unit: Unit) -> Unit:
    """``unit``'s province: the root of its tree, or the unit under the Central Committee's."""
    chain = chain_of(unit)
    return next((u for u in chain if u.kind != rules.CENTRAL_KIND), chain[0])


def category_rows(province: Unit) -> list[DifficultyCategory]:
    """The province's own list, retired ones included, in its order (empty: the defaults)."""
    return list(
        db.session.scalars(
            sa.select(DifficultyCategory)
            .where(DifficultyCategory.province_id == province.id)
            .order_by(DifficultyCategory.position, DifficultyCategory.id)
        )
    )


def every_label(province: Unit) -> list[tuple[str, str]]:
    """Every category the province ever had (code, label): what a difficulty raised under a
    category since retired is shown with."""
    rows = category_rows(province)
    return [(row.code, row.label) for row in rows] if rows else list(rules.DEFAULT_CATEGORIES)


def categories(province: Unit) -> list[tuple[str, str]]:
    """The province's active categories (code, label); its defaults when it has no list."""
    rows = db.session.scalars(
        sa.select(DifficultyCategory)
        .where(DifficultyCategory.province_id == province.id, DifficultyCategory.active)
        .order_by(DifficultyCategory.position, DifficultyCategory.id)
    ).all()
    if rows:
        return [(row.code, row.label) for row in rows]
    return list(rules.DEFAULT_CATEGORIES)


def by_uuid(uuid: str) -> Difficulty | None:
    return db.session.scalar(sa.select(Difficulty).where(Difficulty.uuid == uuid))


def overdue_counts(unit_ids: list[int], today: date) -> dict[int, int]:
    """How many overdue difficulties each of ``unit_ids`` has (units without any left out)."""
    if not unit_ids:
        return {}
    rows = db.session.execute(
        sa.select(Difficulty.unit_id, sa.func.count())
        .where(
            Difficulty.unit_id.in_(unit_ids),
            Difficulty.state != rules.CLOSED,
            Difficulty.due.is_not(None),
            Difficulty.due < today,
        )
        .group_by(Difficulty.unit_id)
    ).all()
    return {unit_id: count for unit_id, count in rows}


def handles(user: User, difficulty: Difficulty) -> bool:
    """May ``user`` act for the level the difficulty was sent to (answer, assign, pass up)?"""
    receiver = difficulty.routed_to
    return rules.may_handle(
        user.role_list, user.unit_id == receiver.id, scope.in_scope(user, receiver)
    )


def may_read(user: User, difficulty: Difficulty) -> bool:
    """May ``user`` read the difficulty (its page, its photos)? Its raiser, the level that
    handles it, and whoever's area holds the unit it is about."""
    return (
        difficulty.raised_by_id == user.id
        or handles(user, difficulty)
        or scope.in_scope(user, difficulty.unit)
    )
