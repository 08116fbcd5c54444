"""The branch's answer to an evaluation: acknowledgement, reply, corrective actions."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coso.extensions import db
from coso.feedback.rules import OPEN, is_overdue
from coso.models.evaluations import Evaluation
from coso.models.types import UTCDateTime, utcnow
from coso.models.users import User


class Feedback(db.Model):
    """A secretary's acknowledgement of, and reply to, one evaluation."""

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(sa.ForeignKey("evaluation.id"), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    acknowledged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reply: Mapped[str | None] = mapped_column(sa.Text)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reply_read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    evaluation: Mapped[Evaluation] = relationship()
    user: Mapped[User] = relationship()


class CorrectiveAction(db.Model):
    """Something a branch will fix, with an owner and a due date.

    Overdue is not stored: an open action whose due date has passed is overdue.
    """

    __table_args__ = (
        sa.Index("ix_corrective_action_status_due", "status", "due_date"),
        # A chunk of branches' open (or proposed) actions: the field pack, briefs, alerts.
        sa.Index("ix_corrective_action_branch_status", "branch_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), index=True)
    evaluation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("evaluation.id"), index=True)
    item_code: Mapped[str | None] = mapped_column(sa.String(10))
    description: Mapped[str] = mapped_column(sa.String(1000))
    owner: Mapped[str] = mapped_column(sa.String(120))
    due_date: Mapped[date]
    status: Mapped[str] = mapped_column(sa.String(10), default=OPEN)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    close_note: Mapped[str | None] = mapped_column(sa.String(1000))
    #: A cadre saw it done at a meeting (ticked on the checklist, issue 18 item 4): a fact
    #: for the secretary to close on, not a change of status.
    seen_done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    seen_done_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    seen_done_evaluation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("evaluation.id"))

    evaluation: Mapped[Evaluation | None] = relationship(foreign_keys=[evaluation_id])
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    seen_done_by: Mapped[User | None] = relationship(foreign_keys=[seen_done_by_id])
    seen_done_evaluation: Mapped[Evaluation | None] = relationship(
        foreign_keys=[seen_done_evaluation_id]
    )

    def is_overdue(self, today: date) -> bool:
        """Open and past its due date (:func:`coso.feedback.rules.is_overdue`)."""
        return is_overdue(self.status, self.due_date, today)
