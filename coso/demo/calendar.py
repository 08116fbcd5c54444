"""The branches' declared meetings (the meeting calendar): most branches meet on a monthly
pattern shaped by their plan, a few declare a themed meeting by hand, and some meetings are
moved or cancelled — so the demo province's calendar shows every case.

Drawn from a generator of its own, so the rest of the demo is the same with or without it.
"""

from __future__ import annotations

from datetime import date, time, timedelta
from random import Random
from typing import Any

from coso.demo.world import Ctx, insert_rows
from coso.extensions import db
from coso.meetings.rules import OTHER, REGULAR, THEMED, pattern_dates, slot_of
from coso.models import Meeting, MeetingPattern

#: Months each pattern fills, from the first day of this month.
MONTHS = 3
SHARE_WITH_PATTERN = 0.7
PLACES = (
    "Nhà văn hoá ấp",
    "Hội trường UBND xã",
    "Trụ sở chi đoàn",
    "Nhà văn hoá khu phố",
    "Sân bóng ấp",
    "Điểm sinh hoạt cộng đồng",
)
REASONS = (
    "Trùng lịch tiêm chủng của ấp",
    "Mưa bão, không tổ chức được",
    "Đoàn viên đi phục vụ lễ hội của xã",
    "Ghép với buổi sinh hoạt chung của Đoàn xã",
)
THEMES = ("Sinh hoạt chuyên đề: an toàn giao thông", "Sinh hoạt chuyên đề: chuyển đổi số")


def build_calendar(ctx: Ctx) -> None:
    """Patterns with three months of meetings, a few moved or cancelled, and themed extras."""
    rng = Random(f"calendar-{ctx.today.isoformat()}{ctx.user_prefix}")
    first = ctx.today.replace(day=1)
    creator = ctx.users.get("province")
    secretary_branch = ctx.users["secretary"].unit_id if "secretary" in ctx.users else None
    patterns: list[MeetingPattern] = []
    for plan in ctx.branches:
        own = plan.unit.id == secretary_branch  # the demo secretary's branch always has one
        if not own and rng.random() > SHARE_WITH_PATTERN:
            continue
        evening = plan.evening
        weekday = rng.choice((1, 3, 4)) if evening else rng.choice((5, 6))
        patterns.append(
            MeetingPattern(
                branch_id=plan.unit.id,
                nth=min(4, (plan.day - 1) // 7 + 1),
                weekday=6 if own else weekday,
                time=time(19, 30) if evening else time(7, 30),
                place=f"{rng.choice(PLACES)} {plan.unit.name.split()[-1]}",
                link=None,
                kind=REGULAR,
                created_by_id=creator.id if creator else None,
            )
        )
    db.session.add_all(patterns)
    db.session.flush()
    rows: list[dict[str, Any]] = []
    for pattern in patterns:
        for day in pattern_dates(pattern.nth, pattern.weekday, first, MONTHS):
            row = _row(pattern.branch_id, day, pattern.time, pattern.place, REGULAR)
            row.update(pattern_id=pattern.id, slot=slot_of(day))
            draw = rng.random()
            if day >= ctx.today and draw < 0.08:  # moved a week later, to the commune hall
                row.update(day=day + timedelta(days=7), moved_from=day, place="Hội trường UBND xã")
            elif day >= ctx.today and draw < 0.13:
                row.update(cancelled_at=ctx.now, cancel_reason=rng.choice(REASONS))
            rows.append(row)
    for plan in ctx.branches:  # a themed meeting here and there, some of them online
        if rng.random() < 0.12:
            day = ctx.today + timedelta(days=rng.randint(1, 40))
            online = rng.random() < 0.4
            row = _row(
                plan.unit.id, day, time(20, 0), None if online else rng.choice(THEMES), THEMED
            )
            if online:
                row.update(link=f"https://meet.example.org/{plan.unit.code.lower()}", kind=OTHER)
            rows.append(row)
    for row in rows:
        row["created_at"] = row["updated_at"] = ctx.now
    insert_rows(Meeting, rows)
    ctx.counts["meetings"] = len(rows)
    ctx.counts["meeting_patterns"] = len(patterns)
    ctx.progress(f"Calendar: {len(patterns)} patterns, {len(rows)} declared meetings.")


def _row(branch_id: int, day: date, at: time, place: str | None, kind: str) -> dict[str, Any]:
    return {
        "branch_id": branch_id,
        "pattern_id": None,
        "slot": None,
        "day": day,
        "time": at,
        "place": place,
        "link": None,
        "kind": kind,
        "moved_from": None,
        "cancelled_at": None,
        "cancel_reason": None,
        "created_by_id": None,
        "created_at": None,
        "updated_at": None,
    }
