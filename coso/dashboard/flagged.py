"""The flagged-branches list: one row per branch, read from the branch-status rows.

Every query here starts from ``Unit`` (the subtree is one indexed path range)
outer-joined to ``BranchStatus``; the page's deciding evaluations are then read
by primary key, so no evaluation is scanned to draw the list. The
per-branch alert counts (actions, unacknowledged evaluations) come from the
feedback area's grouped queries, restricted to the branch ids of the page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import sqlalchemy as sa

from coso.extensions import among, db
from coso.feedback.alerts import alerts_for
from coso.feedback.rules import Alerts
from coso.judging import flags
from coso.judging.queries import Thresholds
from coso.models import BranchStatus, Evaluation, Unit, User
from coso.web import Page, paginate

PAGE_SIZE = 25
#: Filters of the state select: everything needing attention, everything, or one state.
ATTENTION, ALL = "attention", "all"
STATE_FILTERS = (ATTENTION, ALL, *flags.STATES)
#: States that need the province's attention (all but ok).
ATTENTION_STATES = (flags.REPEAT, flags.FLAGGED, flags.OVERDUE, flags.NEVER)
#: Rules a flag can carry (the "serious" rules have their own filter).
RULES = ("score", "critical", "attendance", "content")
SORTS = ("state", "since", "score", "name")
#: Worst first: the order of ``sort=state``.
SEVERITY = {flags.REPEAT: 0, flags.FLAGGED: 1, flags.OVERDUE: 2, flags.NEVER: 3, flags.OK: 4}
_ITEM_CODE = re.compile(r"^[A-Za-z0-9.\-]{1,10}$")


@dataclass(frozen=True)
class Filters:
    """What the list shows: a subtree and the narrowing the user chose."""

    unit: Unit
    state: str = ATTENTION
    reason: str = ""  # "" | "rule:<rule>" | "item:<code>"
    serious: bool = False
    since_from: date | None = None
    since_to: date | None = None
    sort: str = "state"
    descending: bool = False
    page: int = 1

    def args(self, **changes: Any) -> dict[str, Any]:
        """Query-string arguments reproducing these filters (with ``changes``), for links."""
        f = replace(self, **changes) if changes else self
        out: dict[str, Any] = {"unit": f.unit.id, "state": f.state}
        if f.reason:
            out["reason"] = f.reason
        if f.serious:
            out["serious"] = "1"
        if f.since_from:
            out["from"] = f.since_from.isoformat()
        if f.since_to:
            out["to"] = f.since_to.isoformat()
        out["sort"] = ("-" if f.descending else "") + f.sort
        if f.page > 1:
            out["page"] = f.page
        return out


@dataclass
class Row:
    """One branch of the list."""

    branch_id: int
    name: str
    code: str
    parent_id: int | None
    parent_name: str | None
    state: str
    since: date | None
    reasons: list[dict[str, Any]]
    serious: bool
    streak: int
    last_date: date | None
    score: float | None
    evaluation_id: int | None
    cadre: str | None
    alerts: Alerts = field(default_factory=Alerts)


def reason_clause(reason: str) -> sa.ColumnElement[bool] | None:
    """Rows whose stored reasons carry a rule or an item, by a LIKE on the JSON text.

    Rule names and item codes only ever appear as JSON strings (quoted), so the
    quoted token matches exactly on SQLite's JSON text and PostgreSQL's ``jsonb::text``
    alike ("P1" never matches "P10", "critical" never "serious_critical").
    """
    kind, _, value = reason.partition(":")
    if not ((kind == "rule" and value in RULES) or (kind == "item" and _ITEM_CODE.match(value))):
        return None
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return sa.cast(BranchStatus.reasons, sa.Text).like(f'%"{escaped}"%', escape="\\")


def valid_reason(reason: str) -> bool:
    return reason == "" or reason_clause(reason) is not None


def _query(filters: Filters, today: date, resolved: Thresholds) -> sa.Select[Any]:
    state = resolved.state_expr(today)
    since = resolved.since_expr(today)
    query = (
        sa.select(
            Unit.id,
            Unit.name,
            Unit.code,
            Unit.parent_id,
            sa.null(),  # the parent's name: read for the page's rows only (_attach_details)
            state.label("state"),
            since.label("since"),
            BranchStatus.reasons,
            BranchStatus.serious,
            BranchStatus.streak,
            BranchStatus.last_meeting_date,
            BranchStatus.score,
            BranchStatus.evaluation_id,
        )
        .select_from(Unit)
        .outerjoin(BranchStatus, BranchStatus.branch_id == Unit.id)
        .where(filters.unit.subtree_clause(), Unit.kind == "branch", Unit.active.is_(True))
    )
    if filters.state == ATTENTION:
        query = query.where(state.in_(ATTENTION_STATES))
    elif filters.state in flags.STATES:
        query = query.where(state == filters.state)
    clause = reason_clause(filters.reason) if filters.reason else None
    if clause is not None:
        query = query.where(clause)
    if filters.serious:
        query = query.where(BranchStatus.serious.is_(True))
    if filters.since_from:
        query = query.where(since >= filters.since_from)
    if filters.since_to:
        query = query.where(since <= filters.since_to)
    return query.order_by(*_order(filters, state, since))


def _order(filters: Filters, state: Any, since: Any) -> list[Any]:
    """The chosen order, then a stable one (name, id) so pages never overlap."""
    severity = sa.case(SEVERITY, value=state, else_=9)
    if filters.sort == "since":
        key, nulls = since, since.is_(None)
    elif filters.sort == "score":
        key, nulls = BranchStatus.score, BranchStatus.score.is_(None)
    elif filters.sort == "name":
        key, nulls = Unit.name, sa.false()
    else:
        key, nulls = severity, sa.false()
    primary = key.desc() if filters.descending else key.asc()
    order = [sa.case((nulls, 1), else_=0), primary]
    if filters.sort == "state":  # within a state, the longest-standing first
        order += [sa.case((since.is_(None), 1), else_=0), since.asc()]
    return [*order, Unit.name.asc(), Unit.id.asc()]


def _row(values: Any) -> Row:
    return Row(
        branch_id=values[0],
        name=values[1],
        code=values[2],
        parent_id=values[3],
        parent_name=values[4],
        state=values[5],
        since=values[6],
        reasons=list(values[7] or []),
        serious=bool(values[8]),
        streak=values[9] or 0,
        last_date=values[10],
        score=values[11],
        evaluation_id=values[12],
        cadre=None,
    )


def page(
    filters: Filters, today: date, resolved: Thresholds, counts: dict[str, int] | None = None
) -> Page[Row]:
    """One page of the list, with its alerts, and how many rows and pages there are.

    :param resolved: the thresholds of ``filters.unit`` (:func:`coso.judging.queries.thresholds`).
    :param counts: the subtree's branches per state (``count_states``), when the page has
        them: a list narrowed by state alone is then not counted again (a province's
        7,500 branches read once less).
    """
    total = _total(filters, counts) if counts is not None else None
    query = _query(filters, today, resolved)
    found = paginate(query, filters.page, PAGE_SIZE, total=total).map(_row)
    _attach_details(found.rows, today, resolved)
    return found


def _total(filters: Filters, counts: dict[str, int]) -> int | None:
    """The rows of a list narrowed by state alone, from the per-state counts; else None."""
    if filters.reason or filters.serious or filters.since_from or filters.since_to:
        return None
    if filters.state == ATTENTION:
        return sum(counts.get(state, 0) for state in ATTENTION_STATES)
    if filters.state in flags.STATES:
        return counts.get(filters.state, 0)
    return sum(counts.values())  # "all", as _query reads it


def all_rows(filters: Filters, today: date, resolved: Thresholds) -> list[Row]:
    """Every row matching the filters, in the list's order (for exports)."""
    rows = [_row(values) for values in db.session.execute(_query(filters, today, resolved))]
    _attach_details(rows, today, resolved)
    return rows


def _attach_details(rows: list[Row], today: date, resolved: Thresholds) -> None:
    """The parent's name, the deciding evaluation's cadre (both by primary key) and the
    alerts, for these rows only.

    Joined in the list query instead, PostgreSQL would hash-join every evaluation before
    sorting and cutting the page, and look up the parent of every branch needing attention
    (2,356 in a province of the national bench: 8 ms of the page's 17).
    """
    found = alerts_for([row.branch_id for row in rows], today, resolved)
    parent_ids = {row.parent_id for row in rows if row.parent_id is not None}
    parents: dict[int, str] = {}
    if parent_ids:
        found_names = db.session.execute(
            sa.select(Unit.id, Unit.name).where(among(Unit.id, parent_ids))
        )
        parents = {unit_id: name for unit_id, name in found_names}
    evaluation_ids = [row.evaluation_id for row in rows if row.evaluation_id]
    cadres: dict[int, str] = {}
    for start in range(0, len(evaluation_ids), 500):
        chunk = evaluation_ids[start : start + 500]
        for evaluation_id, name in db.session.execute(
            sa.select(Evaluation.id, User.display_name)
            .join(User, User.id == Evaluation.cadre_id)
            .where(among(Evaluation.id, chunk))
        ):
            cadres[evaluation_id] = name
    for row in rows:
        row.parent_name = parents.get(row.parent_id) if row.parent_id is not None else None
        row.alerts = found.get(row.branch_id, Alerts())
        row.cadre = cadres.get(row.evaluation_id) if row.evaluation_id else None
