"""Writing the meeting calendar: declare, fill a pattern's months, move, cancel, end a pattern.

Each change is audited; the caller commits (one transaction per user action).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from coso import audit
from coso.extensions import db
from coso.meetings import queries
from coso.meetings.rules import pattern_dates, slot_of, slots_to_fill
from coso.models import Meeting, MeetingPattern, Unit, User


def _clean(value: str | None) -> str | None:
    return (value or "").strip() or None


def _where(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "time": data["time"],
        "place": _clean(data.get("place")),
        "link": _clean(data.get("link")),
        "kind": data["kind"],
    }


def _facts(meeting: Meeting) -> dict[str, Any]:
    return {
        "day": meeting.day.isoformat(),
        "time": meeting.time.strftime("%H:%M"),
        "place": meeting.place,
        "link": meeting.link,
        "kind": meeting.kind,
    }


def declare(branch: Unit, data: dict[str, Any], user: User) -> Meeting:
    """Declare one meeting of ``branch`` from ``MeetingSchema``'s data."""
    meeting = Meeting(branch_id=branch.id, day=data["day"], created_by_id=user.id, **_where(data))
    db.session.add(meeting)
    db.session.flush()
    audit.record("meeting.create", obj=meeting, unit_id=branch.id, user=user, **_facts(meeting))
    return meeting


def declare_pattern(
    branch: Unit, data: dict[str, Any], user: User, today: date
) -> tuple[MeetingPattern, list[Meeting]]:
    """Declare a monthly pattern and fill its next ``months`` months (this one included)."""
    pattern = MeetingPattern(
        branch_id=branch.id,
        nth=data["nth"],
        weekday=data["weekday"],
        created_by_id=user.id,
        **_where(data),
    )
    db.session.add(pattern)
    db.session.flush()
    audit.record(
        "meeting_pattern.create",
        obj=pattern,
        unit_id=branch.id,
        user=user,
        nth=pattern.nth,
        weekday=pattern.weekday,
        time=pattern.time.strftime("%H:%M"),
        place=pattern.place,
        link=pattern.link,
        kind=pattern.kind,
    )
    return pattern, fill(pattern, today, data.get("months") or 3, user)


def fill(pattern: MeetingPattern, today: date, months: int, user: User) -> list[Meeting]:
    """Create the pattern's meetings of the months it has not filled yet, from ``today``.

    A month the pattern filled before keeps what it holds, moved or cancelled: nothing
    is duplicated or overwritten. The (pattern, slot) unique constraint backs this up
    against two people filling at once.
    """
    days = slots_to_fill(
        pattern_dates(pattern.nth, pattern.weekday, today, months), queries.taken_slots(pattern)
    )
    created = []
    for day in days:
        meeting = Meeting(
            branch_id=pattern.branch_id,
            pattern_id=pattern.id,
            slot=slot_of(day),
            day=day,
            time=pattern.time,
            place=pattern.place,
            link=pattern.link,
            kind=pattern.kind,
            created_by_id=user.id,
        )
        db.session.add(meeting)
        created.append(meeting)
    db.session.flush()
    audit.record(
        "meeting_pattern.fill",
        obj=pattern,
        unit_id=pattern.branch_id,
        user=user,
        months=months,
        created=[m.day.isoformat() for m in created],
    )
    return created


def move(meeting: Meeting, data: dict[str, Any], user: User) -> None:
    """Move a meeting to a new day, time or place; ``moved_from`` keeps the day first declared."""
    before = _facts(meeting)
    if meeting.moved_from is None:
        meeting.moved_from = meeting.day
    meeting.day = data["day"]
    for name, value in _where(data).items():
        setattr(meeting, name, value)
    db.session.flush()
    audit.record(
        "meeting.move",
        obj=meeting,
        unit_id=meeting.branch_id,
        user=user,
        **audit.changes(before, _facts(meeting)),
    )


def cancel(meeting: Meeting, reason: str, user: User) -> None:
    """Cancel a meeting, saying why; its row stays (its pattern never fills the month again)."""
    meeting.cancelled_at = datetime.now(UTC)
    meeting.cancel_reason = reason.strip()
    db.session.flush()
    audit.record(
        "meeting.cancel",
        obj=meeting,
        unit_id=meeting.branch_id,
        user=user,
        day=meeting.day.isoformat(),
        reason=meeting.cancel_reason,
    )


def end_pattern(pattern: MeetingPattern, today: date, user: User) -> int:
    """Stop a pattern: its coming meetings that nobody moved or cancelled go with it.

    Moved and cancelled ones stay, as do those already held. Answers how many went.
    """
    pattern.active = False
    gone = db.session.execute(
        sa.delete(Meeting).where(
            Meeting.pattern_id == pattern.id,
            Meeting.day >= today,
            Meeting.moved_from.is_(None),
            Meeting.cancelled_at.is_(None),
        )
    ).rowcount
    db.session.flush()
    audit.record(
        "meeting_pattern.end", obj=pattern, unit_id=pattern.branch_id, user=user, removed=gone
    )
    return int(gone or 0)
