"""Reads of accounts: the list a manager sees, whether a name is free, who may change whom."""

from __future__ import annotations

import sqlalchemy as sa

from coso import scope
from coso.extensions import db
from coso.models import Unit, User
from coso.search_keys import SEARCH_SEPARATOR, search_key
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

    :param q: part of a username, display name or home unit code ("" for all), with or
        without accents and in any case (the search key of coso.units.rules).
    :param role: one of ``ROLES`` to keep only its holders (anything else: all).
    :param state: ``active`` or ``inactive`` (anything else: both).
    """
    query = sa.select(User).join(Unit, Unit.id == User.unit_id).where(scope.scope_clause(manager))
    key = search_key(q)
    if key:
        query = query.where(
            sa.or_(
                User.search.contains(key, autoescape=True),
                # A unit's key is "name<separator>code": a match after the separator is in the code.
                Unit.search.like(f"%{SEARCH_SEPARATOR}%{_escape_like(key)}%", escape="\\"),
            )
        )
    if role in ROLES:
        query = query.where(User.roles.contains(role))
    if state in ("active", "inactive"):
        query = query.where(User.active.is_(state == "active"))
    return paginate(query.order_by(User.username), page, size, scalars=True)


def _escape_like(text: str) -> str:
    """``text`` as a literal inside a LIKE pattern whose escape character is a backslash."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
