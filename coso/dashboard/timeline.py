"""A branch's story, newest first: evaluations with their scores, the secretary's
acknowledgement and reply, corrective actions, and changes of secretary.

Every query is keyed by the one branch (its evaluations through the
(branch, meeting date) index, actions and terms through their branch index).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from coso.evaluations.twins import twin_dates
from coso.extensions import db
from coso.models import CorrectiveAction, Evaluation, Feedback, Photo, SecretaryTerm, Unit, User

#: Evaluations shown before "show all".
RECENT = 24


@dataclass
class EvaluationEntry:
    id: int
    meeting_date: date
    score: float | None
    procedure_score: float | None
    content_score: float | None
    compliant: bool
    serious: bool
    reasons: list[dict[str, Any]]
    cadre: str
    superseded: bool = False
    twin: bool = False  # another evaluation in force shares its meeting date (issue 16, item 3)
    feedback: Feedback | None = None
    actions: list[CorrectiveAction] = field(default_factory=list)
    photos: int = 0  # photos its cadre took of it (issue 20)


@dataclass
class Event:
    """One line of the timeline; ``kind`` says which of the fields is set."""

    on: date
    kind: str  # "evaluation" | "action" | "secretary_start" | "secretary_end"
    evaluation: EvaluationEntry | None = None
    action: CorrectiveAction | None = None
    term: SecretaryTerm | None = None


@dataclass
class Timeline:
    events: list[Event]
    evaluations_total: int
    shown_all: bool
    terms: list[SecretaryTerm]


def _day(value: datetime | date) -> date:
    return value.date() if isinstance(value, datetime) else value


def branch_timeline(branch: Unit, show_all: bool = False) -> Timeline:
    """The branch's events, newest first (the most recent ``RECENT`` evaluations unless all)."""
    total = (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Evaluation)
            .where(Evaluation.branch_id == branch.id)
        )
        or 0
    )
    query = (
        sa.select(
            Evaluation.id,
            Evaluation.meeting_date,
            Evaluation.score,
            Evaluation.procedure_score,
            Evaluation.content_score,
            Evaluation.compliant,
            Evaluation.serious,
            Evaluation.reasons,
            User.display_name,
        )
        .join(User, User.id == Evaluation.cadre_id)
        .where(Evaluation.branch_id == branch.id)
        .order_by(
            Evaluation.meeting_date.desc(), Evaluation.submitted_at.desc(), Evaluation.id.desc()
        )
    )
    if not show_all:
        query = query.limit(RECENT)
    entries = [
        EvaluationEntry(*row[:7], reasons=list(row[7] or []), cadre=row[8])
        for row in db.session.execute(query)
    ]
    by_id = {entry.id: entry for entry in entries}
    if by_id:
        replaced = set(
            db.session.scalars(
                sa.select(Evaluation.supersedes_id).where(
                    Evaluation.branch_id == branch.id, Evaluation.supersedes_id.in_(by_id)
                )
            )
        )
        for entry_id in replaced:
            by_id[entry_id].superseded = True
        shared = twin_dates(branch.id)
        for entry in entries:
            entry.twin = not entry.superseded and entry.meeting_date in shared
        for feedback in db.session.scalars(
            sa.select(Feedback).where(Feedback.evaluation_id.in_(by_id))
        ):
            by_id[feedback.evaluation_id].feedback = feedback
        for evaluation_id, photos in db.session.execute(
            sa.select(Evaluation.id, sa.func.count(Photo.id))
            .join(
                Photo,
                sa.and_(
                    Photo.evaluation_uuid == Evaluation.uuid,
                    Photo.uploaded_by_id == Evaluation.cadre_id,
                ),
            )
            .where(Evaluation.id.in_(by_id))
            .group_by(Evaluation.id)
        ):
            by_id[evaluation_id].photos = photos
    events = [Event(entry.meeting_date, "evaluation", evaluation=entry) for entry in entries]
    oldest = entries[-1].meeting_date if entries and not show_all and total > RECENT else None
    for action in db.session.scalars(
        sa.select(CorrectiveAction)
        .where(CorrectiveAction.branch_id == branch.id)
        .order_by(CorrectiveAction.created_at, CorrectiveAction.id)
    ):
        if action.evaluation_id in by_id:
            by_id[action.evaluation_id].actions.append(action)  # type: ignore[index]
        elif oldest is None or _day(action.created_at) >= oldest:
            events.append(Event(_day(action.created_at), "action", action=action))
    terms = list(
        db.session.scalars(
            sa.select(SecretaryTerm)
            .where(SecretaryTerm.branch_id == branch.id)
            .order_by(SecretaryTerm.started_on.desc().nulls_last(), SecretaryTerm.id.desc())
        )
    )
    for term in terms:
        if term.started_on and (oldest is None or term.started_on >= oldest):
            events.append(Event(term.started_on, "secretary_start", term=term))
        if term.ended_on and (oldest is None or term.ended_on >= oldest):
            events.append(Event(term.ended_on, "secretary_end", term=term))
    order = {"secretary_end": 0, "secretary_start": 1, "action": 2, "evaluation": 3}
    events.sort(key=lambda e: (e.on, -order[e.kind]), reverse=True)
    return Timeline(
        events=events,
        evaluations_total=total,
        shown_all=show_all or total <= RECENT,
        terms=terms,
    )
