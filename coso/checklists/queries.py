"""Which checklist a branch is evaluated on, and the other reads of checklist versions."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from coso import scope
from coso.extensions import db
from coso.models import ChecklistTemplate, Evaluation, Unit, User
from coso.models.checklists import DRAFT, PUBLISHED


def current_template(unit: Unit) -> ChecklistTemplate | None:
    """The newest published template of the nearest unit above ``unit`` that issued one."""
    return db.session.scalar(
        sa.select(ChecklistTemplate)
        .join(Unit, Unit.id == ChecklistTemplate.unit_id)
        .where(
            ChecklistTemplate.unit_id.in_(unit.ancestor_ids),
            ChecklistTemplate.status == PUBLISHED,
        )
        .order_by(Unit.depth.desc(), ChecklistTemplate.version.desc())
        .limit(1)
    )


def current_templates(units: Iterable[Unit]) -> dict[int, ChecklistTemplate | None]:
    """:func:`current_template` of each unit, by unit id, in one query (and one for the items)."""
    units = list(units)
    above = {uid for unit in units for uid in unit.ancestor_ids}
    found = db.session.scalars(
        sa.select(ChecklistTemplate)
        .join(Unit, Unit.id == ChecklistTemplate.unit_id)
        .where(ChecklistTemplate.unit_id.in_(above), ChecklistTemplate.status == PUBLISHED)
        .order_by(Unit.depth.desc(), ChecklistTemplate.version.desc())
    ).all()
    newest: dict[int, ChecklistTemplate] = {}
    for template in found:  # the deepest issuer first, its newest version first
        newest.setdefault(template.unit_id, template)
    out: dict[int, ChecklistTemplate | None] = {}
    for unit in units:
        nearest = next((uid for uid in reversed(unit.ancestor_ids) if uid in newest), None)
        out[unit.id] = newest[nearest] if nearest is not None else None
    return out


def draft_of(unit: Unit) -> ChecklistTemplate | None:
    """The unit's draft version, if it has one (a unit has at most one)."""
    return db.session.scalar(
        sa.select(ChecklistTemplate).where(
            ChecklistTemplate.unit_id == unit.id, ChecklistTemplate.status == DRAFT
        )
    )


def latest_version(unit: Unit) -> int:
    """The highest version number ``unit`` has issued (0 when none)."""
    latest = db.session.scalar(
        sa.select(sa.func.max(ChecklistTemplate.version)).where(
            ChecklistTemplate.unit_id == unit.id
        )
    )
    return latest or 0


def template_unit(template: ChecklistTemplate) -> Unit:
    """The unit that issued ``template``."""
    unit = db.session.get(Unit, template.unit_id)
    assert unit is not None
    return unit


def published_elsewhere(template: ChecklistTemplate) -> int:
    """How many other published versions the issuing unit's branches could fall back on."""
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(ChecklistTemplate)
            .join(Unit, Unit.id == ChecklistTemplate.unit_id)
            .where(
                ChecklistTemplate.unit_id.in_(template_unit(template).ancestor_ids),
                ChecklistTemplate.status == PUBLISHED,
                ChecklistTemplate.id != template.id,
            )
        )
        or 0
    )


def evaluation_count(template: ChecklistTemplate) -> int:
    """How many evaluations were filled on ``template``."""
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Evaluation)
            .where(Evaluation.template_id == template.id)
        )
        or 0
    )


def versions_by_unit(user: User) -> list[tuple[Unit, list[ChecklistTemplate]]]:
    """Every version issued in ``user``'s area, grouped by unit (top first, newest first)."""
    rows = db.session.execute(
        sa.select(ChecklistTemplate, Unit)
        .join(Unit, Unit.id == ChecklistTemplate.unit_id)
        .where(scope.scope_clause(user))
        .order_by(Unit.depth, Unit.name, ChecklistTemplate.version.desc())
    ).all()
    by_unit: dict[int, tuple[Unit, list[ChecklistTemplate]]] = {}
    for template, unit in rows:
        by_unit.setdefault(unit.id, (unit, []))[1].append(template)
    return list(by_unit.values())
