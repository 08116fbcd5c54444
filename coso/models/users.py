"""People who sign in, their roles and the unit that bounds what they see."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from coso.extensions import db
from coso.models.types import UTCDateTime, utcnow
from coso.models.units import Unit
from coso.users.rules import (  # noqa: F401 (the roles are re-exported)
    ADMIN,
    CADRE,
    PROVINCE,
    ROLES,
    SECRETARY,
    user_search_key,
)


class User(UserMixin, db.Model):
    """A signed-in person. ``roles`` is a space-separated subset of ``ROLES``."""

    __table_args__ = (
        # Everyone but the branches' own secretaries (250,000 in the country, who never go
        # out): the national ledger reads who goes out from it (coso.national.queries).
        sa.Index(
            "ix_user_unit_not_only_secretary",
            "unit_id",
            sqlite_where=sa.text("roles <> 'secretary'"),
            postgresql_where=sa.text("roles <> 'secretary'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(60), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    display_name: Mapped[str] = mapped_column(sa.String(120))
    roles: Mapped[str] = mapped_column(sa.String(60), default="")
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(sa.String(5))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Username and display name as searches compare them (coso.users.rules.user_search_key),
    #: the same on SQLite and PostgreSQL. Kept on every insert and update.
    search: Mapped[str] = mapped_column(sa.Text, default="", server_default="")

    unit: Mapped[Unit] = relationship(lazy="joined")

    #: The key of the sign-in (coso.sessions) this object was loaded for; not a column.
    session_key = None

    def get_id(self) -> str | None:
        """What Flask-Login keeps in the session and the remember-me cookie: the sign-in's
        random key, never the user id (which would be the same on every login, for ever)."""
        return self.session_key

    def set_password(self, password: str) -> None:
        # The method is a setting only so tests can use a cheap hash; scrypt by default.
        method = (
            current_app.config.get("PASSWORD_HASH_METHOD", "scrypt") if current_app else "scrypt"
        )
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def role_list(self) -> list[str]:
        return [role for role in self.roles.split() if role in ROLES]

    @role_list.setter
    def role_list(self, roles: list[str]) -> None:
        unknown = set(roles) - set(ROLES)
        if unknown:
            raise ValueError(f"unknown roles: {', '.join(sorted(unknown))}")
        self.roles = " ".join(role for role in ROLES if role in roles)

    def has_role(self, *roles: str) -> bool:
        """True when the user holds any of ``roles``."""
        mine = set(self.role_list)
        return any(role in mine for role in roles)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses sessions of inactive users
        return self.active

    def __repr__(self) -> str:
        return f"<User {self.username}>"


@sa.event.listens_for(User, "before_insert")
@sa.event.listens_for(User, "before_update")
def _keep_search_key(mapper: Any, connection: Any, user: User) -> None:
    """Re-key a user's ``search`` column whenever the ORM writes the user (every write path
    — the user pages, the spreadsheet import, ``flask create-user``, the demo — does)."""
    user.search = user_search_key(user.username or "", user.display_name or "")
