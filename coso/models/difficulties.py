"""Difficulties and proposals (khó khăn, vướng mắc, kiến nghị) raised at the grassroots and
answered by the level that can solve them (issue 19, item 1)."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coso.extensions import db
from coso.models.types import UTCDateTime, utcnow
from coso.models.units import Unit


class DifficultyCategory(db.Model):
    """One entry of a province's list of categories; a province edits its own list.

    A province with no rows uses the defaults (coso.difficulties.rules.DEFAULT_CATEGORIES).
    """

    __table_args__ = (sa.UniqueConstraint("province_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    province_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"))
    code: Mapped[str] = mapped_column(sa.String(40))
    label: Mapped[str] = mapped_column(sa.String(120))
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)


class Difficulty(db.Model):
    """A difficulty or proposal about a unit, routed to the commune or the province.

    ``uuid`` is made by the client (the phone, offline): creating the same uuid twice is
    one difficulty. The state goes open -> answered -> closed; passing up changes
    ``routed_to`` and is kept in DifficultyPass.
    """

    __table_args__ = (sa.Index("ix_difficulty_routed_state", "routed_to_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True)
    category: Mapped[str] = mapped_column(sa.String(40))
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), index=True)
    text: Mapped[str] = mapped_column(sa.Text)
    raised_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"), index=True)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    evaluation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("evaluation.id"))
    visit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("visit.id"))
    routed_to_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"))
    state: Mapped[str] = mapped_column(sa.String(12), default="open")
    answer: Mapped[str | None] = mapped_column(sa.Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    due: Mapped[date | None]
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    resolution: Mapped[str | None] = mapped_column(sa.Text)

    unit: Mapped[Unit] = relationship(foreign_keys=[unit_id])
    routed_to: Mapped[Unit] = relationship(foreign_keys=[routed_to_id])
    passes: Mapped[list[DifficultyPass]] = relationship(
        back_populates="difficulty", order_by="DifficultyPass.id"
    )


class DifficultyPass(db.Model):
    """A difficulty passed up from one level to another, by whom, when and why."""

    id: Mapped[int] = mapped_column(primary_key=True)
    difficulty_id: Mapped[int] = mapped_column(sa.ForeignKey("difficulty.id"), index=True)
    from_unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"))
    to_unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"))
    passed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    passed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str | None] = mapped_column(sa.Text)

    difficulty: Mapped[Difficulty] = relationship(back_populates="passes")
