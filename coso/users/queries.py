"""Reads of accounts: the list a manager sees, whether a name is free, who may change whom."""

from __future__ import annotations

import sqlalchemy as sa

from coso import scope
from coso.extensions import db
from coso.models import Unit, User
from coso.users.rules import ACTION, ROLES, rank_allows
from coso.web import Page, paginate


def may_manage(manager: User, target: User) -> bool:
    """Whether ``manager`` may change ``target``: inside their subtree, admins only by admins."""
    if not scope.may(manager, ACTION, target.unit):
        return False
    return rank_allows(manager, target)


def username_taken(username: str) -> bool:
    """Whether an account already has this username."""
    return db.session.scalar(sa.select(User.id).where(User.username == username)) is not None


def users_page(manager: User, q: str, role: str, state: str, page: int, size: int) -> Page[User]:
    """One page of the users of ``manager``'s area, by username, counted.

    :param q: part of a username, display name or home unit code ("" for all).
    :param role: one of ``ROLES`` to keep only its holders (anything else: all).
    :param state: ``active`` or ``inactive`` (anything else: both).
    """
    query = sa.select(User).join(Unit, Unit.id == User.unit_id).where(scope.scope_clause(manager))
    if q:
        pattern = f"%{q.lower()}%"
        query = query.where(
            sa.or_(
                sa.func.lower(User.username).like(pattern),
                sa.func.lower(User.display_name).like(pattern),
                sa.func.lower(Unit.code).like(pattern),
            )
        )
    if role in ROLES:
        query = query.where(User.roles.contains(role))
    if state in ("active", "inactive"):
        query = query.where(User.active.is_(state == "active"))
    return paginate(query.order_by(User.username), page, size, scalars=True)
