"""Reads of judging: the thresholds in force for a unit, branches' histories and states.

Thresholds: the nearest override above a unit, else domain.md's defaults.
"Overdue" depends on today's date, so it is never stored: it is applied when
read (``flags.effective_state`` and :func:`effective_state_expr`), which keeps it
exact without a nightly job.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa

from coso import clock
from coso.evaluations.queries import not_superseded, superseded
from coso.extensions import db
from coso.judging import flags
from coso.judging.scoring import Settings
from coso.models import BranchStatus, Evaluation, Unit, UnitSettings

_CHUNK = 500  # ids per IN (...): well under every database's limit on bound parameters


def path_ids(path: str) -> list[int]:
    """The unit ids of a materialised path, root first (``/1/5/9/`` → ``[1, 5, 9]``)."""
    return [int(part) for part in path.strip("/").split("/") if part]


def settings_for_path(path: str) -> Settings:
    """Settings for the unit at ``path``: the deepest ancestor's overrides win."""
    return settings_for_paths([path])[path]


def settings_for_paths(paths: Iterable[str]) -> dict[str, Settings]:
    """``settings_for_path`` for many units at once: one read of the overrides they need.

    A sync batch scores evaluations of dozens of branches; looking each one's
    settings up on its own cost a query per branch.
    """
    chains = {path: path_ids(path) for path in set(paths)}
    ancestors = sorted({uid for ids in chains.values() for uid in ids})
    overrides: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ancestors), _CHUNK):
        rows = db.session.execute(
            sa.select(UnitSettings.unit_id, UnitSettings.values).where(
                UnitSettings.unit_id.in_(ancestors[start : start + _CHUNK])
            )
        )
        overrides.update((unit_id, values or {}) for unit_id, values in rows)
    merged_by_chain: dict[tuple[int, ...], Settings] = {}
    out: dict[str, Settings] = {}
    for path, ids in chains.items():
        chain = tuple(uid for uid in ids if uid in overrides)
        if chain not in merged_by_chain:
            merged: dict[str, object] = {}
            for uid in chain:  # root first, so deeper units override
                merged.update(overrides[uid])
            merged_by_chain[chain] = Settings.from_mapping(merged)
        out[path] = merged_by_chain[chain]
    return out


def inherited(unit: Unit) -> Settings:
    """What ``unit`` would have without its own overrides."""
    if unit.parent is None:
        return Settings()
    return settings_for_path(unit.parent.path)


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
    columns: list[Any] = [
        Evaluation.branch_id,
        Evaluation.id,
        Evaluation.meeting_date,
        Evaluation.submitted_at,
        Evaluation.uuid,
        Evaluation.compliant,
        Evaluation.serious,
        superseded(),
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


class Run(NamedTuple):
    """A branch's latest evaluation, and the run of evaluations back to ``since`` that agree."""

    latest: flags.EvalSummary  # without reasons
    length: int  # evaluations in the run, the latest included
    since: date  # meeting date of the run's first evaluation
    closed: bool  # the run ends on an evaluation that disagrees (not on the oldest one read)


def current_runs(
    branch_ids: Iterable[int], since: Mapping[int, date] | None = None
) -> dict[int, Run]:
    """The run of several branches (those that have evaluations), found by the database.

    Why a second form: when a batch brings an older meeting, ``service.record_many``
    must find the branch's run again. Read into Python, that is every evaluation of
    every such branch (hundreds each); here the database ranks each branch's
    evaluations newest first (window functions, in ``flags.sort_key`` order) and
    returns one row per branch: the latest evaluation, and the length and first
    meeting date of the run that agrees with it. What a run *means* (state, streak)
    is decided once, by ``flags.run_state``.

    With ``since``, a branch's evaluations of meetings before its date are left out
    (``record_many`` knows they cannot change); the run found is then the run among
    the rest. A branch with no evaluation read is left out.

    ``flags.run_state`` of each run is held to ``flags.compute_state`` on generated
    histories, with and without ``since``, on SQLite and PostgreSQL, by
    ``tests/test_status_runs.py`` (``test_current_runs_equal_compute_state``).
    """
    ids = sorted(set(branch_ids))
    out: dict[int, Run] = {}
    newest_first = (
        Evaluation.meeting_date.desc(),
        Evaluation.submitted_at.desc(),
        Evaluation.uuid.desc(),
    )
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        conditions = [Evaluation.branch_id.in_(chunk), not_superseded()]
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
                Evaluation.submitted_at,
                Evaluation.uuid,
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
                sa.func.max(sa.case((first, ranked.c.submitted_at))),
                sa.func.max(sa.case((first, ranked.c.uuid))),
                sa.func.max(sa.case((sa.and_(first, ranked.c.compliant), 1), else_=0)),
                sa.func.max(sa.case((sa.and_(first, ranked.c.serious), 1), else_=0)),
            ).group_by(ranked.c.branch_id)
        ).all()
        for branch_id, length, run_since, broken, ev_id, *latest in rows:
            meeting, submitted, uuid, ok, grave = latest
            newest = flags.EvalSummary(ev_id, meeting, submitted, uuid, bool(ok), bool(grave))
            out[branch_id] = Run(newest, int(length), run_since, bool(broken))
    return out


def effective_state_expr(today: date, overdue_days: int) -> sa.ColumnElement[str]:
    """``flags.effective_state`` as SQL, over an outer join of Unit and BranchStatus.

    Why a second form: the lists, counts and exports filter, sort and count branches
    by state in the database (a province holds thousands). It relies on a stored row
    having no ``last_meeting_date`` exactly when its state is NEVER. Held to
    ``flags.effective_state`` by ``tests/test_status_runs.py``
    (``test_effective_state_expr_equals_effective_state``).
    """
    cutoff = today - timedelta(days=overdue_days)
    return sa.case(
        (BranchStatus.last_meeting_date.is_(None), sa.literal(flags.NEVER)),
        (BranchStatus.last_meeting_date < cutoff, sa.literal(flags.OVERDUE)),
        else_=BranchStatus.state,
    )


def count_states(unit: Unit, today: date | None = None) -> dict[str, int]:
    """Active branches under ``unit`` per effective state: one grouped query, no evaluation scan."""
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
