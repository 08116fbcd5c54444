"""Evaluations of branch meetings, their answers, and each branch's current flag."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coso.extensions import db
from coso.models.checklists import ChecklistTemplate
from coso.models.guidance import Guidance
from coso.models.types import JSONType, UTCDateTime, utcnow
from coso.models.units import Unit
from coso.models.users import User

MEETING_TYPES = ("regular", "theme", "topic", "extraordinary")
MODES = ("in_person", "online")
#: The columns of an evaluation that the sync API reports as its outcome.
OUTCOME_FIELDS = ("compliant", "serious", "score", "procedure_score", "content_score", "reasons")


class Evaluation(db.Model):
    """One cadre's evaluation of one branch meeting. Immutable once stored.

    A correction is a new row whose ``supersedes_id`` points at the old one.
    ``content_hash`` fingerprints what the client sent, so a replay of the same
    UUID can be told apart from a different evaluation reusing it.
    """

    __table_args__ = (
        # A branch's history in meeting order; with ``compliant`` it also answers the
        # per-unit rates and the monthly trend from the index alone.
        sa.Index("ix_evaluation_branch_meeting_ok", "branch_id", "meeting_date", "compliant"),
        sa.Index("ix_evaluation_cadre_received", "cadre_id", "received_at"),
        # A branch's evaluations waiting for feedback, counted from the index alone.
        sa.Index("ix_evaluation_branch_received", "branch_id", "received_at"),
        # A period's evaluations over a whole province (rates, trend, failing items).
        sa.Index("ix_evaluation_meeting_date", "meeting_date"),
        # Good practices recommended for spreading, newest first, without a scan.
        sa.Index("ix_evaluation_recommended", "recommend_practice", "meeting_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True)
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    branch_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"))
    cadre_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    template_id: Mapped[int] = mapped_column(sa.ForeignKey("checklist_template.id"), index=True)
    guidance_id: Mapped[int | None] = mapped_column(sa.ForeignKey("guidance.id"), index=True)
    meeting_date: Mapped[date]
    meeting_type: Mapped[str] = mapped_column(sa.String(16))
    mode: Mapped[str] = mapped_column(sa.String(12))
    members_total: Mapped[int]
    members_present: Mapped[int]
    topics_covered: Mapped[list[str]] = mapped_column(JSONType, default=list)
    notes: Mapped[str | None] = mapped_column(sa.Text)
    good_practice: Mapped[str | None] = mapped_column(sa.Text)
    recommend_practice: Mapped[bool] = mapped_column(default=False)
    supersedes_id: Mapped[int | None] = mapped_column(sa.ForeignKey("evaluation.id"), unique=True)
    device_id: Mapped[str | None] = mapped_column(sa.String(100))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # Computed by coso.judging.scoring when stored.
    score: Mapped[float | None]
    procedure_score: Mapped[float | None]
    content_score: Mapped[float | None]
    compliant: Mapped[bool]
    serious: Mapped[bool]
    attendance: Mapped[float | None]
    topic_coverage: Mapped[float | None]
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)

    branch: Mapped[Unit] = relationship()
    cadre: Mapped[User] = relationship()
    template: Mapped[ChecklistTemplate] = relationship()
    guidance: Mapped[Guidance | None] = relationship()
    supersedes: Mapped[Evaluation | None] = relationship(
        remote_side=[id], back_populates="superseded_by"
    )
    superseded_by: Mapped[Evaluation | None] = relationship(back_populates="supersedes")
    answers: Mapped[list[EvaluationAnswer]] = relationship(
        back_populates="evaluation", cascade="all, delete-orphan", lazy="selectin"
    )

    def outcome_dict(self) -> dict[str, Any]:
        """The outcome as the sync API reports it."""
        return {key: getattr(self, key) for key in OUTCOME_FIELDS}


#: The answers "where to act" counts: a failed or partly met item. Literal SQL, so that
#: the partial index below is usable (a planner cannot match a bound parameter to it).
FAILING_ANSWER = "value IN ('fail', 'partial')"


class EvaluationAnswer(db.Model):
    """The value given to one checklist item (computed items are stored too)."""

    __table_args__ = (
        # The failing answers of a period's evaluations, read from the index alone; it holds
        # only the answers that were not met (a fraction of the table).
        sa.Index(
            "ix_evaluation_answer_failing",
            "evaluation_id",
            "item_code",
            "value",
            sqlite_where=sa.text(FAILING_ANSWER),
            postgresql_where=sa.text(FAILING_ANSWER),
        ),
    )

    evaluation_id: Mapped[int] = mapped_column(sa.ForeignKey("evaluation.id"), primary_key=True)
    item_code: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(8))
    note: Mapped[str | None] = mapped_column(sa.String(1000))

    evaluation: Mapped[Evaluation] = relationship(back_populates="answers")


class BranchStatus(db.Model):
    """A branch's current flag, kept in step with its evaluations.

    Written in the same transaction as each evaluation so that province views
    read one row per branch and never scan evaluations.
    """

    __table_args__ = (sa.Index("ix_branch_status_state_since", "state", "since"),)

    branch_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), primary_key=True)
    state: Mapped[str] = mapped_column(sa.String(10), default="never")
    since: Mapped[date | None]
    evaluation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("evaluation.id"))
    last_meeting_date: Mapped[date | None] = mapped_column(index=True)
    streak: Mapped[int] = mapped_column(default=0)
    serious: Mapped[bool] = mapped_column(default=False)
    score: Mapped[float | None]
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    branch: Mapped[Unit] = relationship()
    evaluation: Mapped[Evaluation | None] = relationship()
