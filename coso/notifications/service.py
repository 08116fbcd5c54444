"""Writing notifications: events into the outbox, read marks, preferences, the time scan.

The ``*_changed``/``*_stored`` functions are the hooks the rest of the app calls, once,
from the place that makes the change: they add outbox rows to the caller's session and
transaction, so a change that rolls back leaves no notice and a change that commits
always has its notice. Each row is unique per recipient and event key, inserted with
``ON CONFLICT DO NOTHING``: calling a hook (or the scan) twice never doubles a notice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm
from sqlalchemy.dialects import postgresql, sqlite

from coso import audit, clock
from coso.extensions import db
from coso.judging.queries import settings_for_paths
from coso.models import (
    CorrectiveAction,
    Evaluation,
    Feedback,
    Notification,
    NotificationContact,
    NotificationPreference,
    PlanCadre,
    Unit,
    User,
    VisitPlan,
)
from coso.models.types import utcnow
from coso.notifications import rules
from coso.notifications.queries import branch_secretaries

Event = dict[str, Any]


def _insert() -> Any:
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Notification.__table__)


def enqueue(events: Iterable[Event], now: datetime | None = None) -> int:
    """Add outbox rows (``user_id``, ``kind``, ``key``, ``unit_id``, ``params``) to the current
    transaction; an event already there for its recipient is skipped. Returns how many were new.
    """
    at = now or clock.now()
    rows = [
        {
            "user_id": event["user_id"],
            "kind": event["kind"],
            "key": event["key"],
            "unit_id": event.get("unit_id"),
            "params": event.get("params") or {},
            "created_at": at,
            "state": rules.PENDING,
            "attempts": 0,
            "next_attempt_at": at,
        }
        for event in events
    ]
    if not rows:
        return 0
    # Unique (user, key) in the batch too: one statement cannot conflict with itself.
    unique = list({(row["user_id"], row["key"]): row for row in rows}.values())
    # RETURNING counts what was new (executemany's rowcount is not reliable on every driver).
    statement = (
        _insert()
        .on_conflict_do_nothing(index_elements=["user_id", "key"])
        .returning(Notification.__table__.c.id)
    )
    return len(db.session.execute(statement, unique).all())


def _link(endpoint: str, **args: int) -> dict[str, Any]:
    return {"endpoint": endpoint, "args": args}


# ------------------------------------------------------------------ hooks


def evaluations_stored(rows: list[Mapping[str, Any]], now: datetime | None = None) -> int:
    """New evaluations (the stored rows of a batch, or one): to their branch's secretaries
    and the commune's (the branch's parent unit)."""
    if not rows:
        return 0
    branch_ids = {int(row["branch_id"]) for row in rows}
    recipients = branch_secretaries(branch_ids)
    cadre_ids = {int(row["cadre_id"]) for row in rows if row.get("cadre_id") is not None}
    cadres = dict(
        db.session.execute(
            sa.select(User.id, User.display_name).where(User.id.in_(cadre_ids))
        ).all()
    )
    events: list[Event] = []
    for row in rows:
        branch_id = int(row["branch_id"])
        branch_name, users = recipients.get(branch_id, ("", []))
        for user_id in users:
            if user_id == row.get("cadre_id"):
                continue  # nobody is told about their own evaluation
            events.append(
                {
                    "user_id": user_id,
                    "kind": rules.NEW_EVALUATION,
                    "key": rules.evaluation_key(int(row["id"])),
                    "unit_id": branch_id,
                    "params": {
                        "branch": branch_name,
                        "cadre": cadres.get(row.get("cadre_id"), ""),
                        "compliant": row.get("compliant"),
                        "link": _link("feedback.show", evaluation_id=int(row["id"])),
                    },
                }
            )
    return enqueue(events, now)


def reply_changed(feedback: Feedback, evaluation: Evaluation) -> int:
    """A branch replied to (or changed its reply to) an evaluation: to its cadre."""
    if feedback.reply is None or feedback.replied_at is None:
        return 0
    db.session.flush()
    branch = db.session.get(Unit, evaluation.branch_id)
    return enqueue(
        [
            {
                "user_id": evaluation.cadre_id,
                "kind": rules.REPLY,
                "key": rules.reply_key(feedback.id, feedback.replied_at),
                "unit_id": evaluation.branch_id,
                "params": {
                    "branch": branch.name if branch else "",
                    "link": _link("feedback.show", evaluation_id=evaluation.id),
                },
            }
        ]
    )


def plan_assigned(plan: VisitPlan, by: User | None = None) -> int:
    """A planned visit names its cadres: to each of them but its planner."""
    if plan.status != "planned":
        return 0
    db.session.flush()
    unit = db.session.get(Unit, plan.unit_id)
    user_ids = db.session.scalars(
        sa.select(PlanCadre.user_id).where(PlanCadre.plan_id == plan.id)
    ).all()
    return enqueue(
        [
            {
                "user_id": user_id,
                "kind": rules.VISIT_ASSIGNED,
                "key": rules.visit_assigned_key(plan.id),
                "unit_id": plan.unit_id,
                "params": {
                    "unit": unit.name if unit else "",
                    "start": plan.start_date.isoformat(),
                    "end": plan.end_date.isoformat(),
                    "link": _link("plans.show", plan_id=plan.id),
                },
            }
            for user_id in user_ids
            if by is None or user_id != by.id
        ]
    )


# ------------------------------------------------------------------ the time scan


def scan(today: date, now: datetime | None = None) -> int:
    """Write the time-based events of ``today``: actions due soon or overdue, evaluations
    unacknowledged for the unit's ``unack_days``, tomorrow's planned visits. Idempotent:
    each event's key is unique per recipient. Returns how many rows were new."""
    return enqueue(time_events(today), now)


def time_events(today: date) -> list[Event]:
    """The time-based events of ``today`` for everyone (not yet written)."""
    return [*_action_events(today), *_unacknowledged_events(today), *_tomorrow_events(today)]


def _action_events(today: date) -> list[Event]:
    horizon = today - timedelta(days=rules.SCAN_HORIZON_DAYS)
    rows = db.session.execute(
        sa.select(CorrectiveAction.id, CorrectiveAction.branch_id, CorrectiveAction.due_date)
        .where(
            CorrectiveAction.status == "open",
            CorrectiveAction.due_date >= horizon,
            CorrectiveAction.due_date <= today + timedelta(days=rules.DUE_SOON_DAYS),
        )
        .order_by(CorrectiveAction.id)
    ).all()
    recipients = branch_secretaries({row.branch_id for row in rows}, communes=False)
    events: list[Event] = []
    for action_id, branch_id, due in rows:
        late = rules.overdue(due, today)
        kind = rules.ACTION_OVERDUE if late else rules.ACTION_DUE
        key = (rules.action_overdue_key if late else rules.action_due_key)(action_id, due)
        branch_name, users = recipients.get(branch_id, ("", []))
        for user_id in users:
            events.append(
                {
                    "user_id": user_id,
                    "kind": kind,
                    "key": key,
                    "unit_id": branch_id,
                    "params": {
                        "branch": branch_name,
                        "due": due.isoformat(),
                        "link": _link("feedback.action", action_id=action_id),
                    },
                }
            )
    return events


def _unacknowledged_events(today: date) -> list[Event]:
    since = rules.day_bounds(today - timedelta(days=rules.SCAN_HORIZON_DAYS))[0]
    newer = sa.orm.aliased(Evaluation)
    rows = db.session.execute(
        sa.select(Evaluation.id, Evaluation.branch_id, Evaluation.received_at, Unit.path)
        .join(Unit, Unit.id == Evaluation.branch_id)
        .outerjoin(Feedback, Feedback.evaluation_id == Evaluation.id)
        .where(Feedback.id.is_(None), Evaluation.received_at >= since)
        .where(~sa.exists().where(newer.supersedes_id == Evaluation.id))  # corrected: moot
        .order_by(Evaluation.id)
    ).all()
    settings = settings_for_paths({row.path for row in rows})
    late = [
        row
        for row in rows
        if rules.unacknowledged_since(row.received_at.date(), today, settings[row.path].unack_days)
    ]
    recipients = branch_secretaries({row.branch_id for row in late})
    events: list[Event] = []
    for row in late:
        branch_name, users = recipients.get(row.branch_id, ("", []))
        for user_id in users:
            events.append(
                {
                    "user_id": user_id,
                    "kind": rules.UNACKNOWLEDGED,
                    "key": rules.unacknowledged_key(row.id),
                    "unit_id": row.branch_id,
                    "params": {
                        "branch": branch_name,
                        "days": (today - row.received_at.date()).days,
                        "link": _link("feedback.show", evaluation_id=row.id),
                    },
                }
            )
    return events


def _tomorrow_events(today: date) -> list[Event]:
    tomorrow = today + timedelta(days=1)
    rows = db.session.execute(
        sa.select(VisitPlan.id, VisitPlan.unit_id, Unit.name, PlanCadre.user_id)
        .join(PlanCadre, PlanCadre.plan_id == VisitPlan.id)
        .join(Unit, Unit.id == VisitPlan.unit_id)
        .where(VisitPlan.status == "planned", VisitPlan.start_date == tomorrow)
        .order_by(VisitPlan.id)
    ).all()
    return [
        {
            "user_id": user_id,
            "kind": rules.VISIT_TOMORROW,
            "key": rules.visit_tomorrow_key(plan_id, tomorrow),
            "unit_id": unit_id,
            "params": {
                "unit": name,
                "start": tomorrow.isoformat(),
                "link": _link("plans.show", plan_id=plan_id),
            },
        }
        for plan_id, unit_id, name, user_id in rows
    ]


# ------------------------------------------------------------------ the user's own


def mark_read(user: User, notification_id: int | None) -> int:
    """Mark one of the user's notices read (all of them when ``notification_id`` is None)."""
    conditions = [Notification.user_id == user.id, Notification.read_at.is_(None)]
    if notification_id is not None:
        conditions.append(Notification.id == notification_id)
    result = db.session.execute(sa.update(Notification).where(*conditions).values(read_at=utcnow()))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def save_preferences(user: User, modes: Mapping[str, str], email: str | None) -> None:
    """Store a user's choice per kind and their address (None or empty: no address)."""
    before = {
        p.kind: p.mode
        for p in db.session.scalars(
            sa.select(NotificationPreference).where(NotificationPreference.user_id == user.id)
        )
    }
    for kind, mode in modes.items():
        row = db.session.get(NotificationPreference, (user.id, kind))
        if row is None:
            db.session.add(NotificationPreference(user_id=user.id, kind=kind, mode=mode))
        else:
            row.mode = mode
    contact = db.session.get(NotificationContact, user.id)
    if email:
        if contact is None:
            db.session.add(NotificationContact(user_id=user.id, email=email))
        else:
            contact.email = email
    elif contact is not None:
        db.session.delete(contact)
    audit.record(
        "notifications.preferences",
        obj=user,
        unit_id=user.unit_id,
        user=user,
        before=before,
        after=dict(modes),
        email=bool(email),
    )


def unsubscribe(user: User, kind: str) -> None:
    """Turn one kind off by email for one user (the mail's one-click link)."""
    row = db.session.get(NotificationPreference, (user.id, kind))
    if row is None:
        db.session.add(NotificationPreference(user_id=user.id, kind=kind, mode=rules.OFF))
    else:
        row.mode = rules.OFF
    audit.record("notifications.unsubscribe", obj=user, unit_id=user.unit_id, user=user, kind=kind)
