"""A cadre's days at the grassroots (the "1+2" policy counts them)."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coso.extensions import db
from coso.models.types import UTCDateTime, utcnow
from coso.models.units import Unit
from coso.models.users import User

#: Forms a visit day can take (domain.md, "Going to the grassroots").
VISIT_FORMS = ("meeting", "inspection", "coorganise", "field_study", "research")


class Visit(db.Model):
    """One stay at the grassroots; a branch-meeting evaluation makes one of a day."""

    __table_args__ = (
        sa.Index("ix_visit_user_start", "user_id", "start_date"),
        # The few visits of several days (the national ledger reads them one by one).
        sa.Index(
            "ix_visit_several_days",
            "user_id",
            "start_date",
            "end_date",
            sqlite_where=sa.text("start_date <> end_date"),
            postgresql_where=sa.text("start_date <> end_date"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), index=True)
    form: Mapped[str] = mapped_column(sa.String(12))
    start_date: Mapped[date]
    end_date: Mapped[date]
    days: Mapped[int] = mapped_column(default=1)
    report: Mapped[str | None] = mapped_column(sa.Text)
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    evaluation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("evaluation.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Sent through the sync API (issue 18, item 5): the phone's UUID of the visit and the
    #: digest of its content (a replay with other content is a conflict), the UUID of its
    #: report draft, the version last stored (a later version replaces the text) and the
    #: digest of that version. All null for visits logged on the web form.
    uuid: Mapped[str | None] = mapped_column(sa.String(36), unique=True)
    content_hash: Mapped[str | None] = mapped_column(sa.String(64))
    report_uuid: Mapped[str | None] = mapped_column(sa.String(36))
    report_version: Mapped[int | None]
    report_hash: Mapped[str | None] = mapped_column(sa.String(64))

    user: Mapped[User] = relationship()
    unit: Mapped[Unit] = relationship()
