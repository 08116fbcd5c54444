"""The one place that decides what a user may see and do.

Every view and API call asks here; nothing else compares unit paths.
"""

from __future__ import annotations

from typing import Any, NoReturn

import sqlalchemy as sa
from flask import abort
from flask_babel import gettext as _

from coso.extensions import db
from coso.models import Unit, User
from coso.models.units import subtree_of
from coso.secretaries import rules as secretary_rules
from coso.users.rules import ADMIN, CADRE, CENTRAL, PROVINCE, SECRETARY
from coso.visits import rules as visit_rules

#: What each role may do inside its home unit's subtree.
PERMISSIONS: dict[str, frozenset[str]] = {
    ADMIN: frozenset(
        {
            "view",
            "administer",
            "manage_users",
            "publish",
            "evaluate_view",
            "declare_meetings",
            "plan",
            "record_secretary",
        }
    ),
    PROVINCE: frozenset(
        {
            "view",
            "publish",
            "manage_users",
            "evaluate_view",
            "declare_meetings",
            "plan",
            "record_secretary",
        }
    ),
    # The Central Committee reads every province under it as the province reads its own, and
    # sets what the provinces inherit (the national settings, guidance and checklist) and the
    # accounts below it; it neither plans visits nor declares meetings or secretaries, which
    # are the province's and the commune's own work (issue 22, item 1).
    CENTRAL: frozenset({"view", "publish", "manage_users", "evaluate_view"}),
    CADRE: frozenset({"view", "evaluate"}),
    # A secretary records the secretary and deputy of the branches in their area: a
    # commune's every branch of the commune, a branch's its own (issue 19, item 5).
    SECRETARY: frozenset({"view", "respond", "declare_meetings", "record_secretary"}),
}


def can(user: User, action: str) -> bool:
    """True when any of the user's roles grants ``action``."""
    return any(action in PERMISSIONS.get(role, ()) for role in user.role_list)


def goes_out(user: User) -> bool:
    """Does ``user`` go to the grassroots (log visit days, count in the 1+2 ledger)?

    :func:`coso.visits.rules.goes_out` on the user's roles and home unit: a cadre, a
    province user, a commune secretary — not an administrator alone, nor a branch secretary.
    """
    return user.active and visit_rules.goes_out(user.role_list, user.unit.kind)


def in_scope(user: User, unit: Unit) -> bool:
    """True when ``unit`` is the user's home unit or lies under it."""
    return user.active and unit.path.startswith(user.unit.path)


def may(user: User, action: str, unit: Unit) -> bool:
    """May ``user`` do ``action`` on ``unit``? Both the role and the scope must allow it."""
    return in_scope(user, unit) and can(user, action)


def sees_party(user: User, unit: Unit) -> bool:
    """May ``user`` see the Party membership of ``unit``'s secretaries (and its branches')?

    Sensitive personal data: the province, its cadres and the unit's secretaries above it or
    at it, inside their area (:data:`coso.secretaries.rules.PARTY_READERS`); never another
    branch's secretary.
    """
    return in_scope(user, unit) and secretary_rules.sees_party(user.role_list)


def can_plan(user: User) -> bool:
    """May ``user`` plan visits: the province (and administrators) for their subtree, and a
    commune secretary for the cadres of the commune (issue 18, item 2)."""
    if can(user, "plan"):
        return True
    return user.has_role(SECRETARY) and user.unit is not None and user.unit.kind == "commune"


def sees_nation(user: User) -> bool:
    """May ``user`` open the national roll-up (``/national``)? Whoever reads the dashboards
    (``evaluate_view``) from the Central Committee's unit: the central role, or an
    administrator at the top of a national tree; never a province (issue 22, item 1)."""
    return (
        user.active
        and can(user, "evaluate_view")
        and user.unit is not None
        and user.unit.kind == "central"
    )


def can_export(user: User) -> bool:
    """May ``user`` export evaluations and answers (issue 21, item 4): the province (and
    administrators) for their subtree, and a commune secretary for the commune's."""
    if can(user, "evaluate_view"):
        return True
    return user.has_role(SECRETARY) and user.unit is not None and user.unit.kind == "commune"


def may_plan(user: User, unit: Unit) -> bool:
    """May ``user`` plan a visit of ``unit``, or send a cadre whose home unit is ``unit``?"""
    return can_plan(user) and in_scope(user, unit)


def scope_clause(user: User) -> sa.ColumnElement[bool]:
    """A WHERE clause on ``Unit`` limiting a query to the user's subtree."""
    return subtree_of(user.unit.path)


def unit_or_403(user: User, unit_id: int, action: str = "view") -> Unit:
    """Load a unit for a view, answering 404 if unknown and 403 if out of scope."""
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        abort(404)
    if not may(user, action, unit):
        abort(403, description=_("This unit is outside your area."))
    return unit


def deny(user: User, unit: Unit) -> NoReturn:
    """403 with the reason: ``unit`` is outside the user's area, or the role does not allow it."""
    if not in_scope(user, unit):
        abort(403, description=_("This unit is outside your area."))
    abort(403, description=_("Your role does not allow this."))


def unit_options(
    user: User, *, nearby: bool = False, around: Unit | None = None
) -> list[tuple[Any, int]]:
    """The units a page can be narrowed to, in tree order, each with its depth under the user's.

    By default every active unit above branch level in the user's area (the
    province's pages); ``nearby``: the user's own unit and the active units right
    under it, branches included (a secretary's lists narrow to one branch). Plain
    rows (id, name, parent, kind) below the user's own unit: a province has hundreds.

    A national tree holds tens of thousands of such units: from the Central Committee's
    unit the choices are the centre and its provinces, and under the province of ``around``
    (the unit the page shows) that province's units, as its own users see them.
    """
    home = user.unit
    query = sa.select(Unit.id, Unit.name, Unit.parent_id, Unit.kind).where(Unit.active.is_(True))
    if nearby:
        query = query.where(Unit.parent_id == home.id)
    elif home.kind == "central":
        province = _province_of(home, around)
        top = Unit.parent_id == home.id
        if province is not None:
            top = sa.or_(top, province.subtree_clause())
        query = query.where(top, Unit.kind != "branch")
    else:
        query = query.where(scope_clause(user), Unit.kind != "branch")
    by_parent: dict[int | None, list[Any]] = {}
    for unit in db.session.execute(query):
        by_parent.setdefault(unit.parent_id, []).append(unit)
    out: list[tuple[Any, int]] = []

    def walk(unit: Any, depth: int) -> None:
        out.append((unit, depth))
        for child in sorted(by_parent.get(unit.id, []), key=lambda u: (u.name, u.id)):
            walk(child, depth + 1)

    walk(home, 0)
    return out


def _province_of(home: Unit, unit: Unit | None) -> Unit | None:
    """The unit right under ``home`` that ``unit`` lies in (itself, or None when it is ``home``)."""
    if unit is None or unit.depth <= home.depth or not unit.path.startswith(home.path):
        return None
    top_id = unit.ancestor_ids[home.depth + 1]
    return unit if top_id == unit.id else db.session.get(Unit, top_id)


def require(user: User, action: str) -> None:
    """Abort with 403 unless one of the user's roles grants ``action``."""
    if not can(user, action):
        abort(403, description=_("Your role does not allow this."))


def require_goes_out(user: User) -> None:
    """Abort with 403 unless ``user`` goes to the grassroots (:func:`goes_out`)."""
    if not goes_out(user):
        abort(403, description=_("Only those who go to the grassroots log visits."))


def can_review(user: User) -> bool:
    """May ``user`` review visit reports (issue 19, item 2): the province (and
    administrators) for their area, a commune secretary for the commune's own cadres."""
    return can_plan(user)


def may_review(user: User, cadre: User) -> bool:
    """May ``user`` review the visits of ``cadre``? Never their own."""
    return can_review(user) and in_scope(user, cadre.unit) and user.id != cadre.id
