"""Writes to the unit tree: add, edit, move, (de)activate, and apply a checked import.

Units are never deleted: history (evaluations, audit events) points at them.
Every change is recorded in the audit log with before/after; the caller commits.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from coso import audit, clock
from coso.extensions import db
from coso.judging.queries import settings_for_path
from coso.judging.rejudge import rejudge
from coso.models import Unit
from coso.models.units import SecretaryTerm, place
from coso.units.queries import current_term, units_in
from coso.units.rules import UNCHANGED, ImportReport, audit_snapshot


def _parent_code(unit: Unit) -> str | None:
    return unit.parent.code if unit.parent else None


def apply_edit(unit: Unit, data: dict[str, Any]) -> None:
    """Write edited fields onto a unit and record the change (caller commits)."""
    before = audit_snapshot(unit, _parent_code(unit))
    previous_secretary = unit.secretary_name
    for key, value in data.items():
        setattr(unit, key, value)
    note_secretary(unit, previous_secretary)
    after = audit_snapshot(unit, _parent_code(unit))
    audit.record("unit.update", obj=unit, unit_id=unit.id, **audit.changes(before, after))


def add_unit(parent: Unit, data: dict[str, Any]) -> Unit:
    """Create a unit under ``parent`` and record it (caller commits)."""
    unit = Unit(**data)
    place(unit, parent)
    note_secretary(unit, None)
    audit.record(
        "unit.create",
        obj=unit,
        unit_id=unit.id,
        after=audit_snapshot(unit, parent.code),
    )
    return unit


def move_unit(unit: Unit, parent: Unit) -> dict[str, Any]:
    """Move a unit (its subtree and its users' scope follow) and re-judge if settings differ."""
    old_settings = settings_for_path(unit.path)
    before = {"parent_code": _parent_code(unit), "path": unit.path}
    move(unit, parent)
    db.session.flush()
    after = {"parent_code": parent.code, "path": unit.path}
    details: dict[str, Any] = {"before": before, "after": after}
    if settings_for_path(unit.path) != old_settings:
        details["rejudged"] = rejudge(unit).as_dict()
    audit.record("unit.move", obj=unit, unit_id=unit.id, **details)
    return details


def set_active(unit: Unit, active: bool) -> None:
    """Deactivate a unit or bring it back, and record it (caller commits)."""
    audit.record(
        "unit.activate" if active else "unit.deactivate",
        obj=unit,
        unit_id=unit.id,
        before={"active": unit.active},
        after={"active": active},
    )
    unit.active = active


def move(unit: Unit, parent: Unit | None) -> None:
    """Re-hang ``unit`` under ``parent``; its whole subtree's paths follow.

    Users keep their home unit, and scope is computed from paths, so every user
    at or under ``unit`` now sees the subtree in its new place.
    """
    old_path = unit.path
    descendants = db.session.scalars(
        sa.select(Unit).where(unit.subtree_clause(), Unit.id != unit.id)
    ).all()
    place(unit, parent)
    for child in descendants:
        child.path = unit.path + child.path[len(old_path) :]
        child.depth = child.path.count("/") - 2


# --- Secretary terms


def note_secretary(unit: Unit, previous: str | None) -> None:
    """Keep a branch's secretary terms in step with its secretary's name.

    A new name closes the open term (on the new secretary's since-date, or today)
    and opens one for the new secretary; Party membership updates the open term.
    """
    if unit.kind != "branch":
        return
    if previous and unit.secretary_name != previous:
        _close_term(unit)
    if unit.secretary_name:
        term = _open_term(unit)
        term.party_member = bool(unit.secretary_party_member)
        if term.started_on is None:
            term.started_on = unit.secretary_since


def _close_term(unit: Unit) -> None:
    term = current_term(unit)
    if term is not None:
        term.ended_on = unit.secretary_since or clock.today()


def _open_term(unit: Unit) -> SecretaryTerm:
    term = current_term(unit)
    if term is None:
        term = SecretaryTerm(
            branch_id=unit.id,
            name=unit.secretary_name or "",
            party_member=bool(unit.secretary_party_member),
            started_on=unit.secretary_since,
        )
        db.session.add(term)
    return term


# --- The spreadsheet import


def apply_import(report: ImportReport, root: Unit | None) -> tuple[int, int]:
    """Write a clean report (of :func:`coso.units.imports.check`); returns (created, updated).

    Everything happens in the current transaction. Every unit created or changed
    gets its own audit event with before/after.
    """
    if not report.ok:
        raise ValueError("refusing to apply a report with errors")
    units = units_in(root)
    code_by_id = {unit.id: code for code, unit in units.items()}
    created = updated = 0
    for row in report.rows:
        if row.action == UNCHANGED:
            continue
        values = dict(row.values)
        parent_code = values.pop("parent_code")
        parent = units[parent_code] if parent_code else None
        unit = units.get(row.code)
        if unit is None:
            unit = Unit(code=row.code, **values)
            place(unit, parent)
            units[row.code] = unit
            code_by_id[unit.id] = unit.code
            note_secretary(unit, None)
            audit.record(
                "unit.create",
                obj=unit,
                unit_id=unit.id,
                via="import",
                after=audit_snapshot(unit, parent_code),
            )
            created += 1
            continue
        before = audit_snapshot(unit, code_by_id.get(unit.parent_id or 0))
        previous_secretary = unit.secretary_name
        for key, value in values.items():
            setattr(unit, key, value)
        if unit.parent_id != (parent.id if parent else None):
            move(unit, parent)
        note_secretary(unit, previous_secretary)
        after = audit_snapshot(unit, parent_code)
        audit.record(
            "unit.update", obj=unit, unit_id=unit.id, via="import", **audit.changes(before, after)
        )
        updated += 1
    db.session.flush()
    return created, updated
