"""Monthly guidance for branch meetings, issued by a unit, with its topics."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coso.extensions import db
from coso.models.types import UTCDateTime, utcnow
from coso.models.units import Unit


class Guidance(db.Model):
    """What a unit asks its branches to cover in one month (``period`` is YYYY-MM)."""

    __table_args__ = (sa.UniqueConstraint("unit_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), index=True)
    period: Mapped[str] = mapped_column(sa.String(7), index=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    material: Mapped[str | None] = mapped_column(sa.Text)
    link: Mapped[str | None] = mapped_column(sa.String(500))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped[Unit] = relationship()
    topics: Mapped[list[GuidanceTopic]] = relationship(
        back_populates="guidance",
        order_by="GuidanceTopic.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )


class GuidanceTopic(db.Model):
    """One topic of a month's guidance; cadres tick the ones a meeting covered."""

    __table_args__ = (sa.UniqueConstraint("guidance_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    guidance_id: Mapped[int] = mapped_column(sa.ForeignKey("guidance.id"), index=True)
    position: Mapped[int]
    code: Mapped[str] = mapped_column(sa.String(10))
    title: Mapped[str] = mapped_column(sa.String(300))

    guidance: Mapped[Guidance] = relationship(back_populates="topics")
