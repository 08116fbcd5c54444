"""Users from a spreadsheet (CSV or XLSX): check every row, then apply all or nothing.

Columns: username, display_name, roles, unit_code, and optionally password and
active. A new user without a password gets a generated one, shown once to the
person importing. The same rules as the user pages apply: only inside the
importer's subtree, and only an administrator grants or touches ``admin``.
"""

from __future__ import annotations

import re
from typing import IO, Any

import sqlalchemy as sa
from flask_babel import gettext as _

from coso import audit, scope
from coso.audit import changes
from coso.extensions import db
from coso.models import Unit, User
from coso.sessions.service import end_all_for_change
from coso.spreadsheets import read_records
from coso.units.rules import (
    CREATE,
    ERROR,
    FALSE_WORDS,
    TRUE_WORDS,
    UNCHANGED,
    UPDATE,
    ImportReport,
    RowResult,
)
from coso.users.queries import may_manage
from coso.users.rules import (
    ACTION,
    ADMIN_ONLY,
    ROLES,
    USERNAME_RE,
    generate_password,
    grant_fault,
    parse_roles,
    snapshot,
)
from coso.users.words import password_problems

REQUIRED = ("username", "display_name", "roles", "unit_code")
OPTIONAL = ("password", "active")
COLUMNS = REQUIRED + OPTIONAL
MAX_ROWS = 2_000


def read_rows(filename: str, stream: IO[bytes]) -> list[dict[str, str]]:
    """The rows of an uploaded list of users.

    :raise coso.spreadsheets.SheetError: unknown format, unreadable file, missing columns
        or a limit passed (rows, columns, cell, size).
    """
    return read_records(filename, stream, REQUIRED, MAX_ROWS)


def check(rows: list[dict[str, str]], manager: User) -> ImportReport:
    """Validate every row; change nothing. Row numbers count the header as row 1."""
    names = {row.get("username", "").strip().lower() for row in rows if row}
    codes = {row.get("unit_code", "").strip() for row in rows if row}
    users = {
        user.username: user
        for user in db.session.scalars(sa.select(User).where(User.username.in_(names)))
    }
    units = {
        unit.code: unit for unit in db.session.scalars(sa.select(Unit).where(Unit.code.in_(codes)))
    }
    seen: dict[str, int] = {}
    results = []
    for index, row in enumerate(rows, start=2):
        if not row:
            continue
        username = row.get("username", "").strip().lower()
        result = RowResult(number=index, code=username)
        errors = result.errors
        user = users.get(username)
        if not username:
            errors.append(_("username is empty"))
        elif not re.match(USERNAME_RE, username):
            errors.append(
                _("username must be 3 to 60 lower-case letters, digits, dot, dash or underscore")
            )
        elif username in seen:
            errors.append(
                _("username %(name)s repeats row %(row)s", name=username, row=seen[username])
            )
        elif user is not None and not may_manage(manager, user):
            errors.append(_("user %(name)s is outside what you may manage", name=username))
        values = _values(row, user, units, manager, errors)
        result.values = values
        if errors:
            result.action = ERROR
        elif user is None:
            result.action = CREATE
        else:
            result.action = UPDATE if _differs(user, values) else UNCHANGED
        if username and username not in seen:
            seen[username] = index
        results.append(result)
    return ImportReport(rows=results)


def _values(
    row: dict[str, str],
    user: User | None,
    units: dict[str, Unit],
    manager: User,
    errors: list[str],
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    display = " ".join(row.get("display_name", "").split())
    if len(display) > 120:
        errors.append(_("display_name is longer than 120 characters"))
    elif display:
        values["display_name"] = display
    elif user is None:
        errors.append(_("display_name is empty"))
    roles_text = row.get("roles", "")
    if roles_text.strip():
        roles = parse_roles(roles_text)
        unknown = sorted(set(roles) - set(ROLES))
        if unknown:
            errors.append(
                _(
                    "unknown roles: %(roles)s (use %(known)s)",
                    roles=", ".join(unknown),
                    known=", ".join(ROLES),
                )
            )
        elif (fault := grant_fault(manager, roles)) == ADMIN_ONLY:
            errors.append(_("only an administrator can give the admin role"))
        elif fault is not None:
            errors.append(
                _("only an administrator or the Central Committee can give the central role")
            )
        else:
            values["roles"] = [role for role in ROLES if role in roles]
    elif user is None:
        errors.append(_("roles is empty"))
    code = row.get("unit_code", "").strip()
    if code:
        unit = units.get(code)
        if unit is None:
            errors.append(_("no unit has the code %(code)s", code=code))
        elif not scope.may(manager, ACTION, unit):
            errors.append(_("unit %(code)s is outside your area", code=code))
        else:
            values["unit_code"] = code
            values["unit_id"] = unit.id
    elif user is None:
        errors.append(_("unit_code is empty"))
    password = row.get("password", "")
    if password:
        problems = password_problems(password, row.get("username", "").strip().lower())
        errors.extend(problems)
        values["password"] = password
    active = row.get("active", "").strip().lower()
    if active:
        if active in TRUE_WORDS:
            values["active"] = True
        elif active in FALSE_WORDS:
            values["active"] = False
        else:
            errors.append(_("active must be yes or no"))
    if user is not None and user.id == manager.id:
        own = (
            values.get("roles", user.role_list) != user.role_list
            or values.get("unit_id", user.unit_id) != user.unit_id
            or values.get("active", True) is False
        )
        if own:
            errors.append(_("you cannot change your own roles, unit or access"))
    return values


def _differs(user: User, values: dict[str, Any]) -> bool:
    return (
        "password" in values
        or values.get("display_name", user.display_name) != user.display_name
        or values.get("roles", user.role_list) != user.role_list
        or values.get("unit_id", user.unit_id) != user.unit_id
        or values.get("active", user.active) != user.active
    )


def apply(report: ImportReport, manager: User) -> tuple[int, int, list[tuple[str, str]]]:
    """Write a clean report in the current transaction.

    :return: (created, updated, generated) where ``generated`` lists the
        (username, password) pairs made up for new users without one.
    """
    if not report.ok:
        raise ValueError("refusing to apply a report with errors")
    created = updated = 0
    generated: list[tuple[str, str]] = []
    for row in report.rows:
        if row.action == UNCHANGED:
            continue
        values = row.values
        user = db.session.scalar(sa.select(User).where(User.username == row.code))
        if user is None:
            user = User(
                username=row.code,
                display_name=values["display_name"],
                unit_id=values["unit_id"],
                active=values.get("active", True),
            )
            user.role_list = values["roles"]
            password = values.get("password") or generate_password()
            if not values.get("password"):
                generated.append((row.code, password))
            user.set_password(password)
            db.session.add(user)
            db.session.flush()
            db.session.refresh(user)
            audit.record(
                "user.create", obj=user, unit_id=user.unit_id, via="import", after=snapshot(user)
            )
            created += 1
            continue
        before = snapshot(user)
        if "display_name" in values:
            user.display_name = values["display_name"]
        if "roles" in values:
            user.role_list = values["roles"]
        if "unit_id" in values:
            user.unit_id = values["unit_id"]
        if "active" in values:
            user.active = values["active"]
        if values.get("password"):
            user.set_password(values["password"])
        if values.get("password") or values.get("active") is False:
            # A new password or a stop ends every sign-in (and remember-me cookie) they had.
            end_all_for_change(user, reason="import")
        db.session.flush()
        db.session.refresh(user)
        details: dict[str, Any] = changes(before, snapshot(user))
        if values.get("password"):
            details["password"] = "set"
        audit.record("user.update", obj=user, unit_id=user.unit_id, via="import", **details)
        updated += 1
    db.session.flush()
    return created, updated, generated
