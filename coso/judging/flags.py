"""A branch's flag state from its evaluations: pure functions over plain data.

Evaluations arrive in any order (phones flush queues days late), but the latest
*meeting* decides, so every rule here works on :func:`sort_key` order, never on
arrival order. A branch's state is decided by its *run*: the latest evaluation
and the unbroken run of evaluations before it that agree with it (all compliant
or all not). :func:`run_state` is the one definition of the state, streak and
since-date of a run; every other path (:func:`compute_state` over a whole
history, :func:`apply_evaluation` for the common case of a newer evaluation, the
database's reading of runs in ``coso.judging.queries.current_runs``) finds a run
and asks it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

OK, FLAGGED, REPEAT, OVERDUE, NEVER = "ok", "flagged", "repeat", "overdue", "never"
STATES = (OK, FLAGGED, REPEAT, OVERDUE, NEVER)

# The states an evaluation can decide; OVERDUE is only ever shown, never stored.
_DECIDED = (OK, FLAGGED, REPEAT)
# How many non-compliant evaluations in a row make a flag a repeat.
REPEAT_STREAK = 2

SortKey = tuple[date, datetime, str]


@dataclass(frozen=True)
class EvalSummary:
    """What the flag rules need from one stored evaluation."""

    id: int
    meeting_date: date
    submitted_at: datetime  # tie-break between two meetings on the same date
    uuid: str  # final tie-break: order must never depend on arrival order
    compliant: bool
    serious: bool
    reasons: tuple[dict, ...] = ()  # Outcome reasons as dicts (copied into the state)
    superseded: bool = False  # superseded evaluations are ignored entirely


@dataclass(frozen=True)
class BranchState:
    """A branch's evaluation-derived state; see :func:`effective_state` for overdue."""

    state: str  # OK | FLAGGED | REPEAT | NEVER
    since: date | None  # meeting date of the first evaluation of the current run
    evaluation_id: int | None  # the evaluation that decided it (the latest one)
    last_meeting_date: date | None
    streak: int  # consecutive non-compliant latest evaluations (0 when ok/never)
    serious: bool
    reasons: tuple[dict, ...]
    latest_key: SortKey | None  # sort key of the deciding evaluation


NEVER_STATE = BranchState(NEVER, None, None, None, 0, False, (), None)


def sort_key(ev: EvalSummary) -> SortKey:
    """The order in which evaluations count: meeting date, then submission, then UUID.

    An aware ``submitted_at`` is compared as naive UTC, so a time parsed with its
    offset and the same time read back from a database without one still compare.
    """
    submitted = ev.submitted_at
    if submitted.tzinfo is not None:
        submitted = submitted.astimezone(UTC).replace(tzinfo=None)
    return (ev.meeting_date, submitted, ev.uuid)


def run_state(latest: EvalSummary, *, length: int, since: date) -> BranchState:
    """The state of a run of ``length`` evaluations that agree with ``latest``, its newest.

    ``since`` is the meeting date of the run's first evaluation. A compliant run is
    OK (streak 0); a non-compliant one is FLAGGED, or REPEAT from
    :data:`REPEAT_STREAK` evaluations in a row (the streak is the run's length).
    """
    if latest.compliant:
        state, streak = OK, 0
    else:
        streak = length
        state = REPEAT if streak >= REPEAT_STREAK else FLAGGED
    return BranchState(
        state=state,
        since=since,
        evaluation_id=latest.id,
        last_meeting_date=latest.meeting_date,
        streak=streak,
        serious=latest.serious,
        reasons=tuple(dict(reason) for reason in latest.reasons),
        latest_key=sort_key(latest),
    )


def compute_state(history: Iterable[EvalSummary]) -> BranchState:
    """The state of one branch from every evaluation it has, in any order."""
    evaluations = sorted((ev for ev in history if not ev.superseded), key=sort_key)
    if not evaluations:
        return NEVER_STATE
    latest = evaluations[-1]
    # Walk back over the run of evaluations that agree with the latest one.
    first = len(evaluations) - 1
    while first > 0 and evaluations[first - 1].compliant == latest.compliant:
        first -= 1
    return run_state(latest, length=len(evaluations) - first, since=evaluations[first].meeting_date)


def apply_evaluation(prev: BranchState, ev: EvalSummary) -> BranchState | None:
    """The state after ``ev`` arrives, in O(1), when ``ev`` is the newest evaluation.

    Returns None when ``ev`` is superseded or not newer than the evaluation that
    decided ``prev`` (including a second arrival of that same evaluation), or when
    ``prev`` is not a state this module computed (no ``latest_key`` or ``since``): the
    caller must then call :func:`compute_state` on the whole history.
    """
    if ev.superseded:
        return None
    if prev.state == NEVER:
        return run_state(ev, length=1, since=ev.meeting_date)
    if (
        prev.state not in _DECIDED
        or prev.latest_key is None
        or prev.since is None
        or sort_key(ev) <= prev.latest_key
    ):
        return None
    if ev.compliant == (prev.state == OK):
        # The run goes on (an OK run's length is not kept: its streak is 0 whatever it is).
        return run_state(ev, length=prev.streak + 1, since=prev.since)
    return run_state(ev, length=1, since=ev.meeting_date)


class Stored(Protocol):
    """What :func:`effective_state` reads of a state: a BranchState or a stored status row."""

    @property
    def state(self) -> str: ...

    @property
    def since(self) -> date | None: ...

    @property
    def last_meeting_date(self) -> date | None: ...


def effective_state(st: Stored | None, today: date, overdue_days: int) -> tuple[str, date | None]:
    """The state to show today, and since when: overdue wins over what evaluations said.

    A branch is overdue when its latest meeting is more than ``overdue_days`` days
    before ``today``; it is then shown as overdue since the day the window ran out
    (``last_meeting_date + overdue_days``). A branch never evaluated (or without a
    status row, ``None``) stays NEVER. ``coso.judging.queries.Thresholds.state_expr``
    is the same rule in SQL.
    """
    if st is None or st.state == NEVER or st.last_meeting_date is None:
        return NEVER, None
    if (today - st.last_meeting_date).days > overdue_days:
        return OVERDUE, st.last_meeting_date + timedelta(days=overdue_days)
    return st.state, st.since
