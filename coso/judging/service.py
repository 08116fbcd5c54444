"""Keeping each branch's flag row current, in the same transaction as its evaluations.

The rules themselves are pure (``coso.judging.flags``); this module loads and
stores them. "Overdue" is never stored (see ``coso.judging.queries``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from coso import clock
from coso.extensions import among, db
from coso.judging import flags
from coso.judging.queries import current_runs, history, thresholds
from coso.models import BranchStatus, Evaluation, Unit


def summary_of(row: Mapping[str, Any]) -> flags.EvalSummary:
    """What the flag rules need from an evaluation's columns (as ``service`` inserts them)."""
    return flags.EvalSummary(
        id=row["id"],
        meeting_date=row["meeting_date"],
        submitted_at=row["submitted_at"],
        uuid=row["uuid"],
        compliant=row["compliant"],
        serious=row["serious"],
        reasons=tuple(row["reasons"] or ()),
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
    # executemany of one cached statement (a multi-row VALUES would be compiled anew for
    # each batch size).
    db.session.connection().execute(
        insert(BranchStatus.__table__).on_conflict_do_nothing(index_elements=["branch_id"]),
        [
            {"branch_id": i, "state": flags.NEVER, "streak": 0, "serious": False, "reasons": []}
            for i in ids
        ],
    )
    db.session.execute(
        sa.select(BranchStatus.branch_id)
        .where(among(BranchStatus.branch_id, ids))
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


def record_many(evaluations: list[dict[str, Any]]) -> None:
    """Fold a batch's just-inserted evaluations (their columns, with ``id``) into their branches.

    The rows must already be locked (``lock_rows``). Each branch is read once and
    written once, however many of its evaluations the batch holds; branches that
    received an older meeting or a correction are recomputed from their histories,
    all in one query. Reads and writes are plain statements (one each for the
    batch), not ORM objects.
    """
    by_branch: dict[int, list[dict[str, Any]]] = {}
    for evaluation in evaluations:
        by_branch.setdefault(evaluation["branch_id"], []).append(evaluation)
    if not by_branch:
        return
    table = BranchStatus.__table__
    rows = db.session.execute(
        sa.select(
            table.c.branch_id,
            table.c.state,
            table.c.since,
            table.c.evaluation_id,
            table.c.last_meeting_date,
            table.c.streak,
            table.c.serious,
            Evaluation.meeting_date,
            Evaluation.submitted_at,
            Evaluation.uuid,
        )
        .outerjoin(Evaluation, Evaluation.id == table.c.evaluation_id)
        .where(among(table.c.branch_id, sorted(by_branch)))
    ).all()
    states: dict[int, flags.BranchState] = {}
    stale: dict[int, flags.BranchState] = {}  # an older meeting or a correction arrived
    bounds: dict[int, date] = {}
    for branch_id, st, since, ev_id, last, streak, serious, meeting, submitted, uuid in rows:
        latest_key = None
        if ev_id is not None and meeting is not None:
            latest_key = flags.sort_key(
                flags.EvalSummary(ev_id, meeting, submitted, uuid, True, False)
            )
        stored = flags.BranchState(st, since, ev_id, last, streak, serious, (), latest_key)
        new_ones = sorted(by_branch[branch_id], key=lambda ev: flags.sort_key(summary_of(ev)))
        state: flags.BranchState | None = stored
        for evaluation in new_ones:
            if state is None or evaluation["supersedes_id"] is not None:
                state = None
                break
            state = flags.apply_evaluation(state, summary_of(evaluation))
        if state is not None:
            states[branch_id] = state
            continue
        stale[branch_id] = stored
        # Meetings older than the oldest new one cannot move the run's end, unless a
        # correction took an evaluation out: then the whole history is read.
        if stored.since is not None and all(ev["supersedes_id"] is None for ev in new_ones):
            bounds[branch_id] = new_ones[0]["meeting_date"]
    runs = current_runs(stale, bounds)
    for branch_id, stored in stale.items():
        run = runs.get(branch_id)
        if run is None:  # corrections took every evaluation out
            states[branch_id] = flags.NEVER_STATE
            continue
        length, since = run.length, run.since
        bound = bounds.get(branch_id)
        if (
            bound is not None
            and not run.closed
            and stored.since is not None
            and stored.since < bound
        ):
            # Every meeting read agrees, and the stored run reaches below them: the run is
            # the stored one, grown by this batch's evaluations (all of which it holds).
            length, since = stored.streak + len(by_branch[branch_id]), stored.since
        states[branch_id] = flags.run_state(run.latest, length=length, since=since)

    # The deciding evaluation gives the row its score and reasons: the batch's own, or
    # (when an older one still decides) read once for all such branches.
    mine = {evaluation["id"]: evaluation for evaluation in evaluations}
    others = sorted(
        {s.evaluation_id for s in states.values() if s.evaluation_id is not None} - set(mine)
    )
    details: dict[int, tuple[float | None, list[Any]]] = {}
    if others:
        details = {
            ev_id: (score, reasons or [])
            for ev_id, score, reasons in db.session.execute(
                sa.select(Evaluation.id, Evaluation.score, Evaluation.reasons).where(
                    among(Evaluation.id, others)
                )
            )
        }
    updates = []
    for branch_id, state in sorted(states.items()):
        score: float | None = None
        reasons: list[Any] = []
        if state.evaluation_id in mine:
            decider = mine[state.evaluation_id]
            score, reasons = decider["score"], list(decider["reasons"] or [])
        elif state.evaluation_id is not None:
            score, reasons = details.get(state.evaluation_id, (None, []))
        updates.append(
            {
                "b_branch_id": branch_id,
                "b_state": state.state,
                "b_since": state.since,
                "b_evaluation_id": state.evaluation_id,
                "b_last_meeting_date": state.last_meeting_date,
                "b_streak": state.streak,
                "b_serious": state.serious,
                "b_reasons": reasons,
                "b_score": score,
            }
        )
    db.session.connection().execute(_UPDATE_STATUS, updates)
    # Status rows this session had loaded as objects would now be stale.
    session = db.session()
    for branch_id in states:
        loaded = session.identity_map.get(sa.orm.util.identity_key(BranchStatus, branch_id))
        if loaded is not None:
            session.expire(loaded)


_UPDATE_STATUS = (
    sa.update(BranchStatus.__table__)
    .where(BranchStatus.__table__.c.branch_id == sa.bindparam("b_branch_id"))
    .values(
        {
            name: sa.bindparam(f"b_{name}")
            for name in (
                "state",
                "since",
                "evaluation_id",
                "last_meeting_date",
                "streak",
                "serious",
                "reasons",
                "score",
            )
        }
    )
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
    today = today or clock.today()
    counts: Counter[str] = Counter()
    branches = db.session.scalars(sa.select(Unit).where(Unit.kind == "branch")).all()
    resolved = thresholds(branch.id for branch in branches)
    for branch in branches:
        row = recompute(branch.id)
        counts[resolved.effective_state(row, branch.path, today)[0]] += 1
    return counts
