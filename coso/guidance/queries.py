"""Which month's guidance applies to a branch: the nearest issuing unit above it."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from coso.extensions import db
from coso.models import Guidance, Unit


def period_of(day: date) -> str:
    """The guidance period (YYYY-MM) a meeting on ``day`` falls in."""
    return f"{day.year:04d}-{day.month:02d}"


def previous_period(period: str) -> str:
    year, month = int(period[:4]), int(period[5:])
    return f"{year - 1:04d}-12" if month == 1 else f"{year:04d}-{month - 1:02d}"


def guidance_for(unit: Unit, period: str) -> Guidance | None:
    """The guidance for ``period`` issued by the unit closest above ``unit`` (or itself)."""
    return db.session.scalar(
        sa.select(Guidance)
        .join(Unit, Unit.id == Guidance.unit_id)
        .where(Guidance.unit_id.in_(unit.ancestor_ids), Guidance.period == period)
        .order_by(Unit.depth.desc())
        .limit(1)
    )


def applies_to(guidance: Guidance, unit: Unit) -> bool:
    """True when ``guidance`` was issued by ``unit`` or a unit above it."""
    return guidance.unit_id in unit.ancestor_ids
