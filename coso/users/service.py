"""Writes of accounts, each recorded in the audit log; the caller commits."""

from __future__ import annotations

from typing import Any

from coso import audit
from coso.audit import changes
from coso.extensions import db
from coso.models import Unit, User
from coso.sessions.service import end_all_for_change
from coso.users.rules import snapshot


def create_user(data: dict[str, Any], unit: Unit, password: str) -> User:
    """Create a user with a username, display name and roles at ``unit``, and record it."""
    user = User(username=data["username"], display_name=data["display_name"], unit=unit)
    user.role_list = data["roles"]
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", obj=user, unit_id=unit.id, after=snapshot(user))
    return user


def update_user(user: User, data: dict[str, Any], unit: Unit) -> None:
    """Change a user's display name, roles and home unit; record what changed."""
    before = snapshot(user)
    user.display_name = data["display_name"]
    user.role_list = data["roles"]
    user.unit = unit
    audit.record("user.update", obj=user, unit_id=unit.id, **changes(before, snapshot(user)))


def reset_password(user: User, password: str) -> None:
    """Give a user a new password (the log says that it changed, never what to).

    Every sign-in the user had ends with the old password (a stolen phone's cookie with it),
    except the one making the change when it is the user's own.
    """
    user.set_password(password)
    end_all_for_change(user, reason="password")
    audit.record("user.password", obj=user, unit_id=user.unit_id, username=user.username)


def set_active(user: User, active: bool) -> None:
    """Let a user sign in again, or stop them (their sessions end at once)."""
    audit.record(
        "user.activate" if active else "user.deactivate",
        obj=user,
        unit_id=user.unit_id,
        before={"active": user.active},
        after={"active": active},
    )
    user.active = active
    if not active:
        # Their cookies die now and stay dead: reactivation opens no old sign-in again.
        end_all_for_change(user, reason="deactivate")
