"""Keeping each branch's flag current, in the same transaction as its evaluations.

The rules themselves are pure (coso.flags); this module loads and stores them.
"Overdue" depends on today's date, so it is never stored: it is applied when
read (``effective_state`` and ``effective_state_expr``), which keeps it exact
without a nightly job.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from coso import clock, flags
from coso.extensions import db
from coso.models import BranchStatus, Evaluation, Unit

_CHUNK = 500  # ids per IN (...)


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
    return histories([branch_id], with_reasons=True)[branch_id]


def histories(
    branch_ids: Iterable[int], *, with_reasons: bool = False
) -> dict[int, list[flags.EvalSummary]]:
    """``history`` of several branches in one query (a list, maybe empty, for each id).

    Plain columns, not ORM objects: a branch can hold hundreds of evaluations, and
    the rules need a few fields of each. ``reasons`` only matter for the deciding
    evaluation, so they are left out unless asked for.
    """
    ids = sorted(set(branch_ids))
    out: dict[int, list[flags.EvalSummary]] = {branch_id: [] for branch_id in ids}
    corrected = sa.select(Evaluation.supersedes_id).where(Evaluation.supersedes_id.is_not(None))
    columns: list[Any] = [
        Evaluation.branch_id,
        Evaluation.id,
        Evaluation.meeting_date,
        Evaluation.submitted_at,
        Evaluation.uuid,
        Evaluation.compliant,
        Evaluation.serious,
        Evaluation.id.in_(corrected.scalar_subquery()),
    ]
    if with_reasons:
        columns.append(Evaluation.reasons)
    for start in range(0, len(ids), _CHUNK):
        rows = db.session.execute(
            sa.select(*columns).where(Evaluation.branch_id.in_(ids[start : start + _CHUNK]))
        )
        for branch_id, ev_id, meeting, submitted, uuid, compliant, serious, sup, *rest in rows:
            out[branch_id].append(
                flags.EvalSummary(
                    id=ev_id,
                    meeting_date=meeting,
                    submitted_at=submitted,
                    uuid=uuid,
                    compliant=compliant,
                    serious=serious,
                    reasons=tuple(rest[0] or ()) if rest else (),
                    superseded=bool(sup),
                )
            )
    return out


def current_runs(
    branch_ids: Iterable[int], since: Mapping[int, date] | None = None
) -> dict[int, tuple[flags.BranchState, bool]]:
    """``flags.compute_state`` of several branches, worked out by the database.

    The state depends only on the latest evaluation and the unbroken run of
    evaluations that agree with it. The database ranks each branch's evaluations
    newest first (window functions) and returns one row per branch: the latest
    evaluation, and the length and first meeting date of its run. ``reasons`` are
    left empty (the caller takes them from the deciding evaluation) and
    ``latest_key`` is None.

    With ``since``, a branch's evaluations of meetings before its date are left out
    (``record_many`` knows they cannot change); the run found is then the run among
    the rest. Each state comes with whether its run ended on an evaluation that
    disagrees (True) or on the oldest one read (False). Held to ``compute_state``
    by ``tests/test_status_runs.py``.
    """
    ids = sorted(set(branch_ids))
    out = {branch_id: (flags.NEVER_STATE, False) for branch_id in ids}
    corrected = sa.select(Evaluation.supersedes_id).where(Evaluation.supersedes_id.is_not(None))
    newest_first = (
        Evaluation.meeting_date.desc(),
        Evaluation.submitted_at.desc(),
        Evaluation.uuid.desc(),
    )
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        conditions = [Evaluation.branch_id.in_(chunk), Evaluation.id.not_in(corrected)]
        bounds = {b: since[b] for b in chunk if since and b in since}
        if bounds:
            conditions.append(
                Evaluation.meeting_date
                >= sa.case(bounds, value=Evaluation.branch_id, else_=sa.literal(date.min))
            )
        window = {"partition_by": Evaluation.branch_id, "order_by": newest_first}
        numbered = (
            sa.select(
                Evaluation.branch_id,
                Evaluation.id,
                Evaluation.meeting_date,
                Evaluation.compliant,
                Evaluation.serious,
                sa.func.row_number().over(**window).label("rn"),
                sa.func.first_value(Evaluation.compliant).over(**window).label("latest_ok"),
            )
            .where(*conditions)
            .subquery("numbered")
        )
        ranked = sa.select(
            numbered,
            # How many evaluations from the latest down to this one disagree with it:
            # the run is the rows where that is still 0.
            sa.func.sum(sa.case((numbered.c.compliant != numbered.c.latest_ok, 1), else_=0))
            .over(partition_by=numbered.c.branch_id, order_by=numbered.c.rn, rows=(None, 0))
            .label("broken"),
        ).subquery("ranked")
        in_run = ranked.c.broken == 0
        first = ranked.c.rn == 1
        rows = db.session.execute(
            sa.select(
                ranked.c.branch_id,
                sa.func.sum(sa.case((in_run, 1), else_=0)),
                sa.func.min(sa.case((in_run, ranked.c.meeting_date))),
                sa.func.max(ranked.c.broken),
                sa.func.max(sa.case((first, ranked.c.id))),
                sa.func.max(sa.case((first, ranked.c.meeting_date))),
                sa.func.max(sa.case((sa.and_(first, ranked.c.compliant), 1), else_=0)),
                sa.func.max(sa.case((sa.and_(first, ranked.c.serious), 1), else_=0)),
            ).group_by(ranked.c.branch_id)
        ).all()
        for branch_id, length, since_date, broken, ev_id, last, ok, grave in rows:
            state = _run_state(
                bool(ok), bool(grave), ev_id, last, since=since_date, length=int(length)
            )
            out[branch_id] = (state, bool(broken))
    return out


def _run_state(
    ok: bool, serious: bool, evaluation_id: int, last: date, *, since: date, length: int
) -> flags.BranchState:
    """The state of a run of ``length`` evaluations that agree with the latest one."""
    streak = 0 if ok else length
    return flags.BranchState(
        state=flags.OK if ok else flags.REPEAT if streak >= flags.REPEAT_STREAK else flags.FLAGGED,
        since=since,
        evaluation_id=evaluation_id,
        last_meeting_date=last,
        streak=streak,
        serious=serious,
        reasons=(),
        latest_key=None,
    )


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
        .where(table.c.branch_id.in_(sorted(by_branch)))
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
    for branch_id, (state, closed) in current_runs(stale, bounds).items():
        stored = stale[branch_id]
        bound = bounds.get(branch_id)
        if bound is not None and not closed and stored.since is not None and stored.since < bound:
            # Every meeting read agrees, and the stored run reaches below them: the run is
            # the stored one, grown by this batch's evaluations (all of which it holds).
            state = _run_state(
                state.state == flags.OK,
                state.serious,
                state.evaluation_id,  # type: ignore[arg-type]
                state.last_meeting_date,  # type: ignore[arg-type]
                since=stored.since,
                length=stored.streak + len(by_branch[branch_id]),
            )
        states[branch_id] = state

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
                    Evaluation.id.in_(others)
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
