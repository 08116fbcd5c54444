"""The rules of a branch's answer to an evaluation, as pure functions over plain data.

Nothing here touches Flask or the database, so the rules can be read and tested
alone, and :mod:`coso.feedback.alerts` and :mod:`coso.feedback.queries` say them in SQL:

- a corrective action is **overdue** while it is open and its due date has passed;
- an evaluation is **unread** for the secretaries while nobody has acknowledged it,
  and **late** once that has lasted longer than ``Settings.unack_days`` full days;
- a correction (a superseding evaluation) replaces the one it corrects, which then
  waits for nobody.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

#: The statuses stored on a corrective action.
PROPOSED, OPEN, DONE, DECLINED = "proposed", "open", "done", "declined"
ACTION_STATUSES = (PROPOSED, OPEN, DONE, DECLINED)
#: Derived, never stored: an open action past its due date.
OVERDUE = "overdue"
#: What a person sees: the stored statuses plus the derived one.
SHOWN_STATUSES = (PROPOSED, OPEN, OVERDUE, DONE, DECLINED)

#: The verbs a secretary applies to an action, and the status each one needs and gives.
TRANSITIONS: dict[str, tuple[str, str]] = {
    "accept": (PROPOSED, OPEN),
    "decline": (PROPOSED, DECLINED),
    "close": (OPEN, DONE),
}

#: A new action is due this many days ahead unless the secretary says otherwise.
DEFAULT_DUE_DAYS = 30
#: The latest due date a form accepts, counted from today.
MAX_DUE_DAYS = 366

assert set(ACTION_STATUSES) <= set(SHOWN_STATUSES)


class TransitionError(ValueError):
    """The action is not in the status the verb needs (someone else acted first)."""


def is_overdue(status: str, due_date: date, today: date) -> bool:
    """True for an open action whose due date is before ``today``."""
    return status == OPEN and due_date < today


def shown_status(status: str, due_date: date, today: date) -> str:
    """The status a person sees today: ``overdue`` replaces ``open`` once the date has passed."""
    return OVERDUE if is_overdue(status, due_date, today) else status


def in_tab(tab: str, shown: str) -> bool:
    """Whether an action whose status people see as ``shown`` belongs under the list's ``tab``.

    "open" holds the overdue ones too; "all" holds everything.
    """
    if tab == "all":
        return True
    if tab == OPEN:
        return shown in (OPEN, OVERDUE)
    return tab == shown


def next_status(verb: str, current: str) -> str:
    """The status ``verb`` moves an action to.

    :raise KeyError: an unknown verb.
    :raise TransitionError: the action is not in the status the verb needs.
    """
    needed, result = TRANSITIONS[verb]
    if current != needed:
        raise TransitionError(f"cannot {verb} an action that is {current}")
    return result


def default_due(today: date) -> date:
    """The due date a new action's form suggests."""
    return today + timedelta(days=DEFAULT_DUE_DAYS)


def due_date_problem(due: date, today: date) -> str | None:
    """Why ``due`` cannot be a new due date (``past`` or ``too_far``), or None if it can."""
    if due < today:
        return "past"
    if due > today + timedelta(days=MAX_DUE_DAYS):
        return "too_far"
    return None


def unack_cutoff(today: date, unack_days: int) -> datetime:
    """The instant (UTC) before which an unacknowledged evaluation is late.

    Received on day D, it is late from day D + unack_days + 1: "longer than"
    the setting, counted in whole days.
    """
    return datetime.combine(today - timedelta(days=unack_days), time.min, tzinfo=UTC)


def is_late(received_at: datetime, today: date, unack_days: int) -> bool:
    """True when an evaluation received at ``received_at`` has waited longer than allowed."""
    return received_at < unack_cutoff(today, unack_days)


def is_unread(acknowledged: bool, superseded: bool) -> bool:
    """An evaluation waits for the secretaries until acknowledged, unless it was corrected."""
    return not acknowledged and not superseded


@dataclass
class Alerts:
    """What waits at one branch besides its flag.

    Field names match the dashboard's own ``Alerts`` so either can be shown.
    """

    open_actions: int = 0  # open, overdue included
    overdue_actions: int = 0
    proposed_actions: int = 0  # proposed by a cadre, not yet accepted or declined
    unacknowledged: int = 0  # evaluations nobody has acknowledged yet
    unacknowledged_late: int = 0  # ... for longer than ``unack_days``

    @property
    def shown(self) -> bool:
        """Whether there is anything to show beside the branch's flag."""
        return bool(self.overdue_actions or self.unacknowledged_late)


@dataclass(frozen=True)
class Notices:
    """The counts behind the notice badges of one user: one count for one idea, each named by
    one word wherever it shows (badge, tab, home panel, legend; issue 16, item 10).

    ``unread`` keeps its name in code; people read it as "unacknowledged" ("chưa xác nhận").
    """

    unread: int = 0  # secretaries: evaluations in my area nobody has acknowledged
    overdue: int = 0  # secretaries: open actions in my area past their due date
    proposed: int = 0  # secretaries: cadres' proposals in my area awaiting review
    replies: int = 0  # cadres: replies to my evaluations I have not read yet

    @property
    def secretary_total(self) -> int:
        """What waits for a secretary: the sum of the three badges of the menu's links."""
        return self.unread + self.overdue + self.proposed

    def menu_total(self, secretary: bool, cadre: bool) -> int:
        """The menu button's count: the sum of the badges its folded links carry."""
        return (self.secretary_total if secretary else 0) + (self.replies if cadre else 0)
