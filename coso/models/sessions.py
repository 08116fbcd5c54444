"""Sign-ins that the server can end: one row per login (issue 17).

The browser holds only a random key (in the signed Flask session and in the
remember-me cookie); the table holds its SHA-256, so a copy of the database
signs nobody in. A row is live while ``revoked_at`` is empty and it was seen
recently; logout, a password change or reset, and deactivation set ``revoked_at``
and nothing brings a revoked row back.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from coso.extensions import db
from coso.models.types import UTCDateTime, utcnow


class LoginSession(db.Model):
    """One sign-in of a user on one browser or phone."""

    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    #: SHA-256 (hex) of the random key the browser holds; the key itself is never stored.
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The browser's User-Agent, cut short: enough to tell "Chrome on Android" from a laptop.
    user_agent: Mapped[str] = mapped_column(sa.String(200), default="")
    #: The address the sign-in came from (behind proxies: as ProxyFix saw it).
    address: Mapped[str] = mapped_column(sa.String(45), default="")
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<LoginSession {self.id} user={self.user_id}>"
