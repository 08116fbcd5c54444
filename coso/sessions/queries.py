"""Reading sign-in sessions."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from coso.extensions import db
from coso.models import LoginSession, User
from coso.sessions.rules import hash_key, plausible_key


def live_session(key: str, now: datetime, idle: timedelta) -> tuple[LoginSession, User] | None:
    """The unrevoked, recently used sign-in of an active user that ``key`` opens, if any."""
    if not plausible_key(key):
        return None
    row = db.session.execute(
        sa.select(LoginSession, User)
        .join(User, User.id == LoginSession.user_id)
        .where(
            LoginSession.key_hash == hash_key(key),
            LoginSession.revoked_at.is_(None),
            LoginSession.last_seen_at >= now - idle,
            User.active.is_(True),
        )
    ).first()
    return (row[0], row[1]) if row is not None else None


def sessions_of(user: User, now: datetime, idle: timedelta) -> list[LoginSession]:
    """The user's live sign-ins, most recently used first."""
    return list(
        db.session.scalars(
            sa.select(LoginSession)
            .where(
                LoginSession.user_id == user.id,
                LoginSession.revoked_at.is_(None),
                LoginSession.last_seen_at >= now - idle,
            )
            .order_by(LoginSession.last_seen_at.desc(), LoginSession.id.desc())
        )
    )


def session_of(user: User, session_id: int) -> LoginSession | None:
    """One of the user's own sign-ins by id (never another user's)."""
    return db.session.scalar(
        sa.select(LoginSession).where(
            LoginSession.id == session_id, LoginSession.user_id == user.id
        )
    )
