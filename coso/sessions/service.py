"""Starting, using and ending sign-in sessions; the caller commits (except the touch hook)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import Response, current_app, g, request
from sqlalchemy.exc import SQLAlchemyError

from coso import audit
from coso.extensions import db
from coso.models import LoginSession, User
from coso.models.types import utcnow
from coso.sessions import queries
from coso.sessions.rules import hash_key, needs_touch, new_key, short_agent


def idle_limit() -> timedelta:
    """How long an unused sign-in stays valid (``LOGIN_SESSION_IDLE_DAYS``)."""
    return timedelta(days=float(current_app.config["LOGIN_SESSION_IDLE_DAYS"]))


def touch_every() -> timedelta:
    """How often ``last_seen_at`` is written again (``LOGIN_SESSION_TOUCH_SECONDS``)."""
    return timedelta(seconds=float(current_app.config["LOGIN_SESSION_TOUCH_SECONDS"]))


def start(user: User) -> str:
    """Open a sign-in for ``user`` from this request; return its key (for the cookies only).

    Also forgets the user's sign-ins that ended or went unused long ago, so the table
    holds about one row per device in use.
    """
    now = utcnow()
    db.session.execute(
        sa.delete(LoginSession).where(
            LoginSession.user_id == user.id,
            sa.or_(
                LoginSession.last_seen_at < now - idle_limit(),
                LoginSession.revoked_at < now - idle_limit(),
            ),
        )
    )
    key = new_key()
    db.session.add(
        LoginSession(
            user_id=user.id,
            key_hash=hash_key(key),
            created_at=now,
            last_seen_at=now,
            user_agent=short_agent(request.headers.get("User-Agent")),
            address=(request.remote_addr or "")[:45],
        )
    )
    db.session.flush()
    user.session_key = key
    return key


def user_for_key(key: str) -> User | None:
    """The user signed in by ``key`` (Flask-Login's user loader), or ``None``.

    Notes the sign-in for the request (``g.login_session``) and, now and then, for
    ``touch_after_request`` to record that it was used.
    """
    now = utcnow()
    found = queries.live_session(key, now, idle_limit())
    if found is None:
        return None
    row, user = found
    user.session_key = key
    g.login_session_id = row.id
    g.login_user_id = user.id
    if needs_touch(row.last_seen_at, now, touch_every()):
        g.login_session_touch = row.id
    return user


def current_session_id() -> int | None:
    """The id of the sign-in this request came with, if any."""
    return g.get("login_session_id")


def end(row: LoginSession) -> None:
    """End one sign-in (its cookies stop working at once)."""
    if row.revoked_at is None:
        row.revoked_at = utcnow()


def end_all(user: User, keep: int | None = None, reason: str = "") -> int:
    """End every live sign-in of ``user`` except ``keep``; return how many ended."""
    query = sa.update(LoginSession).where(
        LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None)
    )
    if keep is not None:
        query = query.where(LoginSession.id != keep)
    result = db.session.execute(
        query.values(revoked_at=utcnow()), execution_options={"synchronize_session": False}
    )
    count = int(getattr(result, "rowcount", 0) or 0)
    if count:
        audit.record("login.end_all", obj=user, unit_id=user.unit_id, ended=count, reason=reason)
    return count


def end_all_for_change(user: User, reason: str) -> int:
    """A password or access change ends the user's sign-ins; their own current one stays.

    The current one stays only when the user changed their own account from it: an
    administrator resetting someone's password ends all of that person's sign-ins.
    """
    keep = None
    if getattr(g, "login_session_id", None) is not None and g.get("login_user_id") == user.id:
        keep = g.login_session_id
    return end_all(user, keep=keep, reason=reason)


def touch_after_request(response: Response) -> Response:
    """Record that the sign-in was used, at most every ``LOGIN_SESSION_TOUCH_SECONDS``.

    Its own short transaction after the view, and only when the view left nothing
    unwritten; a busy database skips it (it is a hint for the sessions page, not a
    rule: a sign-in expires only after ``LOGIN_SESSION_IDLE_DAYS``).
    """
    row_id = g.pop("login_session_touch", None)
    if row_id is None or response.status_code >= 500:
        return response
    session = db.session()
    if session.new or session.dirty or session.deleted:
        return response
    try:
        session.rollback()  # end the view's read transaction: the update starts a fresh one
        session.execute(
            sa.update(LoginSession).where(LoginSession.id == row_id).values(last_seen_at=utcnow()),
            execution_options={"synchronize_session": False},
        )
        session.commit()
    except SQLAlchemyError:
        session.rollback()
    return response
