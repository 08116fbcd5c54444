"""Reading tokens: a user's list, one of theirs, and the row behind a presented token."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from coso.extensions import db
from coso.models import AccessToken, User
from coso.tokens import rules


def tokens_of(user: User) -> list[AccessToken]:
    """The user's tokens, newest first (revoked and expired ones too, marked as such)."""
    return list(
        db.session.scalars(
            sa.select(AccessToken)
            .where(AccessToken.user_id == user.id)
            .order_by(AccessToken.created_at.desc(), AccessToken.id.desc())
        )
    )


def token_of(user: User, token_id: int) -> AccessToken | None:
    """One of the user's own tokens; another user's is None (never theirs to see)."""
    token = db.session.get(AccessToken, token_id)
    return token if token is not None and token.user_id == user.id else None


def live_count(user: User, now: datetime) -> int:
    return int(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AccessToken)
            .where(
                AccessToken.user_id == user.id,
                AccessToken.revoked_at.is_(None),
                AccessToken.expires_at > now,
            )
        )
        or 0
    )


def presented(token: str) -> AccessToken | None:
    """The row of a presented token, whatever its state; None when it is no token of ours."""
    if not rules.well_formed(token):
        return None
    return db.session.scalar(
        sa.select(AccessToken).where(AccessToken.token_hash == rules.digest(token))
    )
