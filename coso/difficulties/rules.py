"""The rules of difficulties and proposals, pure: where one goes, who may act on it, when it
is overdue, and how fast the levels answer and resolve (issue 19, item 1).

A difficulty is raised about a unit and routed by default to the commune-level unit above it
(the grassroots union: commune, ward, school, enterprise, agency); with none above, to the
root of the tree, the province. The receiving level answers it, may pass it up to the
province, and closes it with what was done. Its state goes open -> answered -> closed.

"Giải quyết kịp thời" as a number: for each period (a month, ``YYYY-MM``, like the rest of
coso) the median and the 90th percentile of the days from raising to the first answer,
counted in the month of the answer, and of the days from raising to closing, counted in the
month of the closing — so a month's figures no longer move once it is over.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from coso.search_keys import search_key
from coso.users.rules import ADMIN, CADRE, PROVINCE, SECRETARY

OPEN, ANSWERED, CLOSED = "open", "answered", "closed"
STATES = (OPEN, ANSWERED, CLOSED)

#: The categories a province starts with (code, English msgid; words.py translates them).
DEFAULT_CATEGORIES: tuple[tuple[str, str], ...] = (
    ("funds", "Funds"),
    ("venue", "Venue"),
    ("members_away", "Members working away"),
    ("secretary_capacity", "Secretary capacity"),
    ("guidance_unclear", "Guidance unclear"),
    ("other", "Other"),
)

#: Kinds of unit that form the commune level (the grassroots union a branch belongs to).
COMMUNE_KINDS = frozenset({"commune", "ward", "school", "enterprise", "agency"})
#: Kinds of unit below the commune level.
BRANCH_KINDS = frozenset({"branch", "interbranch"})
COMMUNE, PROVINCE_LEVEL = "commune", "province"
#: The Central Committee's unit above the provinces: difficulties stop at the province.
CENTRAL_KIND = "central"

#: Open ones by age, in days since raised: (label key, first day, last day or None).
AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-7", 0, 7),
    ("8-30", 8, 30),
    ("31-90", 31, 90),
    ("90+", 91, None),
)

TEXT_MAX = 4000
#: Roles that may raise a difficulty at all (rules.may_raise decides per unit).
CADRE_ROLES = frozenset({CADRE, SECRETARY})


@dataclass(frozen=True)
class Node:
    """A unit as the rules see it: its id and kind."""

    id: int
    kind: str


def route_default(chain: Sequence[Node]) -> Node:
    """Where a difficulty about the last unit of ``chain`` (root first) goes by default.

    The nearest commune-level unit strictly above it; with none, the province: the root,
    or the unit under the Central Committee's in a national tree.
    """
    if not chain:
        raise ValueError("empty chain")
    for node in reversed(chain[:-1]):
        if node.kind in COMMUNE_KINDS:
            return node
    return next((node for node in chain if node.kind != CENTRAL_KIND), chain[0])


def level_of(kind: str, is_root: bool) -> str:
    """The level a receiving unit stands for: the province (root or province) or a commune."""
    return PROVINCE_LEVEL if is_root or kind == "province" else COMMUNE


def may_raise(roles: Iterable[str], unit_kind: str, own_unit: bool, in_area: bool) -> bool:
    """May a user raise a difficulty about a unit?

    A cadre for a branch in their area; a secretary for their own unit (a branch secretary
    for their branch, a commune secretary for their commune) or a branch under it (the
    caller's ``in_area`` says the unit lies in the secretary's subtree).
    """
    roles = set(roles)
    if CADRE in roles and in_area and unit_kind in BRANCH_KINDS:
        return True
    return SECRETARY in roles and (own_unit or in_area)


def may_handle(roles: Iterable[str], home_is_receiver: bool, receiver_in_area: bool) -> bool:
    """May a user act for the receiving level (answer, assign, pass up, close)?

    The province's people and administrators for any receiver in their area; a secretary
    only when the receiver is their own unit (the commune's secretary for the commune).
    """
    roles = set(roles)
    if roles & {PROVINCE, ADMIN} and receiver_in_area:
        return True
    return SECRETARY in roles and home_is_receiver


def may_answer(state: str, handles: bool) -> bool:
    """An open or answered difficulty may be answered (again) by its receiving level."""
    return handles and state != CLOSED


def may_pass_up(state: str, handles: bool, receiver_is_root: bool) -> bool:
    """A commune may pass a difficulty it has not closed up to the province."""
    return handles and state != CLOSED and not receiver_is_root


def may_close(state: str, handles: bool) -> bool:
    """The receiving level closes a difficulty, once, with what was done."""
    return handles and state != CLOSED


def is_overdue(state: str, due: date | None, today: date) -> bool:
    """Overdue: not closed and its due date has passed."""
    return state != CLOSED and due is not None and due < today


def state_after_answer(state: str) -> str:
    """Answering an open difficulty makes it answered; a closed one stays closed."""
    return CLOSED if state == CLOSED else ANSWERED


def age_bucket(raised: date, today: date) -> str:
    """The age bucket of a difficulty raised on ``raised`` (days since, today included)."""
    days = max(0, (today - raised).days)
    for key, first, last in AGE_BUCKETS:
        if days >= first and (last is None or days <= last):
            return key
    return AGE_BUCKETS[-1][0]


def period_of(day: date) -> str:
    """The period (``YYYY-MM``) a day falls in."""
    return f"{day.year:04d}-{day.month:02d}"


def days_between(start: datetime, end: datetime) -> float:
    """Days from ``start`` to ``end`` (fractional; never negative)."""
    return max(0.0, (end - start).total_seconds() / 86400)


def percentile(values: Sequence[float], share: float) -> float | None:
    """The ``share`` (0..1) percentile of ``values``, linear between the closest ranks.

    None for no values; the median is ``percentile(values, 0.5)``.
    """
    if not values:
        return None
    ordered = sorted(values)
    rank = share * (len(ordered) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Timing:
    """What the figures need of one difficulty."""

    raised_at: datetime
    answered_at: datetime | None
    closed_at: datetime | None


@dataclass(frozen=True)
class PeriodFigures:
    """One period's figures, in days (None when nothing was answered / closed in it)."""

    period: str
    answered: int
    answer_median: float | None
    answer_p90: float | None
    resolved: int
    resolve_median: float | None
    resolve_p90: float | None


def figures(timings: Iterable[Timing]) -> list[PeriodFigures]:
    """Time to first answer and time to resolve, median and p90 per period, oldest first.

    A difficulty counts for time to answer in the month of its first answer, and for time to
    resolve in the month it was closed (closed without an answer: closing is the answer).
    """
    to_answer: dict[str, list[float]] = defaultdict(list)
    to_resolve: dict[str, list[float]] = defaultdict(list)
    for timing in timings:
        first = timing.answered_at or timing.closed_at
        if first is not None:
            to_answer[period_of(first.date())].append(days_between(timing.raised_at, first))
        if timing.closed_at is not None:
            to_resolve[period_of(timing.closed_at.date())].append(
                days_between(timing.raised_at, timing.closed_at)
            )
    rows = []
    for period in sorted(set(to_answer) | set(to_resolve)):
        answers, resolves = to_answer.get(period, []), to_resolve.get(period, [])
        rows.append(
            PeriodFigures(
                period=period,
                answered=len(answers),
                answer_median=percentile(answers, 0.5),
                answer_p90=percentile(answers, 0.9),
                resolved=len(resolves),
                resolve_median=percentile(resolves, 0.5),
                resolve_p90=percentile(resolves, 0.9),
            )
        )
    return rows


def open_by_age_and_category(
    rows: Iterable[tuple[str, date, str]], today: date
) -> dict[tuple[str, str], int]:
    """Count the open (not closed) difficulties per (age bucket, category).

    ``rows`` are (state, day raised, category code).
    """
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for state, raised, category in rows:
        if state != CLOSED:
            counts[(age_bucket(raised, today), category)] += 1
    return dict(counts)


def category_problem(code: str, codes: Iterable[str]) -> str | None:
    """Why a category code cannot be taken (not in the province's list), or None."""
    return None if code in set(codes) else "unknown_category"


def text_problem(text: str | None) -> str | None:
    """Why a difficulty's text (or an answer, a resolution) cannot be taken, or None."""
    cleaned = (text or "").strip()
    if not cleaned:
        return "required"
    if len(cleaned) > TEXT_MAX:
        return "too_long"
    return None


# ------------------------------------------------- the province's list of categories
LABEL_MAX = 120
POSITION_MAX = 999


def category_code(label: str, taken: Iterable[str]) -> str:
    """A new category's code, made from its label: ``"Thiếu sân bãi"`` -> ``thieu_san_bai``,
    with ``_2``, ``_3`` … when the province has that code already (codes are never reused
    for another meaning: difficulties keep the code they were raised with)."""
    base = re.sub(r"[^a-z0-9]+", "_", search_key(label)).strip("_")[:32] or "category"
    used = set(taken)
    code, n = base, 2
    while code in used:
        code, n = f"{base}_{n}", n + 1
    return code


def label_problem(label: str | None) -> str | None:
    """Why a category's label cannot be taken, or None."""
    cleaned = (label or "").strip()
    if not cleaned:
        return "label_required"
    if len(cleaned) > LABEL_MAX:
        return "label_too_long"
    return None


# ------------------------------------------------------- a report period's summary
@dataclass
class CategoryCounts:
    """One category's difficulties in a period: raised, first answered and closed in it, and
    still open at its end."""

    raised: int = 0
    answered: int = 0
    closed: int = 0
    open_at_end: int = 0


def period_summary(
    rows: Iterable[tuple[str, Timing]], start: datetime, end: datetime
) -> tuple[dict[str, CategoryCounts], PeriodFigures]:
    """Per category, what happened in ``[start, end)``; and the period's time to first answer
    and to resolve (median and p90, in days) over the difficulties first answered / closed
    in it, as :func:`figures` counts them month by month."""
    counts: dict[str, CategoryCounts] = defaultdict(CategoryCounts)
    to_answer: list[float] = []
    to_resolve: list[float] = []
    for category, t in rows:
        if t.raised_at >= end:
            continue
        c = counts[category]
        first = t.answered_at or t.closed_at
        if t.raised_at >= start:
            c.raised += 1
        if first is not None and start <= first < end:
            c.answered += 1
            to_answer.append(days_between(t.raised_at, first))
        if t.closed_at is not None and start <= t.closed_at < end:
            c.closed += 1
            to_resolve.append(days_between(t.raised_at, t.closed_at))
        if t.closed_at is None or t.closed_at >= end:
            c.open_at_end += 1
    totals = PeriodFigures(
        period="",
        answered=len(to_answer),
        answer_median=percentile(to_answer, 0.5),
        answer_p90=percentile(to_answer, 0.9),
        resolved=len(to_resolve),
        resolve_median=percentile(to_resolve, 0.5),
        resolve_p90=percentile(to_resolve, 0.9),
    )
    shown = {k: v for k, v in counts.items() if v.raised or v.answered or v.closed or v.open_at_end}
    return shown, totals
