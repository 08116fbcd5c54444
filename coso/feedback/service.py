"""Writing a branch's answer: acknowledgements, replies and corrective actions.

Each function works in the caller's transaction (the view commits) and records
an audit event beside its change. Who may call them is decided by the views
through :mod:`coso.scope`; what the data must look like by
:mod:`coso.feedback.schema`; which status changes are allowed by
:mod:`coso.feedback.rules`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask import has_request_context, request
from sqlalchemy.exc import IntegrityError

from coso import audit
from coso.extensions import db
from coso.feedback import rules
from coso.feedback.rules import DECLINED, DONE, OPEN, PROPOSED
from coso.models import AuditEvent, CorrectiveAction, Evaluation, Feedback, User
from coso.models.types import utcnow
from coso.notifications import service as notify


def _feedback(evaluation_id: int) -> Feedback | None:
    return db.session.scalar(sa.select(Feedback).where(Feedback.evaluation_id == evaluation_id))


def acknowledge(evaluation: Evaluation, user: User) -> Feedback:
    """Mark an evaluation read for its branch; the first acknowledgement stands.

    Two secretaries acknowledging at once store one row: the unique constraint
    on ``evaluation_id`` decides, and the loser gets the winner's row.
    """
    existing = _feedback(evaluation.id)
    if existing is not None:
        return existing
    feedback = Feedback(evaluation_id=evaluation.id, user_id=user.id, acknowledged_at=utcnow())
    try:
        with db.session.begin_nested():
            db.session.add(feedback)
    except IntegrityError:
        winner = _feedback(evaluation.id)
        assert winner is not None
        return winner
    audit.record(
        "feedback.acknowledge",
        obj=feedback,
        unit_id=evaluation.branch_id,
        user=user,
        evaluation_id=evaluation.id,
    )
    return feedback


def reply(evaluation: Evaluation, user: User, text: str) -> Feedback:
    """Store (or replace) the branch's reply; replying also acknowledges.

    A changed reply is unread again for the cadre, who sees the new text.
    """
    feedback = acknowledge(evaluation, user)
    feedback.reply = text
    feedback.replied_at = utcnow()
    feedback.reply_read_at = None
    audit.record(
        "feedback.reply",
        obj=feedback,
        unit_id=evaluation.branch_id,
        user=user,
        evaluation_id=evaluation.id,
    )
    notify.reply_changed(feedback, evaluation)
    return feedback


def mark_reply_read(feedback: Feedback) -> bool:
    """The cadre has seen the reply; False when there was nothing new to read."""
    if feedback.reply is None or feedback.reply_read_at is not None:
        return False
    feedback.reply_read_at = utcnow()
    return True


def mark_replies_read(feedback_ids: list[int], *, cadre_id: int | None = None) -> int:
    """Mark several replies read at once (the cadre asked to, on the replies page).

    With ``cadre_id``, only replies to that cadre's own evaluations: the ids come
    from a form, and nobody marks another cadre's replies read.
    """
    if not feedback_ids:
        return 0
    conditions = [
        Feedback.id.in_(feedback_ids),
        Feedback.reply.is_not(None),
        Feedback.reply_read_at.is_(None),
    ]
    if cadre_id is not None:
        own = sa.select(Evaluation.id).where(Evaluation.cadre_id == cadre_id)
        conditions.append(Feedback.evaluation_id.in_(own))
    result = db.session.execute(
        sa.update(Feedback).where(*conditions).values(reply_read_at=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def create_action(evaluation: Evaluation, user: User, data: dict[str, Any]) -> CorrectiveAction:
    """A secretary's corrective action: open at once, accepted by its author."""
    now = utcnow()
    action = CorrectiveAction(
        branch_id=evaluation.branch_id,
        evaluation_id=evaluation.id,
        item_code=data.get("item_code"),
        description=data["description"],
        owner=data["owner"],
        due_date=data["due_date"],
        status=OPEN,
        created_by_id=user.id,
        created_at=now,
        accepted_by_id=user.id,
        accepted_at=now,
    )
    db.session.add(action)
    db.session.flush()
    audit.record(
        "action.create",
        obj=action,
        unit_id=evaluation.branch_id,
        user=user,
        evaluation_id=evaluation.id,
        due_date=action.due_date.isoformat(),
    )
    return action


def propose_action(evaluation: Evaluation, user: User, data: dict[str, Any]) -> CorrectiveAction:
    """A cadre's proposal on a failed item, waiting for a secretary to accept or decline it."""
    action = CorrectiveAction(
        branch_id=evaluation.branch_id,
        evaluation_id=evaluation.id,
        item_code=data["item_code"],
        description=data["description"],
        owner=data["owner"],
        due_date=data["due_date"],
        status=PROPOSED,
        created_by_id=user.id,
        created_at=utcnow(),
    )
    db.session.add(action)
    db.session.flush()
    audit.record(
        "action.propose",
        obj=action,
        unit_id=evaluation.branch_id,
        user=user,
        evaluation_id=evaluation.id,
        item=action.item_code,
    )
    return action


def lock_action(action_id: int) -> CorrectiveAction | None:
    """Load an action for a status change, locked until commit (PostgreSQL), fresh from the row."""
    return db.session.scalar(
        sa.select(CorrectiveAction)
        .where(CorrectiveAction.id == action_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def accept(action: CorrectiveAction, user: User, data: dict[str, Any]) -> None:
    """Accept a proposal (possibly with another owner or due date): it becomes open.

    :raise rules.TransitionError: it is no longer a proposal.
    """
    action.status = rules.next_status("accept", action.status)
    action.owner = data["owner"]
    action.due_date = data["due_date"]
    action.accepted_by_id = user.id
    action.accepted_at = utcnow()
    audit.record("action.accept", obj=action, unit_id=action.branch_id, user=user)


def decline(action: CorrectiveAction, user: User, reason: str) -> None:
    """Decline a proposal with its reason (kept as its closing note, shown to the proposer,
    and in the audit log).

    :raise rules.TransitionError: it is no longer a proposal.
    """
    action.status = rules.next_status("decline", action.status)
    assert action.status == DECLINED
    action.closed_by_id = user.id
    action.closed_at = utcnow()
    action.close_note = reason
    audit.record("action.decline", obj=action, unit_id=action.branch_id, user=user, reason=reason)


def close(action: CorrectiveAction, user: User, note: str, today: date) -> None:
    """Close an open action (overdue or not) with a short note on what was done.

    :raise rules.TransitionError: it is not open.
    """
    was_overdue = rules.is_overdue(action.status, action.due_date, today)
    action.status = rules.next_status("close", action.status)
    assert action.status == DONE
    action.closed_by_id = user.id
    action.closed_at = utcnow()
    action.close_note = note
    audit.record("action.close", obj=action, unit_id=action.branch_id, user=user, late=was_overdue)


def record_seen_done(
    stored: list[tuple[dict[str, Any], list[int]]], user: User, now: datetime
) -> None:
    """The open actions the cadre saw done at the meeting (issue 18, item 4), each audited.

    Only open actions of the evaluated branch not yet seen done are marked; any other id (an
    action closed meanwhile, another branch's) is skipped, never an error: the evaluation
    itself must not be lost over it. The action's status is the secretary's to change.
    """
    table = CorrectiveAction.__table__
    connection = db.session.connection()
    address = request.remote_addr if has_request_context() else None
    events = []
    for row, ids in stored:
        if not ids:
            continue
        marked = connection.execute(
            sa.update(table)
            .where(
                table.c.id.in_(ids),
                table.c.branch_id == row["branch_id"],
                table.c.status == OPEN,
                table.c.seen_done_at.is_(None),
            )
            .values(seen_done_at=now, seen_done_by_id=user.id, seen_done_evaluation_id=row["id"])
            .returning(table.c.id)
        ).scalars()
        events += [
            {
                "at": now,
                "action": "action.seen_done",
                "user_id": user.id,
                "object_type": "CorrectiveAction",
                "object_id": str(action_id),
                "unit_id": row["branch_id"],
                "remote_addr": address,
                "details": {"evaluation_id": row["id"], "uuid": row["uuid"]},
            }
            for action_id in sorted(marked)
        ]
    if events:
        connection.execute(sa.insert(AuditEvent.__table__), events)
