"""Personal access tokens for the read API (issue 21, item 5).

A user creates a token on /account/tokens for another system that reads coso (a province's
spreadsheet, a national dashboard). The token is shown once; the table holds only its
SHA-256, so a copy of the database reads nothing. A token acts with its user's rights, never
more, until it expires or is revoked; its last use (when, from where) is kept on the row.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coso.extensions import db
from coso.models.types import UTCDateTime, utcnow
from coso.models.users import User


class AccessToken(db.Model):
    """One personal access token of one user."""

    __tablename__ = "access_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    #: What the user called it ("Báo cáo tỉnh"), to tell their tokens apart.
    name: Mapped[str] = mapped_column(sa.String(80))
    #: SHA-256 (hex) of the token; the token itself is never stored.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: The token's first characters, shown on the list so its owner can recognise it.
    hint: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_from: Mapped[str | None] = mapped_column(sa.String(64))

    user: Mapped[User] = relationship()
