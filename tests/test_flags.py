"""A branch's flag state: hand cases, and properties over random arrival orders."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coso.judging.flags import (
    FLAGGED,
    NEVER,
    NEVER_STATE,
    OK,
    OVERDUE,
    REPEAT,
    BranchState,
    EvalSummary,
    apply_evaluation,
    compute_state,
    effective_state,
    sort_key,
)

D0 = date(2026, 1, 5)
T0 = datetime(2026, 1, 5, 20, 0)
BAD_REASONS = ({"rule": "critical", "items": ["P10"], "value": None, "threshold": None},)


def day(n: int) -> date:
    """The meeting date ``n`` days after D0."""
    return D0 + timedelta(days=n)


def ev(
    id: int,
    meeting_day: int,
    compliant: bool = True,
    *,
    serious: bool = False,
    submitted_hour: int | None = None,
    uuid: str | None = None,
    superseded: bool = False,
) -> EvalSummary:
    """An evaluation of a meeting ``meeting_day`` days after D0, submitted that evening."""
    return EvalSummary(
        id=id,
        meeting_date=day(meeting_day),
        submitted_at=datetime.combine(day(meeting_day), T0.time())
        + timedelta(hours=submitted_hour or 0),
        uuid=uuid or f"uuid-{id:04d}",
        compliant=compliant,
        serious=serious,
        reasons=() if compliant else BAD_REASONS,
        superseded=superseded,
    )


def fold(arrivals: list[EvalSummary]) -> list[BranchState]:
    """The state after each arrival, updating incrementally as the app does."""
    state, arrived, states = NEVER_STATE, [], []
    for item in arrivals:
        arrived.append(item)
        new = apply_evaluation(state, item)
        state = compute_state(arrived) if new is None else new
        states.append(state)
    return states


# (history, state, since, deciding evaluation id, streak)
CASES = [
    pytest.param([], NEVER, None, None, 0, id="never"),
    pytest.param([ev(1, 0)], OK, day(0), 1, 0, id="ok"),
    pytest.param([ev(1, 0), ev(2, 30)], OK, day(0), 2, 0, id="ok-since-first-of-run"),
    pytest.param([ev(1, 0, False)], FLAGGED, day(0), 1, 1, id="flagged"),
    pytest.param([ev(1, 0), ev(2, 30, False)], FLAGGED, day(30), 2, 1, id="ok-then-flagged"),
    pytest.param([ev(1, 0, False), ev(2, 30, False)], REPEAT, day(0), 2, 2, id="repeat"),
    pytest.param(
        [ev(1, 0), ev(2, 30, False), ev(3, 60, False), ev(4, 90, False)],
        REPEAT,
        day(30),
        4,
        3,
        id="repeat-since-first-of-run",
    ),
    pytest.param(
        [ev(1, 0, False), ev(2, 30, False), ev(3, 60)], OK, day(60), 3, 0, id="back-to-ok"
    ),
    pytest.param(
        [ev(1, 0), ev(2, 30), ev(3, 60, False), ev(4, 90), ev(5, 120)],
        OK,
        day(90),
        5,
        0,
        id="ok-since-after-a-flag",
    ),
    pytest.param(
        [ev(1, 0, False), ev(2, 30), ev(3, 60, False)], FLAGGED, day(60), 3, 1, id="flag-again"
    ),
    pytest.param(
        # An older meeting arriving last changes nothing about who decides.
        [ev(2, 30, False), ev(1, 0)],
        FLAGGED,
        day(30),
        2,
        1,
        id="late-arrival-older",
    ),
    pytest.param(
        [ev(1, 0, False), ev(2, 0, submitted_hour=2), ev(3, 0, False, submitted_hour=1)],
        OK,
        day(0),
        2,
        0,
        id="same-date-later-submission-decides",
    ),
    pytest.param(
        [ev(1, 0, False, uuid="b"), ev(2, 0, uuid="a")],
        FLAGGED,
        day(0),
        1,
        1,
        id="same-date-same-time-uuid-decides",
    ),
    pytest.param(
        [ev(1, 0), ev(2, 30, False, superseded=True), ev(3, 30)],
        OK,
        day(0),
        3,
        0,
        id="superseded-ignored",
    ),
    pytest.param(
        [ev(1, 0, False), ev(2, 30, False, superseded=True)],
        FLAGGED,
        day(0),
        1,
        1,
        id="superseded-breaks-no-streak",
    ),
    pytest.param([ev(1, 0, superseded=True)], NEVER, None, None, 0, id="all-superseded"),
]


@pytest.mark.parametrize(("history", "state", "since", "evaluation_id", "streak"), CASES)
def test_compute_state(
    history: list[EvalSummary],
    state: str,
    since: date | None,
    evaluation_id: int | None,
    streak: int,
) -> None:
    result = compute_state(history)
    assert (result.state, result.since, result.evaluation_id, result.streak) == (
        state,
        since,
        evaluation_id,
        streak,
    )
    # The same answer whatever order the evaluations arrived in, incrementally or not.
    for order in itertools.permutations(history):
        assert compute_state(order) == result
        states = fold(list(order))
        assert (states[-1] if states else NEVER_STATE) == result


def test_never_state_is_empty() -> None:
    assert compute_state([]) == NEVER_STATE
    assert (NEVER_STATE.state, NEVER_STATE.latest_key, NEVER_STATE.streak) == (NEVER, None, 0)


def test_latest_evaluation_carries_reasons_serious_and_meeting_date() -> None:
    latest = ev(2, 45, False, serious=True)
    state = compute_state([ev(1, 0), latest])
    assert state.serious is True
    assert state.reasons == BAD_REASONS
    assert state.reasons[0] is not BAD_REASONS[0]  # a copy, not the caller's dict
    assert state.last_meeting_date == day(45)
    assert state.latest_key == sort_key(latest)


def test_sort_key_orders_by_date_then_submission_then_uuid() -> None:
    a = ev(1, 0, submitted_hour=3, uuid="z")
    b = ev(2, 1, submitted_hour=0, uuid="a")
    c = ev(3, 1, submitted_hour=1, uuid="a")
    d = ev(4, 1, submitted_hour=1, uuid="b")
    assert sorted([d, c, b, a], key=sort_key) == [a, b, c, d]


def test_sort_key_compares_aware_and_naive_submissions_as_utc() -> None:
    naive = ev(1, 0, submitted_hour=1)  # 21:00, taken as UTC
    hanoi = timezone(timedelta(hours=7))
    aware = dataclasses.replace(
        ev(2, 0),
        submitted_at=datetime(2026, 1, 6, 3, 30, tzinfo=hanoi),  # 20:30 UTC
    )
    assert sorted([naive, aware], key=sort_key) == [aware, naive]
    assert apply_evaluation(compute_state([naive]), aware) is None


@pytest.mark.parametrize(
    ("prev", "new", "expected"),
    [
        pytest.param([], ev(1, 0, False), (FLAGGED, day(0), 1), id="first"),
        pytest.param([ev(1, 0)], ev(2, 30), (OK, day(0), 0), id="ok-continues"),
        pytest.param([ev(1, 0)], ev(2, 30, False), (FLAGGED, day(30), 1), id="ok-to-flagged"),
        pytest.param([ev(1, 0, False)], ev(2, 30, False), (REPEAT, day(0), 2), id="repeat"),
        pytest.param([ev(1, 0, False)], ev(2, 30), (OK, day(30), 0), id="back-to-ok"),
    ],
)
def test_apply_evaluation_newer(
    prev: list[EvalSummary], new: EvalSummary, expected: tuple[str, date, int]
) -> None:
    state = apply_evaluation(compute_state(prev), new)
    assert state is not None
    assert (state.state, state.since, state.streak) == expected
    assert state == compute_state([*prev, new])


@pytest.mark.parametrize(
    ("prev", "new"),
    [
        pytest.param([ev(2, 30)], ev(1, 0, False), id="older-meeting"),
        pytest.param([ev(2, 30)], ev(1, 30, uuid="uuid-0000"), id="same-date-earlier-uuid"),
        pytest.param([ev(2, 30)], ev(2, 30), id="same-evaluation-again"),
        pytest.param([ev(1, 0)], ev(2, 30, superseded=True), id="superseded"),
    ],
)
def test_apply_evaluation_asks_for_a_recompute(prev: list[EvalSummary], new: EvalSummary) -> None:
    assert apply_evaluation(compute_state(prev), new) is None


def test_apply_evaluation_asks_for_a_recompute_without_a_key() -> None:
    """A state not made by this module (say, half-restored from a row) is never trusted."""
    restored = BranchState(OK, day(0), 1, day(0), 0, False, (), None)
    assert apply_evaluation(restored, ev(2, 30)) is None
    shown = dataclasses.replace(compute_state([ev(1, 0)]), state=OVERDUE)
    assert apply_evaluation(shown, ev(2, 30)) is None


@pytest.mark.parametrize(
    ("state", "today", "days", "expected"),
    [
        pytest.param([ev(1, 0)], day(90), 90, (OK, day(0)), id="ok-at-90-days"),
        pytest.param([ev(1, 0)], day(91), 90, (OVERDUE, day(90)), id="overdue-at-91-days"),
        pytest.param(
            [ev(1, 0, False), ev(2, 10, False)], day(100), 90, (REPEAT, day(0)), id="repeat-at-90"
        ),
        pytest.param(
            [ev(1, 0, False), ev(2, 10, False)],
            day(101),
            90,
            (OVERDUE, day(100)),
            id="overdue-whatever-came-before",
        ),
        pytest.param([ev(1, 0)], day(31), 30, (OVERDUE, day(30)), id="custom-window"),
        pytest.param([ev(1, 5)], day(0), 90, (OK, day(5)), id="meeting-after-today"),
        pytest.param([], day(1000), 90, (NEVER, None), id="never-stays-never"),
    ],
)
def test_effective_state(
    state: list[EvalSummary], today: date, days: int, expected: tuple[str, date | None]
) -> None:
    assert effective_state(compute_state(state), today, days) == expected


# Properties: few dates and submission times, so same-date and same-time ties are common.
meeting_dates = st.integers(0, 5).map(lambda n: day(15 * n))
submission_times = st.integers(0, 3).map(lambda n: T0 + timedelta(hours=n))


@st.composite
def histories(draw: st.DrawFn, max_size: int = 10) -> list[EvalSummary]:
    """Evaluations of one branch with unique UUIDs, some superseded."""
    uuids = draw(st.lists(st.text("abc", min_size=1, max_size=3), max_size=max_size, unique=True))
    history = []
    for id, uuid in enumerate(uuids, start=1):
        compliant = draw(st.booleans())
        history.append(
            EvalSummary(
                id=id,
                meeting_date=draw(meeting_dates),
                submitted_at=draw(submission_times),
                uuid=uuid,
                compliant=compliant,
                serious=not compliant and draw(st.booleans()),
                reasons=() if compliant else ({"rule": "score", "value": float(id)},),
                superseded=draw(st.integers(0, 4)) == 0,
            )
        )
    return history


def reference_state(history: list[EvalSummary]) -> tuple[str, date | None, int | None, int]:
    """domain.md's table, read literally: newest first, the run the newest one starts."""
    newest_first = sorted((e for e in history if not e.superseded), key=sort_key, reverse=True)
    if not newest_first:
        return NEVER, None, None, 0
    run = list(next(itertools.groupby(newest_first, key=lambda e: e.compliant))[1])
    latest = run[0]
    if latest.compliant:
        return OK, run[-1].meeting_date, latest.id, 0
    return (REPEAT if len(run) >= 2 else FLAGGED), run[-1].meeting_date, latest.id, len(run)


PROPERTY_SETTINGS = settings(max_examples=200, deadline=None, database=None)


@PROPERTY_SETTINGS
@given(data=st.data(), history=histories())
def test_incremental_updates_equal_a_full_recompute(
    data: st.DataObject, history: list[EvalSummary]
) -> None:
    arrivals = data.draw(st.permutations(history))
    states = fold(arrivals)
    for n, state in enumerate(states, start=1):
        assert state == compute_state(arrivals[:n])
    assert (states[-1] if states else NEVER_STATE) == compute_state(history)


@PROPERTY_SETTINGS
@given(data=st.data(), history=histories())
def test_compute_state_ignores_input_order(data: st.DataObject, history: list[EvalSummary]) -> None:
    shuffled = data.draw(st.permutations(history))
    assert compute_state(shuffled) == compute_state(history)
    assert compute_state(iter(shuffled)) == compute_state(history)


@PROPERTY_SETTINGS
@given(history=histories())
def test_compute_state_follows_the_domain_table(history: list[EvalSummary]) -> None:
    state = compute_state(history)
    assert (state.state, state.since, state.evaluation_id, state.streak) == reference_state(history)
    latest = max((e for e in history if not e.superseded), key=sort_key, default=None)
    if latest is not None:
        assert (state.serious, state.reasons, state.last_meeting_date) == (
            latest.serious,
            latest.reasons,
            latest.meeting_date,
        )


@PROPERTY_SETTINGS
@given(history=histories(), offset=st.integers(-30, 400), window=st.integers(0, 120))
def test_overdue_exactly_when_the_last_meeting_is_too_old(
    history: list[EvalSummary], offset: int, window: int
) -> None:
    state = compute_state(history)
    shown, since = effective_state(state, D0 + timedelta(days=offset), window)
    if state.last_meeting_date is None:
        assert (shown, since) == (NEVER, None)
    elif offset - (state.last_meeting_date - D0).days > window:
        assert (shown, since) == (OVERDUE, state.last_meeting_date + timedelta(days=window))
    else:
        assert (shown, since) == (state.state, state.since)
