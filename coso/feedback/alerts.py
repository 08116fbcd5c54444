"""What waits at a branch besides its flag: alert counts per branch, and each user's badges.

Counts are grouped queries over the branch ids being shown, never one query per
row; other areas (the province's lists, the home page) show them beside a flag.
:mod:`coso.feedback.rules` says in Python what these say in SQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

import sqlalchemy as sa

from coso import scope
from coso.evaluations.queries import not_superseded
from coso.extensions import among, db
from coso.feedback import rules
from coso.feedback.rules import OPEN, PROPOSED, Alerts, Notices
from coso.judging.queries import Thresholds, thresholds
from coso.models import CorrectiveAction, Evaluation, Feedback, Unit, User

_CHUNK = 500  # ids per IN list


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def unread_clause() -> sa.ColumnElement[bool]:
    """Evaluations waiting for the secretaries: no ``Feedback`` row, not corrected.

    The query must outer-join ``Feedback`` on the evaluation.
    """
    return sa.and_(Feedback.id.is_(None), not_superseded())


# -------------------------------------------------------------------- alerts


def alerts_for(
    branch_ids: Iterable[int],
    today: date,
    resolved: Thresholds | None = None,
) -> dict[int, Alerts]:
    """Open, overdue and proposed actions and unacknowledged evaluations, per branch.

    One grouped query over the actions and one over the evaluations, whatever the
    number of branches (up to 500 per IN list). Every id asked for has an entry.

    An evaluation is late by its branch's own ``unack_days``.

    :param resolved: the request's thresholds, covering these branches; without
        them, they are resolved here (one small query more).
    """
    ids = sorted(set(branch_ids))
    out = {branch_id: Alerts() for branch_id in ids}
    if not ids:
        return out
    resolved = resolved or thresholds(ids)
    late = Evaluation.received_at < resolved.per_branch(
        lambda s: rules.unack_cutoff(today, s.unack_days),
        lambda cutoff: sa.literal(cutoff, Evaluation.received_at.type),
    )
    action = CorrectiveAction
    is_open = action.status == OPEN

    def total(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    for chunk in _chunks(ids):
        for branch_id, n_open, n_overdue, n_proposed in db.session.execute(
            sa.select(
                action.branch_id,
                total(is_open),
                total(sa.and_(is_open, action.due_date < today)),
                total(action.status == PROPOSED),
            )
            .where(among(action.branch_id, chunk), action.status.in_((OPEN, PROPOSED)))
            .group_by(action.branch_id)
        ):
            alerts = out[branch_id]
            alerts.open_actions = int(n_open)
            alerts.overdue_actions = int(n_overdue)
            alerts.proposed_actions = int(n_proposed)
        for branch_id, n_unack, n_late in db.session.execute(
            sa.select(Evaluation.branch_id, sa.func.count(), total(late))
            .join(Unit, Unit.id == Evaluation.branch_id)  # the path that picks the setting
            .outerjoin(Feedback, Feedback.evaluation_id == Evaluation.id)
            .where(among(Evaluation.branch_id, chunk), unread_clause())
            .group_by(Evaluation.branch_id)
        ):
            out[branch_id].unacknowledged = int(n_unack)
            out[branch_id].unacknowledged_late = int(n_late)
    return out


# ------------------------------------------------------------------- notices


def notices(user: User, today: date) -> Notices:
    """The badge counts of one user, in one statement of indexed COUNTs.

    Secretaries: evaluations in their area nobody has acknowledged, open
    actions there past their due date, and cadres' proposals awaiting review.
    Cadres: replies to their own evaluations they have not read.
    """
    columns: list[Any] = []
    if scope.can(user, "respond"):
        unread = (
            sa.select(sa.func.count())
            .select_from(Evaluation)
            .join(Unit, Unit.id == Evaluation.branch_id)
            .outerjoin(Feedback, Feedback.evaluation_id == Evaluation.id)
            .where(scope.scope_clause(user), unread_clause())
        )
        overdue = (
            sa.select(sa.func.count())
            .select_from(CorrectiveAction)
            .join(Unit, Unit.id == CorrectiveAction.branch_id)
            .where(
                scope.scope_clause(user),
                CorrectiveAction.status == OPEN,
                CorrectiveAction.due_date < today,
            )
        )
        proposed = (
            sa.select(sa.func.count())
            .select_from(CorrectiveAction)
            .join(Unit, Unit.id == CorrectiveAction.branch_id)
            .where(scope.scope_clause(user), CorrectiveAction.status == PROPOSED)
        )
        columns += [s.scalar_subquery() for s in (unread, overdue, proposed)]
    if scope.can(user, "evaluate"):
        replies = (
            sa.select(sa.func.count())
            .select_from(Feedback)
            .join(Evaluation, Evaluation.id == Feedback.evaluation_id)
            .where(
                Evaluation.cadre_id == user.id,
                Feedback.reply.is_not(None),
                Feedback.reply_read_at.is_(None),
            )
        )
        columns.append(replies.scalar_subquery())
    if not columns:
        return Notices()
    values = list(db.session.execute(sa.select(*columns)).one())
    counts: dict[str, int] = {}
    if scope.can(user, "respond"):
        for name in ("unread", "overdue", "proposed"):
            counts[name] = int(values.pop(0))
    if scope.can(user, "evaluate"):
        counts["replies"] = int(values.pop(0))
    return Notices(**counts)
