"""Reads: a branch's posts and their history, and the area's figures per child unit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from coso.extensions import db
from coso.models import SecretaryTerm, Unit
from coso.secretaries.rules import (
    ROLES,
    SECRETARY,
    Figures,
    Post,
    figures_by_group,
    group_of,
    total_of,
    turnover_start,
)

#: At most this many branches without a secretary are listed on the page.
MAX_VACANT = 200


def open_term(branch: Unit, role: str) -> SecretaryTerm | None:
    """The term of whoever holds ``role`` at ``branch`` now, if anyone does."""
    return db.session.scalar(
        sa.select(SecretaryTerm)
        .where(
            SecretaryTerm.branch_id == branch.id,
            SecretaryTerm.role == role,
            SecretaryTerm.ended_on.is_(None),
        )
        .order_by(SecretaryTerm.id.desc())
        .limit(1)
    )


def posts_of(branch: Unit) -> dict[str, SecretaryTerm | None]:
    """The branch's current secretary and deputy (None for an empty post)."""
    return {role: open_term(branch, role) for role in ROLES}


def history(branch: Unit) -> list[SecretaryTerm]:
    """Every term of the branch, newest first."""
    return list(
        db.session.scalars(
            sa.select(SecretaryTerm)
            .where(SecretaryTerm.branch_id == branch.id)
            .order_by(
                SecretaryTerm.started_on.desc().nulls_last(),
                SecretaryTerm.id.desc(),
            )
        )
    )


@dataclass
class Row:
    """One child of the unit looked at, with its branches' secretaries."""

    unit: Unit
    figures: Figures


def _branches(unit: Unit) -> sa.ColumnElement[bool]:
    return sa.and_(unit.subtree_clause(), Unit.kind == "branch", Unit.active.is_(True))


def area_figures(unit: Unit, today: date) -> tuple[list[Row], Figures]:
    """Each child of ``unit`` (its communes, for a province) with its figures, and the total.

    Two reads over the subtree's branches: their current secretary (kept on the branch,
    with the open term's guidance towards the Party) and the secretary terms that ended
    in the turnover window; the pure rules count them.
    """
    guided = (
        sa.select(SecretaryTerm.guided_to_party)
        .where(
            SecretaryTerm.branch_id == Unit.id,
            SecretaryTerm.role == SECRETARY,
            SecretaryTerm.ended_on.is_(None),
        )
        .order_by(SecretaryTerm.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    posts = []
    for branch_id, path, name, party, is_guided in db.session.execute(
        sa.select(
            Unit.id, Unit.path, Unit.secretary_name, Unit.secretary_party_member, guided
        ).where(_branches(unit))
    ):
        group = group_of(path, unit.depth) if branch_id != unit.id else unit.id
        if group is not None:
            posts.append(Post(branch_id, group, bool(name), party, is_guided))
    endings = []
    for path, ended_on in db.session.execute(
        sa.select(Unit.path, SecretaryTerm.ended_on)
        .join(Unit, Unit.id == SecretaryTerm.branch_id)
        .where(
            _branches(unit),
            SecretaryTerm.role == SECRETARY,
            SecretaryTerm.ended_on > turnover_start(today),
        )
    ):
        group = group_of(path, unit.depth)
        endings.append((group if group is not None else unit.id, ended_on))
    by_group = figures_by_group(posts, endings, today)
    children = db.session.scalars(
        sa.select(Unit)
        .where(Unit.parent_id == unit.id, Unit.active.is_(True))
        .order_by(Unit.name, Unit.id)
    ).all()
    rows = [Row(child, by_group.get(child.id, Figures())) for child in children]
    if unit.is_branch:
        rows = [Row(unit, by_group.get(unit.id, Figures()))]
    return rows, total_of(row.figures for row in rows)


def vacant(unit: Unit) -> list[Unit]:
    """Branches of the area with no secretary, by name (at most ``MAX_VACANT``)."""
    return list(
        db.session.scalars(
            sa.select(Unit)
            .where(
                _branches(unit),
                sa.or_(Unit.secretary_name.is_(None), Unit.secretary_name == ""),
            )
            .order_by(Unit.name, Unit.id)
            .limit(MAX_VACANT)
        )
    )
