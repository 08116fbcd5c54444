"""The thresholds in force for a unit: the nearest override above it, else domain.md's defaults."""

from __future__ import annotations

import sqlalchemy as sa

from coso.extensions import db
from coso.models import UnitSettings
from coso.scoring import Settings


def settings_for_path(path: str) -> Settings:
    """Settings for the unit at ``path``: the deepest ancestor's overrides win."""
    ids = [int(part) for part in path.strip("/").split("/") if part]
    if not ids:
        return Settings()
    rows = {
        row.unit_id: row.values
        for row in db.session.scalars(sa.select(UnitSettings).where(UnitSettings.unit_id.in_(ids)))
    }
    merged: dict[str, object] = {}
    for unit_id in ids:  # root first, so deeper units override
        merged.update(rows.get(unit_id, {}))
    return Settings.from_mapping(merged)
