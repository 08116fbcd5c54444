"""The rows of the read API, one keyset page at a time, inside the caller's area.

Every function takes the unit the caller narrowed to (already checked to lie in their area)
and reads only its subtree; visits are the one kind a user without the province's view sees
only their own of (as on /visits).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from coso import clock, scope
from coso.extensions import db
from coso.judging.queries import thresholds
from coso.models import (
    BranchStatus,
    CorrectiveAction,
    Evaluation,
    EvaluationAnswer,
    Unit,
    User,
    Visit,
)
from coso.models.units import subtree_of
from coso.read_api.params import Period, encode_cursor

Page = tuple[list[dict[str, Any]], str | None]


def _page(rows: Sequence[dict[str, Any]], limit: int, key: Any) -> Page:
    """The first ``limit`` rows and the cursor after the last, when there are more."""
    items = list(rows[:limit])
    more = len(rows) > limit
    return items, (encode_cursor(*key(items[-1])) if more and items else None)


def _day_range(column: Any, period: Period) -> list[sa.ColumnElement[bool]]:
    out = []
    if period.start:
        out.append(column >= period.start)
    if period.end:
        out.append(column <= period.end)
    return out


def _moment_range(column: Any, period: Period) -> list[sa.ColumnElement[bool]]:
    """A date period over a timestamp column (whole days, UTC)."""
    out = []
    if period.start:
        out.append(column >= datetime.combine(period.start, time(), UTC))
    if period.end:
        out.append(column < datetime.combine(period.end + timedelta(days=1), time(), UTC))
    return out


def units(root: Unit, kind: str | None, after: int | None, limit: int) -> Page:
    query = sa.select(
        Unit.id, Unit.code, Unit.name, Unit.kind, Unit.parent_id, Unit.depth, Unit.active
    ).where(subtree_of(root.path))
    if kind:
        query = query.where(Unit.kind == kind)
    if after is not None:
        query = query.where(Unit.id > after)
    rows = [dict(r._mapping) for r in db.session.execute(query.order_by(Unit.id).limit(limit + 1))]
    return _page(rows, limit, lambda r: (r["id"],))


def branches(root: Unit, state: str | None, after: int | None, limit: int) -> Page:
    today = clock.today()
    resolved = thresholds(root)
    shown = resolved.state_expr(today)
    since = resolved.since_expr(today)
    query = (
        sa.select(
            Unit.id,
            Unit.code,
            Unit.name,
            Unit.parent_id,
            Unit.active,
            Unit.member_count,
            sa.func.coalesce(shown, "never").label("state"),
            since.label("since"),
            sa.func.coalesce(BranchStatus.streak, 0).label("streak"),
            sa.func.coalesce(BranchStatus.serious, False).label("serious"),
            BranchStatus.score,
            BranchStatus.last_meeting_date,
            BranchStatus.evaluation_id.label("last_evaluation_id"),
        )
        .outerjoin(BranchStatus, BranchStatus.branch_id == Unit.id)
        .where(subtree_of(root.path), Unit.kind == "branch")
    )
    if state:
        query = query.where(sa.func.coalesce(shown, "never") == state)
    if after is not None:
        query = query.where(Unit.id > after)
    rows = [dict(r._mapping) for r in db.session.execute(query.order_by(Unit.id).limit(limit + 1))]
    return _page(rows, limit, lambda r: (r["id"],))


def _evaluation_columns() -> list[Any]:
    later = aliased(Evaluation)
    return [
        Evaluation.id,
        Evaluation.uuid,
        Evaluation.branch_id,
        Evaluation.cadre_id,
        User.display_name.label("cadre_name"),
        Evaluation.template_id,
        Evaluation.guidance_id,
        Evaluation.meeting_date,
        Evaluation.meeting_type,
        Evaluation.mode,
        Evaluation.members_total,
        Evaluation.members_present,
        Evaluation.attendance,
        Evaluation.topic_coverage,
        Evaluation.score,
        Evaluation.procedure_score,
        Evaluation.content_score,
        Evaluation.compliant,
        Evaluation.serious,
        Evaluation.reasons,
        Evaluation.topics_covered,
        Evaluation.supersedes_id,
        sa.exists()
        .where(later.supersedes_id == Evaluation.id)
        .correlate(Evaluation)
        .label("superseded"),
        Evaluation.submitted_at,
        Evaluation.received_at,
    ]


def evaluations(root: Unit, period: Period, after: int | None, limit: int) -> Page:
    query = (
        sa.select(*_evaluation_columns())
        .join(Unit, Unit.id == Evaluation.branch_id)
        .join(User, User.id == Evaluation.cadre_id)
        .where(subtree_of(root.path), *_day_range(Evaluation.meeting_date, period))
    )
    if after is not None:
        query = query.where(Evaluation.id > after)
    rows = [
        dict(r._mapping) for r in db.session.execute(query.order_by(Evaluation.id).limit(limit + 1))
    ]
    return _page(rows, limit, lambda r: (r["id"],))


def evaluation(evaluation_id: int) -> dict[str, Any] | None:
    """One evaluation with its answers (the caller checked the branch is in the area)."""
    row = db.session.execute(
        sa.select(*_evaluation_columns(), Evaluation.notes, Evaluation.good_practice)
        .join(User, User.id == Evaluation.cadre_id)
        .where(Evaluation.id == evaluation_id)
    ).first()
    if row is None:
        return None
    out = dict(row._mapping)
    out["answers"] = [
        dict(a._mapping)
        for a in db.session.execute(
            sa.select(
                EvaluationAnswer.evaluation_id,
                EvaluationAnswer.item_code,
                EvaluationAnswer.value,
                EvaluationAnswer.note,
            )
            .where(EvaluationAnswer.evaluation_id == evaluation_id)
            .order_by(EvaluationAnswer.item_code)
        )
    ]
    return out


def answers(root: Unit, period: Period, after: tuple[int, str] | None, limit: int) -> Page:
    query = (
        sa.select(
            EvaluationAnswer.evaluation_id,
            EvaluationAnswer.item_code,
            EvaluationAnswer.value,
            EvaluationAnswer.note,
        )
        .join(Evaluation, Evaluation.id == EvaluationAnswer.evaluation_id)
        .join(Unit, Unit.id == Evaluation.branch_id)
        .where(subtree_of(root.path), *_day_range(Evaluation.meeting_date, period))
    )
    if after is not None:
        query = query.where(
            sa.tuple_(EvaluationAnswer.evaluation_id, EvaluationAnswer.item_code)
            > sa.tuple_(*after)
        )
    query = query.order_by(EvaluationAnswer.evaluation_id, EvaluationAnswer.item_code)
    rows = [dict(r._mapping) for r in db.session.execute(query.limit(limit + 1))]
    return _page(rows, limit, lambda r: (r["evaluation_id"], r["item_code"]))


def actions(root: Unit, period: Period, status: str | None, after: int | None, limit: int) -> Page:
    query = (
        sa.select(
            CorrectiveAction.id,
            CorrectiveAction.branch_id,
            CorrectiveAction.evaluation_id,
            CorrectiveAction.item_code,
            CorrectiveAction.description,
            CorrectiveAction.owner,
            CorrectiveAction.due_date,
            CorrectiveAction.status,
            CorrectiveAction.created_at,
            CorrectiveAction.closed_at,
        )
        .join(Unit, Unit.id == CorrectiveAction.branch_id)
        .where(subtree_of(root.path), *_moment_range(CorrectiveAction.created_at, period))
    )
    if status:
        query = query.where(CorrectiveAction.status == status)
    if after is not None:
        query = query.where(CorrectiveAction.id > after)
    rows = [
        dict(r._mapping)
        for r in db.session.execute(query.order_by(CorrectiveAction.id).limit(limit + 1))
    ]
    return _page(rows, limit, lambda r: (r["id"],))


def sees_all_visits(user: User) -> bool:
    """The province's view of visits (the ledger) or a planner's; others read their own."""
    return scope.can(user, "evaluate_view") or scope.can_plan(user)


def visits(user: User, root: Unit, period: Period, after: int | None, limit: int) -> Page:
    query = (
        sa.select(
            Visit.id,
            Visit.user_id,
            Visit.unit_id,
            Visit.form,
            Visit.start_date,
            Visit.end_date,
            Visit.days,
            Visit.reported_at,
            Visit.evaluation_id,
        )
        .join(Unit, Unit.id == Visit.unit_id)
        .where(subtree_of(root.path), *_day_range(Visit.start_date, period))
    )
    if not sees_all_visits(user):
        query = query.where(Visit.user_id == user.id)
    if after is not None:
        query = query.where(Visit.id > after)
    rows = [dict(r._mapping) for r in db.session.execute(query.order_by(Visit.id).limit(limit + 1))]
    return _page(rows, limit, lambda r: (r["id"],))
