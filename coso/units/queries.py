"""Reads of the unit tree: a unit's page, search, and the checks that need the database."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from coso import scope
from coso.extensions import db
from coso.models import Evaluation, Unit, User
from coso.models.units import SECRETARY_ROLE, SecretaryTerm
from coso.search_keys import search_key

#: At most this many units are listed under a unit on its page.
MAX_CHILDREN = 500


def unit_by_code(code: str, user: Any, action: str) -> tuple[Unit | None, str | None]:
    """A unit chosen by its code in a form, with the message to show when it cannot be used."""
    code = (code or "").strip()
    if not code:
        return None, _("Enter a unit code.")
    unit = db.session.scalar(sa.select(Unit).where(Unit.code == code))
    if unit is None:
        return None, _("No unit has the code %(code)s.", code=code)
    if not scope.may(user, action, unit):
        return None, _("The unit %(code)s is outside your area.", code=code)
    return unit, None


def code_taken(code: str, unit: Unit | None = None) -> bool:
    """True when another unit already has ``code``."""
    query = sa.select(Unit.id).where(Unit.code == code)
    if unit is not None:
        query = query.where(Unit.id != unit.id)
    return db.session.scalar(query) is not None


def kind_problem(unit: Unit, kind: str) -> str | None:
    """Why ``unit`` cannot take ``kind``: branches are leaves, and an evaluated branch stays one."""
    if kind == unit.kind:
        return None
    if kind == "branch" and db.session.scalar(sa.select(Unit.id).where(Unit.parent_id == unit.id)):
        return _("Units are under this one, so it cannot become a branch.")
    if unit.is_branch and db.session.scalar(
        sa.select(Evaluation.id).where(Evaluation.branch_id == unit.id).limit(1)
    ):
        return _("This branch has evaluations, so its kind cannot change.")
    return None


def deactivate_problem(unit: Unit, user: User) -> str | None:
    """Why ``unit`` cannot be deactivated now, in words; None when it can."""
    if unit.id == user.unit_id:
        return _("You cannot deactivate the unit your own account belongs to.")
    children = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Unit)
        .where(Unit.parent_id == unit.id, Unit.active.is_(True))
    )
    if children:
        return _("%(n)s active units are under it: move or deactivate them first.", n=children)
    users = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(User)
        .where(User.unit_id == unit.id, User.active.is_(True))
    )
    if users:
        return _("%(n)s active users belong to it: move or deactivate them first.", n=users)
    return None


def surroundings(unit: Unit, user: User) -> dict[str, Any]:
    """What a unit's page shows around it: the ancestors ``user`` sees, its units, its users."""
    ancestors = (
        db.session.scalars(
            sa.select(Unit)
            .where(Unit.id.in_(unit.ancestor_ids[:-1]), scope.scope_clause(user))
            .order_by(Unit.depth)
        ).all()
        if unit.parent_id
        else []
    )
    children = db.session.scalars(
        sa.select(Unit)
        .where(Unit.parent_id == unit.id)
        .order_by(Unit.active.desc(), Unit.name)
        .limit(MAX_CHILDREN + 1)
    ).all()
    users = db.session.scalar(
        sa.select(sa.func.count()).select_from(User).where(User.unit_id == unit.id)
    )
    return {
        "ancestors": ancestors,
        "children": children[:MAX_CHILDREN],
        "more_children": len(children) > MAX_CHILDREN,
        "user_count": users,
    }


def matching(q: str) -> sa.ColumnElement[bool]:
    """Units whose name or code contains ``q``, case, accents and đ/d aside.

    It compares the stored :attr:`Unit.search` key with ``q``'s key by LIKE (``%`` and ``_``
    in ``q`` are literal), so SQLite and PostgreSQL give the same answer; the separator
    between the name's and the code's keys never occurs in a query's key, so no match
    spans the two.
    """
    return Unit.search.contains(search_key(q), autoescape=True)


def search(user: User, q: str) -> list[Unit]:
    """Units of ``user``'s area whose code or name contains ``q`` (shallowest first)."""
    return list(
        db.session.scalars(
            sa.select(Unit)
            .where(scope.scope_clause(user), matching(q))
            .order_by(Unit.depth, Unit.name)
            .limit(30)
        )
    )


def units_in(root: Unit | None) -> dict[str, Unit]:
    """Every unit of ``root``'s subtree (of the whole tree when None), by code."""
    query = sa.select(Unit)
    if root is not None:
        query = query.where(root.subtree_clause())
    return {unit.code: unit for unit in db.session.scalars(query)}


def codes_outside(codes: set[str], inside: dict[str, Unit]) -> set[str]:
    """Which of ``codes`` belong to units outside ``inside`` (checked in chunks)."""
    wanted = sorted(code for code in codes if code and code not in inside)
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found.update(db.session.scalars(sa.select(Unit.code).where(Unit.code.in_(chunk))))
    return found


def evaluated(branch_ids: list[int]) -> set[int]:
    """Which of these branches have at least one evaluation."""
    return set(
        db.session.scalars(
            sa.select(Evaluation.branch_id).where(Evaluation.branch_id.in_(branch_ids)).distinct()
        )
    )


def current_term(unit: Unit) -> SecretaryTerm | None:
    """The branch's open secretary term, if any (a deputy's term is not one)."""
    return db.session.scalar(
        sa.select(SecretaryTerm).where(
            SecretaryTerm.branch_id == unit.id,
            SecretaryTerm.role == SECRETARY_ROLE,
            SecretaryTerm.ended_on.is_(None),
        )
    )
