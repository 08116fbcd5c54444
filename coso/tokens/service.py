"""Making, revoking and using tokens; every change audited in the same transaction."""

from __future__ import annotations

from datetime import datetime

from coso import audit
from coso.extensions import db
from coso.models import AccessToken, User
from coso.tokens import rules


def create(user: User, name: str, days: int, now: datetime) -> tuple[AccessToken, str]:
    """A new token for ``user``: the row, and the token itself (shown once, never stored)."""
    secret = rules.new_token()
    token = AccessToken(
        user_id=user.id,
        name=name,
        token_hash=rules.digest(secret),
        hint=rules.hint(secret),
        created_at=now,
        expires_at=rules.expiry(now, days),
    )
    db.session.add(token)
    db.session.flush()
    audit.record("token.create", obj=token, unit_id=user.unit_id, user=user, name=name, days=days)
    return token, secret


def revoke(token: AccessToken, by: User, now: datetime) -> bool:
    """Revoke ``token``; False when it was revoked already (nothing changes, nothing audited)."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = now
    audit.record("token.revoke", obj=token, unit_id=by.unit_id, user=by, name=token.name)
    return True


def note_use(token: AccessToken, address: str | None, now: datetime) -> None:
    """Keep when and from where the token was last used (at most once a minute)."""
    if rules.touch_due(token.last_used_at, now):
        token.last_used_at = now
        token.last_used_from = (address or "")[:64] or None
