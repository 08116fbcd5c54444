"""The rules of following branch secretaries, pure: who holds a post, when a record is a
change of holder, and the province's figures per commune (issue 19, item 5).

A branch has two posts, its secretary and its deputy. Recording someone new in a post
closes the previous holder's term on the new one's first day; recording the same person
again corrects their term (Party membership, guidance towards the Party, first day).

The figures per commune, from each branch's current secretary and the secretaries'
terms that ended: the share of branches whose secretary is a Party member (of all
branches, so a branch with no secretary counts against it), how many non-members are
being guided towards the Party, the branches with no secretary, and turnover — the
secretaries who left in the last 12 months, as a count and per branch.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from coso.users.rules import ADMIN, CADRE, CENTRAL, PROVINCE
from coso.users.rules import SECRETARY as SECRETARY_USER

SECRETARY, DEPUTY = "secretary", "deputy"
#: The posts of a branch, in the order pages show them.
ROLES = (SECRETARY, DEPUTY)
#: Turnover counts the secretaries who left within this many days up to today.
TURNOVER_DAYS = 365
#: Roles that may see a secretary's Party membership, inside their area: the province, its
#: administrators, its cadres (the province's people at the grassroots: the brief before a
#: meeting names it, issue 18 item 4, and guiding secretaries towards the Party is part of
#: their visit) and secretaries (a commune's for every branch of the commune, a branch's for
#: its own record). Never another branch's secretary: the area decides (coso.scope).
PARTY_READERS = frozenset({ADMIN, CENTRAL, PROVINCE, CADRE, SECRETARY_USER})


def sees_party(roles: Iterable[str]) -> bool:
    """May a user holding ``roles`` see Party membership (scope aside)?"""
    return any(role in PARTY_READERS for role in roles)


def same_person(a: str | None, b: str | None) -> bool:
    """Do two names written by people name the same person (case and spaces aside)?"""
    if not a or not b:
        return False
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def guided_value(party_member: bool, guided: bool | None) -> bool | None:
    """What is kept of "being guided towards the Party": nothing for a member."""
    return None if party_member else bool(guided)


#: Why a record cannot be taken (the view says it in words).
STARTS_BEFORE_CURRENT = "starts_before_current"
ENDS_BEFORE_START = "ends_before_start"


def change_problem(current_start: date | None, since: date, is_change: bool) -> str | None:
    """Why a new holder starting on ``since`` cannot follow the current one, or None.

    The previous term closes on ``since``, so it cannot be before that term began.
    A correction of the same person's term has no such limit.
    """
    if is_change and current_start is not None and since < current_start:
        return STARTS_BEFORE_CURRENT
    return None


def end_problem(current_start: date | None, on: date) -> str | None:
    """Why a term cannot end on ``on`` (before it began), or None."""
    if current_start is not None and on < current_start:
        return ENDS_BEFORE_START
    return None


def turnover_start(today: date) -> date:
    """Terms that ended after this day (and by today) count as turnover."""
    return today - timedelta(days=TURNOVER_DAYS)


def counts_as_turnover(ended_on: date | None, today: date) -> bool:
    """Did a term end within the turnover window (the last 12 months up to today)?"""
    return ended_on is not None and turnover_start(today) < ended_on <= today


def share(part: int, whole: int) -> float | None:
    """``part`` of ``whole`` as 0..1; None when there is nothing to divide."""
    return part / whole if whole else None


@dataclass(frozen=True)
class Post:
    """A branch's current secretary as the figures see it.

    :param group: the unit it counts under (the commune, or whichever child of the unit
        being looked at it lies under).
    :param party_member: None when the branch has no secretary (or it was never said).
    """

    branch_id: int
    group: int
    has_secretary: bool
    party_member: bool | None = None
    guided: bool | None = None


@dataclass
class Figures:
    """One commune's (or the whole area's) secretaries."""

    branches: int = 0
    with_secretary: int = 0
    party: int = 0
    guided: int = 0
    changes: int = 0

    @property
    def without_secretary(self) -> int:
        return self.branches - self.with_secretary

    @property
    def party_share(self) -> float | None:
        """Branches whose secretary is a Party member, of all branches."""
        return share(self.party, self.branches)

    @property
    def turnover(self) -> float | None:
        """Secretaries who left in the last 12 months, per branch."""
        return share(self.changes, self.branches)

    def add(self, other: Figures) -> None:
        self.branches += other.branches
        self.with_secretary += other.with_secretary
        self.party += other.party
        self.guided += other.guided
        self.changes += other.changes


def figures_by_group(
    posts: Iterable[Post], endings: Iterable[tuple[int, date | None]], today: date
) -> dict[int, Figures]:
    """Each group's figures from its branches' posts and its secretaries' ended terms.

    :param endings: (group, ended_on) of every secretary term that ended; those outside
        the turnover window are left out here, so a caller may pass more than it needs.
    """
    out: dict[int, Figures] = {}
    for post in posts:
        figures = out.setdefault(post.group, Figures())
        figures.branches += 1
        if post.has_secretary:
            figures.with_secretary += 1
            if post.party_member:
                figures.party += 1
            elif post.guided:
                figures.guided += 1
    for group, ended_on in endings:
        if counts_as_turnover(ended_on, today):
            out.setdefault(group, Figures()).changes += 1
    return out


def total_of(figures: Iterable[Figures]) -> Figures:
    """The sum of several groups' figures."""
    total = Figures()
    for item in figures:
        total.add(item)
    return total


def group_of(path: str, depth: int) -> int | None:
    """The id at ``depth + 1`` of a unit path ``/1/5/17/``: the child of the unit at
    ``depth`` that a unit lies under (itself when it is that child); None above it."""
    chain = [int(part) for part in path.strip("/").split("/") if part]
    return chain[depth + 1] if len(chain) > depth + 1 else None
