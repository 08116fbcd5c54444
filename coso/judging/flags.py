"""A branch's flag state from its evaluations: pure functions over plain data.

Evaluations arrive in any order (phones flush queues days late), but the latest
*meeting* decides, so every rule here works on :func:`sort_key` order, never on
arrival order. :func:`apply_evaluation` is the O(1) path for the common case of
a newer evaluation; anything else falls back to :func:`compute_state`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

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


def _decided_by(ev: EvalSummary, streak: int, since: date | None) -> BranchState:
    """The state whose latest evaluation is ``ev``, given the run it ends."""
    if ev.compliant:
        state = OK
    elif streak >= REPEAT_STREAK:
        state = REPEAT
    else:
        state = FLAGGED
    return BranchState(
        state=state,
        since=since,
        evaluation_id=ev.id,
        last_meeting_date=ev.meeting_date,
        streak=streak,
        serious=ev.serious,
        reasons=tuple(dict(reason) for reason in ev.reasons),
        latest_key=sort_key(ev),
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
    streak = 0 if latest.compliant else len(evaluations) - first
    return _decided_by(latest, streak, evaluations[first].meeting_date)


def apply_evaluation(prev: BranchState, ev: EvalSummary) -> BranchState | None:
    """The state after ``ev`` arrives, in O(1), when ``ev`` is the newest evaluation.

    Returns None when ``ev`` is superseded or not newer than the evaluation that
    decided ``prev`` (including a second arrival of that same evaluation), or when
    ``prev`` is not a state this module computed (no ``latest_key``): the caller must then call
    :func:`compute_state` on the whole history.
    """
    if ev.superseded:
        return None
    if prev.state == NEVER:
        return _decided_by(ev, 0 if ev.compliant else 1, ev.meeting_date)
    if prev.state not in _DECIDED or prev.latest_key is None or sort_key(ev) <= prev.latest_key:
        return None
    if ev.compliant:
        # A compliant run goes on, or starts with this meeting.
        return _decided_by(ev, 0, prev.since if prev.state == OK else ev.meeting_date)
    if prev.state == OK:
        return _decided_by(ev, 1, ev.meeting_date)
    return _decided_by(ev, prev.streak + 1, prev.since)


def effective_state(
    st: BranchState, today: date, settings_overdue_days: int
) -> tuple[str, date | None]:
    """The state to show today, and since when: overdue wins over what evaluations said.

    A branch is overdue when its latest meeting is more than ``settings_overdue_days``
    days before ``today``; it is then shown as overdue since the day the window ran out
    (``last_meeting_date + settings_overdue_days``). A branch never evaluated stays NEVER.
    """
    if st.state == NEVER or st.last_meeting_date is None:
        return NEVER, None
    if (today - st.last_meeting_date).days > settings_overdue_days:
        return OVERDUE, st.last_meeting_date + timedelta(days=settings_overdue_days)
    return st.state, st.since
