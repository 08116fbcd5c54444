"""Reading the meeting calendar: an area's meetings over some days, each branch's next one."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import NamedTuple

import sqlalchemy as sa

from coso.extensions import among, db
from coso.models import Meeting, MeetingPattern, Unit
from coso.models.units import subtree_of

#: How far ahead the field pack and the branch list look for a branch's meetings.
PACK_DAYS = timedelta(days=62)


class Listed(NamedTuple):
    """A meeting with what the calendar shows beside it."""

    meeting: Meeting
    branch: Unit
    parent_name: str | None


def in_area(unit: Unit, first: date, last: date) -> list[Listed]:
    """Every meeting (cancelled ones too) of the active branches under ``unit`` in the days."""
    parent = sa.orm.aliased(Unit)
    rows = db.session.execute(
        sa.select(Meeting, Unit, parent.name)
        .join(Unit, Unit.id == Meeting.branch_id)
        .outerjoin(parent, parent.id == Unit.parent_id)
        .where(
            subtree_of(unit.path),
            Unit.active.is_(True),
            Meeting.day >= first,
            Meeting.day <= last,
        )
        .order_by(Meeting.day, Meeting.time, Unit.name, Meeting.id)
    ).all()
    return [Listed(meeting, branch, parent_name) for meeting, branch, parent_name in rows]


def upcoming(branch_ids: Iterable[int], today: date, days: timedelta = PACK_DAYS) -> list[Meeting]:
    """The meetings (cancelled ones too) of these branches from ``today`` for ``days``."""
    ids = list(branch_ids)
    out: list[Meeting] = []
    for start in range(0, len(ids), 500):
        out += db.session.scalars(
            sa.select(Meeting)
            .where(
                among(Meeting.branch_id, ids[start : start + 500]),
                Meeting.day >= today,
                Meeting.day <= today + days,
            )
            .order_by(Meeting.branch_id, Meeting.day, Meeting.time, Meeting.id)
        ).all()
    return out


def next_by_branch(meetings: Iterable[Meeting]) -> dict[int, Meeting]:
    """Each branch's first meeting that is not cancelled, from meetings in date order."""
    out: dict[int, Meeting] = {}
    for meeting in meetings:
        if not meeting.cancelled and meeting.branch_id not in out:
            out[meeting.branch_id] = meeting
    return out


def next_meeting(branch_id: int, today: date) -> Meeting | None:
    """The branch's next declared meeting that is not cancelled, however far ahead."""
    return db.session.scalars(
        sa.select(Meeting)
        .where(Meeting.branch_id == branch_id, Meeting.day >= today, Meeting.cancelled_at.is_(None))
        .order_by(Meeting.day, Meeting.time, Meeting.id)
        .limit(1)
    ).first()


def for_branch(branch: Unit, since: date) -> list[Meeting]:
    """The branch's meetings from ``since`` on, cancelled ones too, in date order."""
    return list(
        db.session.scalars(
            sa.select(Meeting)
            .where(Meeting.branch_id == branch.id, Meeting.day >= since)
            .order_by(Meeting.day, Meeting.time, Meeting.id)
            .limit(200)
        )
    )


def patterns_of(branch: Unit) -> list[MeetingPattern]:
    """The branch's patterns in force."""
    return list(
        db.session.scalars(
            sa.select(MeetingPattern)
            .where(MeetingPattern.branch_id == branch.id, MeetingPattern.active.is_(True))
            .order_by(MeetingPattern.id)
        )
    )


def taken_slots(pattern: MeetingPattern) -> set[str]:
    """The months the pattern has filled already (moved and cancelled meetings included)."""
    return set(
        db.session.scalars(
            sa.select(Meeting.slot).where(
                Meeting.pattern_id == pattern.id, Meeting.slot.is_not(None)
            )
        )
    )
