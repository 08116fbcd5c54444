"""The SQL forms of the flag rules equal the pure ones of ``coso.judging.flags``.

The sync recomputes a branch from its run when an older meeting arrives; the
database finds the run there (``queries.current_runs``) and ``flags.run_state``
says what it means. These tests store generated histories (same-day and
same-time ties, corrections) and hold the database's answer, and the sync's
path through it (``service.record_many``), to ``flags.compute_state``; and the
SQL form of the overdue rule (``queries.Thresholds.state_expr`` and
``since_expr``) to ``flags.effective_state``. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coso.extensions import db
from coso.judging import flags, queries, service
from coso.judging.scoring import Settings
from coso.models import BranchStatus, Evaluation, Unit
from tests.builders import small_province, with_checklist

D0 = date(2026, 3, 2)
T0 = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)


@st.composite
def histories(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Up to 12 evaluations of one branch; some later ones correct an earlier one."""
    size = draw(st.integers(0, 12))
    uuids = draw(
        st.lists(
            st.text("0123456789abcdef", min_size=1, max_size=3),
            min_size=size,
            max_size=size,
            unique=True,
        )
    )
    rows: list[dict[str, Any]] = []
    corrected: set[int] = set()
    # Mostly compliant, mixed or mostly not: long agreeing runs are the interesting ones.
    leaning = draw(st.sampled_from([1, 5, 9]))
    for index, uuid in enumerate(uuids):
        compliant = draw(st.integers(0, 9)) < leaning
        row = {
            "uuid": uuid,
            "meeting_date": D0 + timedelta(days=7 * draw(st.integers(0, 4))),
            "submitted_at": T0 + timedelta(hours=draw(st.integers(0, 2))),
            "compliant": compliant,
            "serious": not compliant and draw(st.booleans()),
            "supersedes": None,
        }
        # Now and then a correction of an earlier, not yet corrected evaluation.
        candidates = [i for i in range(index) if i not in corrected]
        if candidates and draw(st.integers(0, 3)) == 0:
            target = draw(st.sampled_from(candidates))
            corrected.add(target)
            row["supersedes"] = target
        rows.append(row)
    return rows


def _evaluation(
    row: dict[str, Any], uuid: str, branch_id: int, cadre_id: int, template_id: int
) -> Evaluation:
    """A stored evaluation of a generated row (its correction link is set by the caller)."""
    return Evaluation(
        uuid=uuid,
        content_hash="0" * 64,
        branch_id=branch_id,
        cadre_id=cadre_id,
        template_id=template_id,
        meeting_date=row["meeting_date"],
        meeting_type="regular",
        mode="in_person",
        members_total=10,
        members_present=8,
        submitted_at=row["submitted_at"],
        received_at=T0,
        compliant=row["compliant"],
        serious=row["serious"],
        score=50.0,
        reasons=[] if row["compliant"] else [{"rule": "score"}],
    )


def _store(rows: list[dict[str, Any]], branch_id: int, cadre_id: int, template_id: int) -> None:
    ids: list[int] = []
    for row in rows:
        evaluation = _evaluation(
            row, f"{branch_id}-{row['uuid']}", branch_id, cadre_id, template_id
        )
        if row["supersedes"] is not None:
            evaluation.supersedes_id = ids[row["supersedes"]]
        db.session.add(evaluation)
        db.session.flush()
        ids.append(evaluation.id)


#: The columns of an evaluation that ``service.record_many`` reads (as the sync passes them).
_ROW_KEYS = (
    "id",
    "branch_id",
    "supersedes_id",
    "meeting_date",
    "submitted_at",
    "uuid",
    "compliant",
    "serious",
    "reasons",
    "score",
)


def _stored_state(branch_id: int) -> tuple[Any, ...]:
    """The branch's status row as stored, in ``_comparable``'s order."""
    row = db.session.scalars(
        sa.select(BranchStatus)
        .where(BranchStatus.branch_id == branch_id)
        .execution_options(populate_existing=True)
    ).one()
    return (
        row.state,
        row.since,
        row.evaluation_id,
        row.last_meeting_date,
        row.streak,
        row.serious,
    )


def _comparable(state: flags.BranchState) -> tuple[Any, ...]:
    return (
        state.state,
        state.since,
        state.evaluation_id,
        state.last_meeting_date,
        state.streak,
        state.serious,
    )


def _state_of(run: queries.Run | None) -> flags.BranchState:
    """What the rules make of a run the database found (no run: never evaluated)."""
    if run is None:
        return flags.NEVER_STATE
    return flags.run_state(run.latest, length=run.length, since=run.since)


def test_current_runs_equal_compute_state(app: Flask) -> None:
    """With and without a lower bound on the meetings read (``record_many`` passes one)."""
    with app.app_context():
        data = with_checklist(small_province())
        branches = [branch.id for branch in data["branches"]]
        cadre_id = data["users"]["cadre"].id
        template_id = data["template"].id
        weeks = st.one_of(st.none(), st.integers(0, 5))

        @settings(
            max_examples=80,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        )
        @given(first=histories(), second=histories(), bound_weeks=st.tuples(weeks, weeks))
        def check(
            first: list[dict[str, Any]],
            second: list[dict[str, Any]],
            bound_weeks: tuple[int | None, int | None],
        ) -> None:
            try:
                _store(first, branches[0], cadre_id, template_id)
                _store(second, branches[1], cadre_id, template_id)
                bounds = {
                    branch_id: D0 + timedelta(days=7 * week)
                    for branch_id, week in zip(branches, bound_weeks, strict=False)
                    if week is not None
                }
                runs = queries.current_runs(branches, bounds or None)
                for branch_id in branches:
                    bound = bounds.get(branch_id, date.min)
                    read = [
                        ev
                        for ev in queries.history(branch_id)
                        if not ev.superseded and ev.meeting_date >= bound
                    ]
                    expected = flags.compute_state(read)
                    found = _state_of(runs.get(branch_id))
                    assert _comparable(found) == _comparable(expected)
                    assert found.latest_key == expected.latest_key
                    run = runs.get(branch_id)
                    if run is not None:
                        disagrees = any(ev.compliant != run.latest.compliant for ev in read)
                        assert run.closed == disagrees
            finally:
                db.session.rollback()

        check()
        # And nothing was left behind by the examples.
        assert db.session.scalar(sa.select(sa.func.count(Evaluation.id))) == 0


@st.composite
def arrivals(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A stored history, then a batch arriving late: older meetings, newer ones, corrections."""
    old = draw(histories())
    new = draw(histories())
    corrections = draw(st.booleans())  # a batch with corrections, or only new meetings
    for row in new:
        row["supersedes"] = None
        if corrections and old and draw(st.integers(0, 3)) == 0:
            free = [i for i in range(len(old)) if i not in _targets(old, new)]
            if free:
                row["supersedes"] = ("old", draw(st.sampled_from(free)))
    return old, new


def _targets(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> set[int]:
    taken = {row["supersedes"] for row in old if row["supersedes"] is not None}
    taken |= {row["supersedes"][1] for row in new if isinstance(row["supersedes"], tuple)}
    return taken


def test_record_many_equals_compute_state(app: Flask) -> None:
    """The sync's path (stored state, then a batch folded in) ends where a recompute does."""
    with app.app_context():
        data = with_checklist(small_province())
        branch_id = data["branches"][0].id
        cadre_id = data["users"]["cadre"].id
        template_id = data["template"].id

        @settings(
            max_examples=120,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        )
        @given(arrival=arrivals())
        def check(arrival: tuple[list[dict[str, Any]], list[dict[str, Any]]]) -> None:
            old, new = arrival
            try:
                _store(old, branch_id, cadre_id, template_id)
                service.recompute(branch_id)
                old_ids = [
                    ev_id
                    for (ev_id,) in db.session.execute(
                        sa.select(Evaluation.id)
                        .where(Evaluation.branch_id == branch_id)
                        .order_by(Evaluation.id)
                    )
                ]
                rows = []
                for row in new:
                    target = row["supersedes"]
                    evaluation = _evaluation(
                        row, f"new-{row['uuid']}", branch_id, cadre_id, template_id
                    )
                    if target:
                        evaluation.supersedes_id = old_ids[target[1]]
                    db.session.add(evaluation)
                    db.session.flush()
                    rows.append({key: getattr(evaluation, key) for key in _ROW_KEYS})
                if rows:
                    service.record_many(rows)
                expected = flags.compute_state(queries.history(branch_id))
                assert _stored_state(branch_id) == _comparable(expected)
            finally:
                db.session.rollback()

        check()


def _meeting(week: int, compliant: bool, hour: int = 0) -> dict[str, Any]:
    return {
        "uuid": f"w{week}h{hour}{'ok' if compliant else 'no'}",
        "meeting_date": D0 + timedelta(days=7 * week),
        "submitted_at": T0 + timedelta(hours=hour),
        "compliant": compliant,
        "serious": False,
        "supersedes": None,
    }


@pytest.mark.parametrize(
    ("old", "late", "expected"),
    [
        # A late meeting inside a non-compliant run lengthens it: repeat, streak 3.
        ([(0, False), (2, False)], [(1, False)], (flags.REPEAT, 0, 3)),
        # Older than the whole run and agreeing: the run now starts with it.
        ([(1, False), (2, False)], [(0, False)], (flags.REPEAT, 0, 3)),
        # Inside a compliant run: nothing moves.
        ([(0, True), (2, True)], [(1, True)], (flags.OK, 0, 0)),
        # Disagreeing, inside the run: the run now starts after it.
        ([(0, False), (2, False)], [(1, True)], (flags.FLAGGED, 2, 1)),
        # Two late meetings, one agreeing and one older than the breaker.
        ([(0, True), (2, False), (3, False)], [(1, False), (0, False)], (flags.REPEAT, 0, 4)),
    ],
)
def test_record_many_with_late_meetings(
    app: Flask,
    old: list[tuple[int, bool]],
    late: list[tuple[int, bool]],
    expected: tuple[str, int, int],
) -> None:
    """Hand cases of the path that reads only meetings from the oldest late one on."""
    with app.app_context():
        data = with_checklist(small_province())
        branch_id = data["branches"][0].id
        cadre_id = data["users"]["cadre"].id
        template_id = data["template"].id
        _store([_meeting(w, ok) for w, ok in old], branch_id, cadre_id, template_id)
        service.recompute(branch_id)
        rows = []
        for w, ok in late:
            evaluation = _evaluation(
                _meeting(w, ok, hour=1), f"late-{w}-{ok}", branch_id, cadre_id, template_id
            )
            db.session.add(evaluation)
            db.session.flush()
            rows.append({key: getattr(evaluation, key) for key in _ROW_KEYS})
        service.record_many(rows)
        stored = _stored_state(branch_id)
        state, since_week, streak = expected
        assert (stored[0], stored[1], stored[4]) == (
            state,
            D0 + timedelta(days=7 * since_week),
            streak,
        )
        assert _comparable(flags.compute_state(queries.history(branch_id))) == stored


def test_effective_state_expr_equals_effective_state(app: Flask) -> None:
    """The overdue rule in SQL shows each stored row as the pure rule does, at the boundaries."""
    with app.app_context():
        branch_id = small_province()["branches"][0].id
        today = date(2026, 6, 15)

        @settings(
            max_examples=60,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        )
        @given(
            state=st.sampled_from((flags.OK, flags.FLAGGED, flags.REPEAT, flags.NEVER, None)),
            overdue_days=st.integers(1, 120),
            offset=st.integers(-2, 2),
        )
        def check(state: str | None, overdue_days: int, offset: int) -> None:
            try:
                row = None
                if state is not None:  # None: the branch has no status row at all
                    last = None
                    if state != flags.NEVER:
                        last = today - timedelta(days=overdue_days + offset)
                    row = BranchStatus(
                        branch_id=branch_id,
                        state=state,
                        since=last and last - timedelta(days=30),
                        last_meeting_date=last,
                        streak=0,
                        serious=False,
                        reasons=[],
                    )
                    db.session.add(row)
                    db.session.flush()
                resolved = queries.Thresholds(Settings(overdue_days=overdue_days))
                shown = db.session.execute(
                    sa.select(resolved.state_expr(today), resolved.since_expr(today))
                    .select_from(Unit)
                    .outerjoin(BranchStatus, BranchStatus.branch_id == Unit.id)
                    .where(Unit.id == branch_id)
                ).one()
                assert tuple(shown) == flags.effective_state(row, today, overdue_days)
            finally:
                db.session.rollback()

        check()
