"""Good practices (mô hình, cách làm hay) recorded by the province and spread to its subtree."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coso.extensions import db
from coso.models.types import UTCDateTime, utcnow
from coso.models.units import Unit


class Practice(db.Model):
    """A good practice seen at a unit: from an evaluation, a visit, or recorded on its own.

    Spread (``spread_at`` set) it reaches every user whose home unit lies in the subtree of
    ``spread_unit`` — the province that marked it; until then only its editors see it.
    """

    __table_args__ = (sa.Index("ix_practice_spread", "spread_unit_id", "spread_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), index=True)
    source: Mapped[str] = mapped_column(sa.String(12))
    evaluation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("evaluation.id"), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    spread_unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unit.id"))
    spread_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    spread_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))

    unit: Mapped[Unit] = relationship(foreign_keys=[unit_id])
    spread_unit: Mapped[Unit | None] = relationship(foreign_keys=[spread_unit_id])


class PracticeRead(db.Model):
    """A user opened a spread practice: it is no longer new for them."""

    __table_args__ = (sa.UniqueConstraint("practice_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(sa.ForeignKey("practice.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), index=True)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
