"""Keeping each branch's flag current, in the same transaction as its evaluations.

The rules themselves are pure (coso.flags); this module loads and stores them.
"Overdue" depends on today's date, so it is never stored: it is applied when
read (``effective_state`` and ``effective_state_expr``), which keeps it exact
without a nightly job.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from coso import clock, flags
from coso.extensions import db
from coso.models import BranchStatus, Evaluation, Unit


def summary_of(ev: Evaluation, superseded: bool = False) -> flags.EvalSummary:
    return flags.EvalSummary(
        id=ev.id,
        meeting_date=ev.meeting_date,
        submitted_at=ev.submitted_at,
        uuid=ev.uuid,
        compliant=ev.compliant,
        serious=ev.serious,
        reasons=tuple(ev.reasons or ()),
        superseded=superseded,
    )


def _lock_row(branch_id: int) -> BranchStatus:
    """The branch's status row, created if missing, locked until the transaction ends.

    INSERT .. ON CONFLICT DO NOTHING makes two first evaluations of one branch
    race safely; FOR UPDATE serialises concurrent updates on PostgreSQL
    (SQLite already holds the write lock from the evaluation insert).
    """
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(
        insert(BranchStatus)
        .values(branch_id=branch_id, state=flags.NEVER, streak=0, serious=False, reasons=[])
        .on_conflict_do_nothing(index_elements=["branch_id"])
    )
    return db.session.scalars(
        sa.select(BranchStatus)
        .where(BranchStatus.branch_id == branch_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def lock_rows(branch_ids: Iterable[int]) -> None:
    """Create (when missing) and lock several branches' status rows at once, in branch order.

    A batch that stores evaluations of several branches takes all their rows first:
    two batches taking the same rows one by one in different orders would deadlock on
    PostgreSQL (and one of them fail); taken sorted, the second waits for the first.
    """
    ids = sorted(set(branch_ids))
    if not ids:
        return
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(
        insert(BranchStatus)
        .values(
            [
                {"branch_id": i, "state": flags.NEVER, "streak": 0, "serious": False, "reasons": []}
                for i in ids
            ]
        )
        .on_conflict_do_nothing(index_elements=["branch_id"])
    )
    db.session.execute(
        sa.select(BranchStatus.branch_id)
        .where(BranchStatus.branch_id.in_(ids))
        .order_by(BranchStatus.branch_id)
        .with_for_update()
    )


def _store(row: BranchStatus, state: flags.BranchState, score: float | None) -> None:
    row.state = state.state
    row.since = state.since
    row.evaluation_id = state.evaluation_id
    row.last_meeting_date = state.last_meeting_date
    row.streak = state.streak
    row.serious = state.serious
    row.reasons = list(state.reasons)
    row.score = score


def history(branch_id: int) -> list[flags.EvalSummary]:
    """Every evaluation of a branch, each marked superseded or not."""
    corrected = sa.select(Evaluation.supersedes_id).where(Evaluation.supersedes_id.is_not(None))
    rows = db.session.execute(
        sa.select(Evaluation, Evaluation.id.in_(corrected.scalar_subquery()))
        .where(Evaluation.branch_id == branch_id)
        # The rules need none of the answers: not loading them keeps a recompute cheap.
        .options(sa.orm.lazyload(Evaluation.answers))
        .execution_options(populate_existing=False)
    ).all()
    return [summary_of(ev, superseded=bool(sup)) for ev, sup in rows]


def record_many(evaluations: list[Evaluation]) -> None:
    """Fold a batch's just-inserted evaluations into their branches' status rows.

    The rows must already be locked (``lock_rows``). Each branch is read once and
    written once, however many of its evaluations the batch holds; a branch that
    received an older meeting or a correction is recomputed from its history.
    """
    by_branch: dict[int, list[Evaluation]] = {}
    for evaluation in evaluations:
        by_branch.setdefault(evaluation.branch_id, []).append(evaluation)
    if not by_branch:
        return
    rows = db.session.execute(
        sa.select(BranchStatus, Evaluation.meeting_date, Evaluation.submitted_at, Evaluation.uuid)
        .outerjoin(Evaluation, Evaluation.id == BranchStatus.evaluation_id)
        .where(BranchStatus.branch_id.in_(sorted(by_branch)))
        .execution_options(populate_existing=True)
    ).all()
    for row, meeting_date, submitted_at, uuid in rows:
        latest_key = None
        if row.evaluation_id is not None and meeting_date is not None:
            latest_key = flags.sort_key(
                flags.EvalSummary(row.evaluation_id, meeting_date, submitted_at, uuid, True, False)
            )
        state: flags.BranchState | None = flags.BranchState(
            state=row.state,
            since=row.since,
            evaluation_id=row.evaluation_id,
            last_meeting_date=row.last_meeting_date,
            streak=row.streak,
            serious=row.serious,
            reasons=tuple(row.reasons or ()),
            latest_key=latest_key,
        )
        new_ones = sorted(by_branch[row.branch_id], key=lambda ev: flags.sort_key(summary_of(ev)))
        for evaluation in new_ones:
            if state is None or evaluation.supersedes_id is not None:
                state = None
                break
            state = flags.apply_evaluation(state, summary_of(evaluation))
        if state is None:  # an older meeting or a correction: the whole history decides
            state = flags.compute_state(history(row.branch_id))
        scores = {ev.id: ev.score for ev in new_ones}
        _store(
            row,
            state,
            scores[state.evaluation_id] if state.evaluation_id in scores else _score_of(state),
        )


def _score_of(state: flags.BranchState) -> float | None:
    if state.evaluation_id is None:
        return None
    return db.session.scalar(
        sa.select(Evaluation.score).where(Evaluation.id == state.evaluation_id)
    )


def recompute(branch_id: int) -> BranchStatus:
    """Rebuild one branch's status from all its evaluations."""
    row = _lock_row(branch_id)
    state = flags.compute_state(history(branch_id))
    _store(row, state, _score_of(state))
    return row


def refresh_all(today: date | None = None) -> Counter[str]:
    """Recompute every branch (the ``refresh-flags`` command); returns effective-state counts."""
    from coso.settings import settings_for_path

    today = today or clock.today()
    counts: Counter[str] = Counter()
    branches = db.session.scalars(sa.select(Unit).where(Unit.kind == "branch")).all()
    for branch in branches:
        row = recompute(branch.id)
        overdue_days = settings_for_path(branch.path).overdue_days
        counts[effective_state(row, today, overdue_days)[0]] += 1
    return counts


def effective_state(
    row: BranchStatus | None, today: date, overdue_days: int
) -> tuple[str, date | None]:
    """The state a person should see today, with its since-date (coso.flags decides)."""
    if row is None:
        return flags.NEVER, None
    stored = flags.BranchState(
        row.state,
        row.since,
        row.evaluation_id,
        row.last_meeting_date,
        row.streak,
        row.serious,
        (),
        None,
    )
    return flags.effective_state(stored, today, overdue_days)


def effective_state_expr(today: date, overdue_days: int) -> sa.ColumnElement[str]:
    """``effective_state`` as SQL over an outer join of Unit and BranchStatus."""
    cutoff = today - timedelta(days=overdue_days)
    return sa.case(
        (BranchStatus.last_meeting_date.is_(None), sa.literal(flags.NEVER)),
        (BranchStatus.last_meeting_date < cutoff, sa.literal(flags.OVERDUE)),
        else_=BranchStatus.state,
    )


def count_states(unit: Unit, today: date | None = None) -> dict[str, int]:
    """Active branches under ``unit`` per effective state: one grouped query, no evaluation scan."""
    from coso.settings import settings_for_path

    today = today or clock.today()
    state = effective_state_expr(today, settings_for_path(unit.path).overdue_days)
    rows = db.session.execute(
        sa.select(state, sa.func.count())
        .select_from(Unit)
        .outerjoin(BranchStatus, BranchStatus.branch_id == Unit.id)
        .where(unit.subtree_clause(), Unit.kind == "branch", Unit.active.is_(True))
        .group_by(state)
    ).all()
    counts = dict.fromkeys(flags.STATES, 0)
    counts.update({name: n for name, n in rows})
    return counts
