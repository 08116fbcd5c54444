"""Reads of judging: the thresholds in force for a unit, branches' histories and states.

Thresholds: the nearest override above a unit, else domain.md's defaults; for
the branches of a page, :func:`thresholds` resolves each branch's own.
"Overdue" depends on today's date, so it is never stored: it is applied when
read (``flags.effective_state`` and :meth:`Thresholds.state_expr`), which keeps
it exact without a nightly job.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, NamedTuple, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from coso import clock
from coso.evaluations.queries import not_superseded, superseded
from coso.extensions import among, db
from coso.judging import flags
from coso.judging.scoring import DEFAULT_SETTINGS, Settings
from coso.models import BranchStatus, Evaluation, Unit, UnitSettings
from coso.models.units import subtree_of

_CHUNK = 500  # ids per IN (...): well under every database's limit on bound parameters
_V = TypeVar("_V")


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
    paths = set(paths)
    ancestors = sorted({uid for path in paths for uid in path_ids(path)})
    raw: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ancestors), _CHUNK):
        raw.update(_overrides(among(UnitSettings.unit_id, ancestors[start : start + _CHUNK])))
    resolved = Thresholds.from_overrides(raw)
    return {path: resolved.at(path) for path in paths}


def _overrides(condition: sa.ColumnElement[bool]) -> dict[str, dict[str, Any]]:
    """The stored overrides of the units matching ``condition`` (on ``Unit``), by unit path."""
    rows = db.session.execute(
        sa.select(Unit.path, UnitSettings.values)
        .join(Unit, Unit.id == UnitSettings.unit_id)
        .where(condition)
    )
    return {path: values or {} for path, values in rows}


@dataclass(frozen=True)
class Thresholds:
    """The settings in force at every branch of a page, export, pack or count.

    Settings are inherited down the tree (province → commune → branch; the deepest
    override wins), so two branches on one page may have different overdue windows.
    Resolved once per request by :func:`thresholds`; read per branch in Python
    (:meth:`at`, :meth:`effective_state`) and in SQL (:meth:`state_expr`,
    :meth:`since_expr`, :meth:`per_branch`), which are the same resolution: a list
    page, its counts, its export and the branch's own page cannot disagree.

    ``base`` holds wherever no override of ``overrides`` applies; ``overrides``
    are (unit path, settings in force there), the deepest first.
    """

    base: Settings = DEFAULT_SETTINGS
    overrides: tuple[tuple[str, Settings], ...] = ()

    @classmethod
    def from_overrides(
        cls, raw: Mapping[str, Mapping[str, Any]], within: str | None = None
    ) -> Thresholds:
        """Merge stored overrides (unit path → values) down their chains.

        ``raw`` must hold every override above each unit it holds. Overrides of
        ``within`` and its ancestors become ``base``; the rest stay per subtree.
        """
        merged: dict[str, Settings] = {}
        values: dict[str, dict[str, Any]] = {}
        for path in sorted(raw, key=len):  # ancestors first: a parent's path is shorter
            parent = max((p for p in values if path.startswith(p)), key=len, default=None)
            values[path] = {**(values[parent] if parent else {}), **raw[path]}
            merged[path] = Settings.from_mapping(values[path])
        base = DEFAULT_SETTINGS
        if within is not None:
            above = [p for p in merged if within.startswith(p)]
            base = merged[max(above, key=len)] if above else DEFAULT_SETTINGS
            merged = {p: s for p, s in merged.items() if p not in above}
        deepest_first = sorted(merged.items(), key=lambda item: -len(item[0]))
        return cls(base, tuple(deepest_first))

    def at(self, path: str) -> Settings:
        """The settings in force at the unit at ``path``."""
        for prefix, settings in self.overrides:
            if path.startswith(prefix):
                return settings
        return self.base

    def effective_state(
        self, row: flags.Stored | None, path: str, today: date
    ) -> tuple[str, date | None]:
        """``flags.effective_state`` of the branch at ``path`` under its own overdue window."""
        return flags.effective_state(row, today, self.at(path).overdue_days)

    def per_branch(
        self, pick: Callable[[Settings], _V], make: Callable[[_V], sa.ColumnElement[Any]]
    ) -> sa.ColumnElement[Any]:
        """``make(pick(settings in force))`` for the row's branch (``Unit.path``), as SQL.

        A CASE on path ranges, deepest first, with a WHEN only where the value
        changes; without any, one plain expression (the common case: one province).
        """
        whens = []
        for index, (prefix, settings) in enumerate(self.overrides):
            enclosing = next(
                (s for p, s in self.overrides[index + 1 :] if prefix.startswith(p)), self.base
            )
            if pick(settings) != pick(enclosing):
                whens.append((subtree_of(prefix), make(pick(settings))))
        fallback = make(pick(self.base))
        return sa.case(*whens, else_=fallback) if whens else fallback

    def state_expr(self, today: date) -> sa.ColumnElement[str]:
        """:meth:`effective_state` as SQL, over ``Unit`` (the branch) outer-joined to BranchStatus.

        Why a second form: the lists, counts and exports filter, sort and count
        branches by state in the database (a province holds thousands). It relies on
        a stored row having no ``last_meeting_date`` exactly when its state is NEVER.
        Held to :meth:`effective_state` by ``tests/test_status_runs.py`` and
        ``tests/test_branch_thresholds.py``.
        """
        cutoff = self.per_branch(
            lambda s: today - timedelta(days=s.overdue_days), lambda d: sa.literal(d, sa.Date)
        )
        return sa.case(
            (BranchStatus.last_meeting_date.is_(None), sa.literal(flags.NEVER)),
            (BranchStatus.last_meeting_date < cutoff, sa.literal(flags.OVERDUE)),
            else_=BranchStatus.state,
        )

    def since_expr(self, today: date) -> sa.ColumnElement[date]:
        """Since when :meth:`state_expr` holds: an overdue branch since its last meeting
        plus its overdue window (the second half of :meth:`effective_state`)."""
        cutoff = self.per_branch(
            lambda s: today - timedelta(days=s.overdue_days), lambda d: sa.literal(d, sa.Date)
        )
        overdue_since = self.per_branch(
            lambda s: s.overdue_days, lambda n: _plus_days(BranchStatus.last_meeting_date, n)
        )
        return sa.case(
            (BranchStatus.last_meeting_date.is_(None), sa.null()),
            (BranchStatus.last_meeting_date < cutoff, overdue_since),
            else_=BranchStatus.since,
        )


def _plus_days(column: Any, days: int) -> sa.ColumnElement[date]:
    """``column + days`` for a date column, in the dialect's own words."""
    if db.session.get_bind().dialect.name == "sqlite":
        return sa.func.date(column, f"+{int(days)} days", type_=sa.Date)
    return sa.cast(column + sa.literal(int(days)), sa.Date)


def thresholds(branches: Unit | Iterable[int]) -> Thresholds:
    """The settings in force at each branch of a unit's subtree, or of some branch ids.

    One query (per 500 ids) reads the overrides of the units above or inside the
    set; each view resolves this once and hands it to its lists, counts and
    exports, so every surface judges a branch by the branch's own settings, not
    by those of the unit being viewed.
    """
    if isinstance(branches, Unit):
        condition = sa.or_(among(Unit.id, branches.ancestor_ids), branches.subtree_clause())
        return Thresholds.from_overrides(_overrides(condition), within=branches.path)
    ids = sorted(set(branches))
    branch = aliased(Unit)
    raw: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), _CHUNK):
        above = (
            sa.select(branch.id)
            .where(among(branch.id, ids[start : start + _CHUNK]), branch.path.startswith(Unit.path))
            .exists()
        )
        raw.update(_overrides(above))
    return Thresholds.from_overrides(raw)


def inherited_from(unit: Unit) -> dict[str, Unit]:
    """For each setting a unit above ``unit`` overrides, the nearest such unit.

    Where a value on the settings page comes from: a province's inherited value may be the
    national default its Central Committee set; a key missing here is the app's default.
    """
    above = unit.ancestor_ids[:-1]
    if not above:
        return {}
    rows = db.session.execute(
        sa.select(Unit, UnitSettings.values)
        .join(UnitSettings, UnitSettings.unit_id == Unit.id)
        .where(among(Unit.id, above))
        .order_by(Unit.depth)
    ).all()
    out: dict[str, Unit] = {}
    for owner, values in rows:  # the root first: a deeper unit's override replaces it
        out.update(dict.fromkeys(values or {}, owner))
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
            sa.select(*columns).where(among(Evaluation.branch_id, ids[start : start + _CHUNK]))
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
        conditions = [among(Evaluation.branch_id, chunk), not_superseded()]
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


def count_states(
    unit: Unit, today: date | None = None, resolved: Thresholds | None = None
) -> dict[str, int]:
    """Active branches under ``unit`` per effective state: one grouped query, no evaluation scan.

    :param resolved: the request's :func:`thresholds` of ``unit``, if it has them already.
    """
    today = today or clock.today()
    state = (resolved or thresholds(unit)).state_expr(today)
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
