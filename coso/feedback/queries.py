"""Reading the branches' answers: alerts beside a flag, notice counts, the inbox, action lists.

Every list starts from a unit's subtree (one indexed path range) and reads a page
at a time; counts are grouped queries over the branch ids being shown, never one
query per row. :mod:`coso.feedback.rules` says in Python what these say in SQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased, selectinload

from coso import scope
from coso.extensions import db
from coso.feedback import rules
from coso.feedback.rules import Alerts, Notices
from coso.judging.queries import effective_state_expr, settings_for_path, settings_for_paths
from coso.judging.scoring import Settings
from coso.models import (
    BranchStatus,
    CorrectiveAction,
    Evaluation,
    Feedback,
    Unit,
    User,
)
from coso.models.feedback import DECLINED, DONE, OPEN, PROPOSED

PAGE_SIZE = 20
_CHUNK = 500  # ids per IN list

#: The filters of the actions list, in the order of its tabs.
ACTION_FILTERS = (OPEN, rules.OVERDUE, PROPOSED, DONE, DECLINED, "all")


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def not_superseded() -> sa.ColumnElement[bool]:
    """Evaluations no correction has replaced.

    ``NOT IN`` the few corrected ids (read once from the non-null part of the unique
    ``supersedes_id`` index), not ``NOT EXISTS``: a probe per evaluation cost twice
    as much on SQLite, and over a period's many rows PostgreSQL turned the latter
    into a hash anti-join that scans every evaluation.
    """
    later = aliased(Evaluation)
    corrected = sa.select(later.supersedes_id).where(later.supersedes_id.is_not(None))
    return Evaluation.id.not_in(corrected)


def unread_clause() -> sa.ColumnElement[bool]:
    """Evaluations waiting for the secretaries: no ``Feedback`` row, not corrected.

    The query must outer-join ``Feedback`` on the evaluation.
    """
    return sa.and_(Feedback.id.is_(None), not_superseded())


# ------------------------------------------------------------------ settings


def unack_days_for(branch_ids: Iterable[int]) -> dict[int, int]:
    """``Settings.unack_days`` in force at each branch: two queries whatever the number.

    The same merge as :func:`coso.judging.queries.settings_for_path` (the deepest
    ancestor's override wins), done for many branches at once
    (:func:`coso.judging.queries.settings_for_paths`).
    """
    ids = sorted(set(branch_ids))
    paths: dict[int, str] = {}
    for chunk in _chunks(ids):
        rows = db.session.execute(sa.select(Unit.id, Unit.path).where(Unit.id.in_(chunk)))
        paths.update((unit_id, path) for unit_id, path in rows)
    settings = settings_for_paths(paths.values())
    default = Settings().unack_days
    out: dict[int, int] = {}
    for branch_id in ids:
        path = paths.get(branch_id)
        out[branch_id] = settings[path].unack_days if path is not None else default
    return out


def _cutoff_expr(days: Mapping[int, int], today: date) -> sa.ColumnElement[Any]:
    """Each evaluation's lateness cutoff: one literal when every branch shares its setting."""
    by_value: dict[int, list[int]] = {}
    for branch_id, value in days.items():
        by_value.setdefault(value, []).append(branch_id)
    common = max(by_value, key=lambda value: len(by_value[value]))

    def cutoff(value: int) -> sa.ColumnElement[Any]:
        return sa.literal(rules.unack_cutoff(today, value), Evaluation.received_at.type)

    others = [
        (Evaluation.branch_id.in_(ids), cutoff(value))
        for value, ids in sorted(by_value.items())
        if value != common
    ]
    return sa.case(*others, else_=cutoff(common)) if others else cutoff(common)


# -------------------------------------------------------------------- alerts


def alerts_for(
    branch_ids: Iterable[int],
    today: date,
    unack_days: int | Mapping[int, int] | None = None,
) -> dict[int, Alerts]:
    """Open, overdue and proposed actions and unacknowledged evaluations, per branch.

    One grouped query over the actions and one over the evaluations, whatever the
    number of branches (up to 500 per IN list). Every id asked for has an entry.

    :param unack_days: the setting to apply; by default each branch's own
        (``Settings.unack_days`` via its ancestors' overrides: two small queries).
    """
    ids = sorted(set(branch_ids))
    out = {branch_id: Alerts() for branch_id in ids}
    if not ids:
        return out
    if unack_days is None:
        days: Mapping[int, int] = unack_days_for(ids)
    elif isinstance(unack_days, int):
        days = dict.fromkeys(ids, unack_days)
    else:
        days = {bid: unack_days.get(bid, Settings().unack_days) for bid in ids}
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
            .where(action.branch_id.in_(chunk), action.status.in_((OPEN, PROPOSED)))
            .group_by(action.branch_id)
        ):
            alerts = out[branch_id]
            alerts.open_actions = int(n_open)
            alerts.overdue_actions = int(n_overdue)
            alerts.proposed_actions = int(n_proposed)
        late = Evaluation.received_at < _cutoff_expr({b: days[b] for b in chunk}, today)
        for branch_id, n_unack, n_late in db.session.execute(
            sa.select(Evaluation.branch_id, sa.func.count(), total(late))
            .outerjoin(Feedback, Feedback.evaluation_id == Evaluation.id)
            .where(Evaluation.branch_id.in_(chunk), unread_clause())
            .group_by(Evaluation.branch_id)
        ):
            out[branch_id].unacknowledged = int(n_unack)
            out[branch_id].unacknowledged_late = int(n_late)
    return out


# ------------------------------------------------------------------- notices


def notices(user: User, today: date) -> Notices:
    """The badge counts of one user, in one statement of indexed COUNTs.

    Secretaries: evaluations in their area nobody has acknowledged, and open
    actions there past their due date. Cadres: replies to their own
    evaluations they have not read.
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
        columns += [unread.scalar_subquery(), overdue.scalar_subquery()]
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
        counts["unread"], counts["overdue"] = int(values.pop(0)), int(values.pop(0))
    if scope.can(user, "evaluate"):
        counts["replies"] = int(values.pop(0))
    return Notices(**counts)


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


@dataclass
class InboxPage:
    rows: list[InboxRow]
    total: int
    page: int
    pages: int
    alerts: dict[int, Alerts]


def _pages(total: int, page: int, size: int = PAGE_SIZE) -> tuple[int, int]:
    pages = max(1, -(-total // size))
    return min(max(1, page), pages), pages


def inbox(
    unit: Unit, today: date, *, unread_only: bool = False, page: int = 1, size: int = PAGE_SIZE
) -> InboxPage:
    """Evaluations of the branches under ``unit``, newest received first, with branch states.

    Three queries: the count, the page (joined to its branch, cadre, feedback and
    status rows) and the alerts of the page's branches.
    """
    later = aliased(Evaluation)
    superseded = sa.exists().where(later.supersedes_id == Evaluation.id)
    state = effective_state_expr(today, settings_for_path(unit.path).overdue_days)
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
            superseded,
            state,
        )
        .select_from(Evaluation)
        .join(Unit, Unit.id == Evaluation.branch_id)
        .join(User, User.id == Evaluation.cadre_id)
        .outerjoin(Feedback, Feedback.evaluation_id == Evaluation.id)
        .outerjoin(BranchStatus, BranchStatus.branch_id == Evaluation.branch_id)
        .where(unit.subtree_clause())
    )
    if unread_only:
        query = query.where(unread_clause())
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    number, pages = _pages(total, page, size)
    rows = [
        InboxRow(
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
        for r in db.session.execute(
            query.order_by(Evaluation.received_at.desc(), Evaluation.id.desc())
            .limit(size)
            .offset((number - 1) * size)
        )
    ]
    alerts = alerts_for({row.branch_id for row in rows}, today)
    return InboxPage(rows=rows, total=total, page=number, pages=pages, alerts=alerts)


# ------------------------------------------------------------------- actions


@dataclass
class ActionRow:
    action: CorrectiveAction
    branch_name: str
    shown: str  # rules.SHOWN_STATUSES


@dataclass
class ActionsPage:
    rows: list[ActionRow]
    total: int
    page: int
    pages: int
    counts: dict[str, int]


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
    total = counts.get(which, counts["all"])
    number, pages = _pages(total, page)
    if which in (OPEN, rules.OVERDUE):
        order = [a.due_date.asc(), a.id.asc()]
    elif which in (DONE, DECLINED):
        order = [a.closed_at.desc(), a.id.desc()]
    else:
        order = [a.created_at.desc(), a.id.desc()]
    rows = [
        ActionRow(
            action=action,
            branch_name=name,
            shown=rules.shown_status(action.status, action.due_date, today),
        )
        for action, name in db.session.execute(
            query.order_by(*order).limit(PAGE_SIZE).offset((number - 1) * PAGE_SIZE)
        )
    ]
    return ActionsPage(rows=rows, total=total, page=number, pages=pages, counts=counts)


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


def replies(cadre: User, page: int = 1) -> tuple[list[ReplyRow], int, int, int]:
    """Replies to the cadre's own evaluations, newest first: rows, total, page, pages."""
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
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    number, pages = _pages(total, page)
    rows = [
        ReplyRow(*values)
        for values in db.session.execute(
            query.order_by(Feedback.replied_at.desc(), Feedback.id.desc())
            .limit(PAGE_SIZE)
            .offset((number - 1) * PAGE_SIZE)
        )
    ]
    return rows, total, number, pages
