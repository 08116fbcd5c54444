"""Two evaluations of one meeting: the same branch and meeting date, both in force.

The server accepts both (two cadres may attend the same meeting), but the cadre is warned
before submitting the second (issue 16, item 3) and the province sees such pairs marked.
A correction is not a twin: it supersedes the one it replaces, which is then not in force.
Every query here goes through the (branch, meeting date) index.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from coso.evaluations.queries import not_superseded
from coso.evaluations.rules import correction_open
from coso.extensions import among, db
from coso.models import Evaluation, User


@dataclass(frozen=True)
class Earlier:
    """An evaluation in force of the meeting being evaluated: who sent it and when, no content."""

    id: int
    uuid: str
    branch_id: int
    meeting_date: date
    cadre_id: int
    cadre: str
    received_at: datetime


def _earlier_query() -> sa.Select[tuple[int, str, int, date, int, str, datetime]]:
    return (
        sa.select(
            Evaluation.id,
            Evaluation.uuid,
            Evaluation.branch_id,
            Evaluation.meeting_date,
            Evaluation.cadre_id,
            User.display_name,
            Evaluation.received_at,
        )
        .join(User, User.id == Evaluation.cadre_id)
        .where(not_superseded())
    )


def same_meeting(
    branch_id: int, meeting_date: date, *, excluding: str | None = None
) -> list[Earlier]:
    """The evaluations in force of ``branch_id``'s meeting of ``meeting_date``, oldest first.

    :param excluding: the UUID of one to leave out (the evaluation being corrected).
    """
    query = _earlier_query().where(
        Evaluation.branch_id == branch_id, Evaluation.meeting_date == meeting_date
    )
    if excluding:
        query = query.where(Evaluation.uuid != excluding[:36])
    rows = db.session.execute(query.order_by(Evaluation.received_at, Evaluation.id))
    return [Earlier(*row) for row in rows]


def recent_by_branch(branch_ids: Iterable[int], since: date) -> dict[int, list[Earlier]]:
    """Each branch's evaluations in force of meetings on or after ``since``, oldest first."""
    ids = sorted(set(branch_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        _earlier_query()
        .where(among(Evaluation.branch_id, ids), Evaluation.meeting_date >= since)
        .order_by(Evaluation.branch_id, Evaluation.meeting_date, Evaluation.received_at)
    )
    found: dict[int, list[Earlier]] = defaultdict(list)
    for row in rows:
        earlier = Earlier(*row)
        found[earlier.branch_id].append(earlier)
    return dict(found)


def twin_keys(keys: Iterable[tuple[int, date]]) -> set[tuple[int, date]]:
    """Of the (branch, meeting date) pairs given, those with two or more evaluations in force."""
    wanted = set(keys)
    if not wanted:
        return set()
    rows = db.session.execute(
        sa.select(Evaluation.branch_id, Evaluation.meeting_date)
        .where(
            among(Evaluation.branch_id, {b for b, _ in wanted}),
            among(Evaluation.meeting_date, {d for _, d in wanted}),
            not_superseded(),
        )
        .group_by(Evaluation.branch_id, Evaluation.meeting_date)
        .having(sa.func.count() > 1)
    )
    return {(branch_id, day) for branch_id, day in rows} & wanted


def twin_dates(branch_id: int) -> set[date]:
    """The meeting dates of ``branch_id`` that two or more evaluations in force share."""
    return set(
        db.session.scalars(
            sa.select(Evaluation.meeting_date)
            .where(Evaluation.branch_id == branch_id, not_superseded())
            .group_by(Evaluation.meeting_date)
            .having(sa.func.count() > 1)
        )
    )


@dataclass(frozen=True)
class Warning:
    """One earlier evaluation as the cadre's warning names it."""

    earlier: Earlier
    mine: bool
    correctable: bool


def warnings_for(
    branch_id: int,
    meeting_date: date | None,
    *,
    user_id: int,
    now: datetime,
    correction_hours: int,
    excluding: str | None = None,
) -> list[Warning]:
    """What to tell a cadre about to evaluate ``branch_id``'s meeting of ``meeting_date``.

    Another cadre's evaluation is named by who sent it and when only; the cadre's own says
    whether it can still be corrected (the server's clock, as the correction flow decides).
    """
    if meeting_date is None:
        return []
    return [
        Warning(
            earlier=earlier,
            mine=earlier.cadre_id == user_id,
            correctable=earlier.cadre_id == user_id
            and correction_open(earlier.received_at, now, correction_hours),
        )
        for earlier in same_meeting(branch_id, meeting_date, excluding=excluding)
    ]
