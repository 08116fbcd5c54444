"""A branch's declared meetings (the meeting calendar) and the regular patterns that give them."""

from __future__ import annotations

from datetime import date, datetime
from datetime import time as TimeOfDay

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coso.extensions import db
from coso.models.types import UTCDateTime, utcnow
from coso.models.units import Unit


class MeetingPattern(db.Model):
    """ "The ``nth`` ``weekday`` of each month at ``time``": generates one meeting a month."""

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), index=True)
    nth: Mapped[int] = mapped_column(sa.SmallInteger)
    weekday: Mapped[int] = mapped_column(sa.SmallInteger)
    time: Mapped[TimeOfDay] = mapped_column(sa.Time)
    place: Mapped[str | None] = mapped_column(sa.String(200))
    link: Mapped[str | None] = mapped_column(sa.String(500))
    kind: Mapped[str] = mapped_column(sa.String(12))
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    branch: Mapped[Unit] = relationship()


class Meeting(db.Model):
    """One declared meeting of a branch: by hand, or its pattern's meeting of one month (slot).

    ``moved_from`` keeps the day first declared once a meeting is moved; a cancelled one keeps
    its row (``cancelled_at`` and the reason), so a pattern never fills its slot again.
    """

    __table_args__ = (
        sa.UniqueConstraint("pattern_id", "slot", name="uq_meeting_pattern_slot"),
        sa.Index("ix_meeting_day", "day"),
        sa.Index("ix_meeting_branch_day", "branch_id", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"))
    pattern_id: Mapped[int | None] = mapped_column(sa.ForeignKey("meeting_pattern.id"))
    slot: Mapped[str | None] = mapped_column(sa.String(7))
    day: Mapped[date]
    time: Mapped[TimeOfDay] = mapped_column(sa.Time)
    place: Mapped[str | None] = mapped_column(sa.String(200))
    link: Mapped[str | None] = mapped_column(sa.String(500))
    kind: Mapped[str] = mapped_column(sa.String(12))
    moved_from: Mapped[date | None]
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(500))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    branch: Mapped[Unit] = relationship()
    pattern: Mapped[MeetingPattern | None] = relationship()

    @property
    def cancelled(self) -> bool:
        return self.cancelled_at is not None
