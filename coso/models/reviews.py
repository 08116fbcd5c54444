"""Quality reviews of visit reports and evaluations (issue 19, item 2)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coso.extensions import db
from coso.models.types import JSONType, UTCDateTime, utcnow
from coso.models.users import User
from coso.models.visits import Visit


class VisitReview(db.Model):
    """One step of a visit's review history; the newest row is its current state.

    A reviewer writes ``reviewed``, ``needs_more`` or ``approved`` with the rubric's scores
    and a comment for the cadre; the cadre amending a report sent back writes ``received``.
    A branch-meeting visit carries its evaluation, so reviewing it reviews the evaluation.
    """

    __table_args__ = (sa.Index("ix_visit_review_visit", "visit_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("visit.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    state: Mapped[str] = mapped_column(sa.String(12))
    scores: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    comment: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    visit: Mapped[Visit] = relationship()
    user: Mapped[User] = relationship()


class ReviewRubric(db.Model):
    """A province's rubric: criteria as ``[{"key": ..., "max": 1 or 2}, ...]``."""

    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), primary_key=True)
    criteria: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
