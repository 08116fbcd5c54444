"""Which checklist a branch is evaluated on, and the template as the scoring rules see it."""

from __future__ import annotations

import sqlalchemy as sa

from coso.extensions import db
from coso.judging.scoring import ItemSpec
from coso.models import ChecklistTemplate, Unit
from coso.models.checklists import PUBLISHED


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


def item_specs(template: ChecklistTemplate) -> tuple[ItemSpec, ...]:
    """The template's items as plain data for coso.judging.scoring."""
    return tuple(
        ItemSpec(
            code=item.code,
            section=item.section,
            weight=item.weight,
            critical=item.critical,
            kind=item.kind,
        )
        for item in template.items
    )
