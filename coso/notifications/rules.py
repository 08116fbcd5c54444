"""The rules of notifications as pure functions: kinds, modes, event keys, backoff, the clock.

Nothing here touches Flask or the database.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

#: The kinds of event, in the order the preferences page lists them.
NEW_EVALUATION = "evaluation"
REPLY = "reply"
ACTION_DUE = "action_due"
ACTION_OVERDUE = "action_overdue"
UNACKNOWLEDGED = "unacknowledged"
VISIT_ASSIGNED = "visit_assigned"
VISIT_TOMORROW = "visit_tomorrow"
KINDS = (
    NEW_EVALUATION,
    REPLY,
    ACTION_DUE,
    ACTION_OVERDUE,
    UNACKNOWLEDGED,
    VISIT_ASSIGNED,
    VISIT_TOMORROW,
)

#: What a user may choose per kind for email (and any later channel but the in-app one).
IMMEDIATE, DIGEST, OFF = "immediate", "digest", "off"
MODES = (IMMEDIATE, DIGEST, OFF)
DEFAULT_MODE = IMMEDIATE

#: States of an outbox row, and of a channel's delivery.
PENDING, DONE, DEAD = "pending", "done", "dead"
SENT, QUEUED, SKIPPED = "sent", "digest", "off"

#: An action is "due soon" this many days ahead (issue 21).
DUE_SOON_DAYS = 3
#: The scan looks this far back for unacknowledged evaluations and overdue actions: an old
#: demo or imported history is not announced all at once on the first run.
SCAN_HORIZON_DAYS = 60
#: Retries: the first after BACKOFF_BASE seconds, doubling, at most BACKOFF_MAX apart, then
#: the row is given up (dead) after MAX_ATTEMPTS.
BACKOFF_BASE = 30
BACKOFF_MAX = 6 * 3600
MAX_ATTEMPTS = 12


def backoff(attempts: int, base: int = BACKOFF_BASE, cap: int = BACKOFF_MAX) -> timedelta:
    """How long to wait before the next try after ``attempts`` failed ones (1, 2, …)."""
    if attempts < 1:
        return timedelta(0)
    return timedelta(seconds=min(cap, base * 2 ** min(attempts - 1, 30)))


def gives_up(attempts: int, limit: int = MAX_ATTEMPTS) -> bool:
    return attempts >= limit


def evaluation_key(evaluation_id: int) -> str:
    return f"evaluation:{evaluation_id}"


def reply_key(feedback_id: int, replied_at: datetime) -> str:
    """A changed reply is news again: its time is part of the key."""
    return f"reply:{feedback_id}:{replied_at.strftime('%Y%m%d%H%M%S')}"


def action_due_key(action_id: int, due: date) -> str:
    """Moving the due date makes a new reminder; rescanning the same one does not."""
    return f"action-due:{action_id}:{due.isoformat()}"


def action_overdue_key(action_id: int, due: date) -> str:
    return f"action-overdue:{action_id}:{due.isoformat()}"


def unacknowledged_key(evaluation_id: int) -> str:
    return f"unacknowledged:{evaluation_id}"


def visit_assigned_key(plan_id: int) -> str:
    return f"visit-assigned:{plan_id}"


def visit_tomorrow_key(plan_id: int, day: date) -> str:
    return f"visit-tomorrow:{plan_id}:{day.isoformat()}"


def due_soon(due: date, today: date, days: int = DUE_SOON_DAYS) -> bool:
    """Due today or within ``days`` days (not yet overdue)."""
    return today <= due <= today + timedelta(days=days)


def overdue(due: date, today: date) -> bool:
    return due < today


def unacknowledged_since(created: date, today: date, days: int) -> bool:
    """An evaluation unanswered for ``days`` days or more by ``today``."""
    return (today - created).days >= days


def clamp_mode(value: object) -> str | None:
    """A mode as submitted, or None when it is not one."""
    return value if isinstance(value, str) and value in MODES else None


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The start and end (exclusive) of a UTC day."""
    start = datetime.combine(day, time(0), tzinfo=UTC)
    return start, start + timedelta(days=1)
