"""The thresholds in force for a unit: the nearest override above it, else domain.md's defaults."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from coso.extensions import db
from coso.models import UnitSettings
from coso.scoring import Settings

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
