"""Reading the branches' answers: the inbox, corrective actions, replies, one evaluation's.

Every list starts from a unit's subtree (one indexed path range) and reads a page
at a time; the alert counts beside each branch come from :mod:`coso.feedback.alerts`.
:mod:`coso.feedback.rules` says in Python what these say in SQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from coso.evaluations.queries import superseded
from coso.extensions import among, db
from coso.feedback import rules
from coso.feedback.alerts import alerts_for, unread_clause
from coso.feedback.rules import DECLINED, DONE, OPEN, PROPOSED, Alerts
from coso.judging.queries import thresholds
from coso.models import BranchStatus, CorrectiveAction, Evaluation, Feedback, Unit, User
from coso.web import Page, paginate

PAGE_SIZE = 20

#: The filters of the actions list, in the order of its tabs.
ACTION_FILTERS = (OPEN, rules.OVERDUE, PROPOSED, DONE, DECLINED, "all")


# --------------------------------------------------------------------- inbox


@dataclass
class InboxRow:
    """One evaluation in a secretary's inbox."""

    id: int
    branch_id: int
    branch_name: str
    meeting_date: date
    received_at: datetime
    score: float | None
    compliant: bool
    serious: bool
    reasons: list[dict[str, Any]]
    cadre: str
    acknowledged_at: datetime | None
    replied_at: datetime | None
    superseded: bool
    state: str

    @property
    def unread(self) -> bool:
        return rules.is_unread(self.acknowledged_at is not None, self.superseded)


@dataclass(frozen=True)
class InboxPage(Page[InboxRow]):
    """A page of the inbox with the alerts of its branches."""

    alerts: dict[int, Alerts] = field(default_factory=dict)


def inbox(
    unit: Unit, today: date, *, unread_only: bool = False, page: int = 1, size: int = PAGE_SIZE
) -> InboxPage:
    """Evaluations of the branches under ``unit``, newest received first, with branch states.

    Four queries: the count, the page's ids (an index read of the subtree's evaluations, no
    join but the filter's), the page's rows (joined to branch, cadre, feedback and status
    rows by id) and the alerts of the page's branches. Joined before the page is cut, a
    commune's four years (5,600 evaluations) were each joined to their cadre, feedback and
    branch to show 20: the page grew with the history (issue 22, item 2).
    """
    resolved = thresholds(unit)  # each branch by its own settings
    state = resolved.state_expr(today)
    ids = (
        sa.select(Evaluation.id)
        .join(Unit, Unit.id == Evaluation.branch_id)
        .where(unit.subtree_clause())
        .order_by(Evaluation.received_at.desc(), Evaluation.id.desc())
    )
    if unread_only:
        ids = ids.outerjoin(Feedback, Feedback.evaluation_id == Evaluation.id).where(
            unread_clause()
        )
    chosen = paginate(ids, page, size, scalars=True)
    query = (
        sa.select(
            Evaluation.id,
            Evaluation.branch_id,
            Unit.name,
            Evaluation.meeting_date,
            Evaluation.received_at,
            Evaluation.score,
            Evaluation.compliant,
            Evaluation.serious,
            Evaluation.reasons,
            User.display_name,
            Feedback.acknowledged_at,
            Feedback.replied_at,
            superseded(),
            state,
        )
        .select_from(Evaluation)
        .join(Unit, Unit.id == Evaluation.branch_id)
        .join(User, User.id == Evaluation.cadre_id)
        .outerjoin(Feedback, Feedback.evaluation_id == Evaluation.id)
        .outerjoin(BranchStatus, BranchStatus.branch_id == Evaluation.branch_id)
        .where(among(Evaluation.id, chosen.rows))
    )
    by_id = {r[0]: r for r in db.session.execute(query)} if chosen.rows else {}
    # An evaluation gone between the two reads (none is ever deleted today) is left out.
    found = replace(chosen, rows=[_inbox_row(by_id[i]) for i in chosen.rows if i in by_id])
    alerts = alerts_for({row.branch_id for row in found.rows}, today, resolved)
    return InboxPage(**vars(found), alerts=alerts)


def _inbox_row(r: Any) -> InboxRow:
    return InboxRow(
        id=r[0],
        branch_id=r[1],
        branch_name=r[2],
        meeting_date=r[3],
        received_at=r[4],
        score=r[5],
        compliant=r[6],
        serious=r[7],
        reasons=list(r[8] or []),
        cadre=r[9],
        acknowledged_at=r[10],
        replied_at=r[11],
        superseded=bool(r[12]),
        state=r[13],
    )


# ------------------------------------------------------------------- actions


@dataclass
class ActionRow:
    action: CorrectiveAction
    branch_name: str
    shown: str  # rules.SHOWN_STATUSES


@dataclass(frozen=True)
class ActionsPage(Page[ActionRow]):
    """A page of the actions list with how many actions each of its tabs holds."""

    counts: dict[str, int] = field(default_factory=dict)


def _action_filter(name: str, today: date) -> sa.ColumnElement[bool] | None:
    a = CorrectiveAction
    if name == rules.OVERDUE:
        return sa.and_(a.status == OPEN, a.due_date < today)
    if name in (OPEN, PROPOSED, DONE, DECLINED):
        return a.status == name
    return None


def action_counts(unit: Unit, today: date) -> dict[str, int]:
    """How many actions under ``unit`` each tab of the list holds: one grouped query."""
    a = CorrectiveAction
    overdue = sa.case((sa.and_(a.status == OPEN, a.due_date < today), 1), else_=0)
    counts = dict.fromkeys(ACTION_FILTERS, 0)
    for name, n, n_overdue in db.session.execute(
        sa.select(a.status, sa.func.count(), sa.func.coalesce(sa.func.sum(overdue), 0))
        .join(Unit, Unit.id == a.branch_id)
        .where(unit.subtree_clause())
        .group_by(a.status)
    ):
        if name in counts:
            counts[name] = int(n)
        counts[rules.OVERDUE] += int(n_overdue)
        counts["all"] += int(n)
    return counts


def actions(unit: Unit, today: date, which: str = OPEN, page: int = 1) -> ActionsPage:
    """Corrective actions under ``unit``: open ones soonest due first, others newest first."""
    a = CorrectiveAction
    query = (
        sa.select(a, Unit.name)
        .join(Unit, Unit.id == a.branch_id)
        .where(unit.subtree_clause())
        .options(selectinload(a.created_by))
    )
    clause = _action_filter(which, today)
    if clause is not None:
        query = query.where(clause)
    counts = action_counts(unit, today)
    if which in (OPEN, rules.OVERDUE):
        order = [a.due_date.asc(), a.id.asc()]
    elif which in (DONE, DECLINED):
        order = [a.closed_at.desc(), a.id.desc()]
    else:
        order = [a.created_at.desc(), a.id.desc()]
    found = paginate(
        query.order_by(*order), page, PAGE_SIZE, total=counts.get(which, counts["all"])
    ).map(
        lambda row: ActionRow(
            action=row[0],
            branch_name=row[1],
            shown=rules.shown_status(row[0].status, row[0].due_date, today),
        )
    )
    return ActionsPage(**vars(found), counts=counts)


def evaluation_actions(evaluation_id: int) -> list[CorrectiveAction]:
    """The actions raised on one evaluation, in the order they were raised."""
    return list(
        db.session.scalars(
            sa.select(CorrectiveAction)
            .where(CorrectiveAction.evaluation_id == evaluation_id)
            .options(selectinload(CorrectiveAction.created_by))
            .order_by(CorrectiveAction.created_at, CorrectiveAction.id)
        )
    )


def feedback_of(evaluation_id: int) -> Feedback | None:
    return db.session.scalar(sa.select(Feedback).where(Feedback.evaluation_id == evaluation_id))


# ------------------------------------------------------------------- replies


@dataclass
class ReplyRow:
    feedback_id: int
    evaluation_id: int
    branch_name: str
    meeting_date: date
    reply: str
    replied_at: datetime | None
    read: bool
    responder: str


def replies(cadre: User, page: int = 1) -> Page[ReplyRow]:
    """A page of the replies to the cadre's own evaluations, newest first."""
    query = (
        sa.select(
            Feedback.id,
            Evaluation.id,
            Unit.name,
            Evaluation.meeting_date,
            Feedback.reply,
            Feedback.replied_at,
            Feedback.reply_read_at.is_not(None),
            User.display_name,
        )
        .select_from(Feedback)
        .join(Evaluation, Evaluation.id == Feedback.evaluation_id)
        .join(Unit, Unit.id == Evaluation.branch_id)
        .join(User, User.id == Feedback.user_id)
        .where(Evaluation.cadre_id == cadre.id, Feedback.reply.is_not(None))
    )
    return paginate(
        query.order_by(Feedback.replied_at.desc(), Feedback.id.desc()), page, PAGE_SIZE
    ).map(lambda values: ReplyRow(*values))
