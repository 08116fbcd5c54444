"""Reads for storing evaluations: the references a batch names, loaded once for the batch."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from coso import scope
from coso.evaluations.rules import MAX_ID, canonical_uuid
from coso.extensions import db
from coso.models import ChecklistTemplate, Evaluation, Guidance, Unit, User


@dataclass
class Catalog:
    """What validating a batch needs from the database, loaded once for the whole batch."""

    user: User
    branches: dict[int, Unit] = field(default_factory=dict)
    templates: dict[int, ChecklistTemplate] = field(default_factory=dict)
    guidance: dict[int, Guidance] = field(default_factory=dict)
    own: dict[str, Evaluation] = field(default_factory=dict)

    @classmethod
    def load(cls, user: User, items: Iterable[dict[str, Any]]) -> Catalog:
        items = [item for item in items if isinstance(item, dict)]

        def ids(key: str) -> set[int]:
            return {
                v
                for item in items
                if isinstance(v := item.get(key), int)
                and not isinstance(v, bool)
                and 0 < v <= MAX_ID
            }

        catalog = cls(user=user)
        branch_ids = ids("branch_id")
        if branch_ids:
            catalog.branches = {
                unit.id: unit
                for unit in db.session.scalars(
                    sa.select(Unit).where(
                        Unit.id.in_(branch_ids), scope.scope_clause(user), Unit.active.is_(True)
                    )
                )
            }
        template_ids = ids("template_id")
        if template_ids:
            catalog.templates = {
                t.id: t
                for t in db.session.scalars(
                    sa.select(ChecklistTemplate).where(ChecklistTemplate.id.in_(template_ids))
                )
            }
        guidance_ids = ids("guidance_id")
        if guidance_ids:
            catalog.guidance = {
                g.id: g
                for g in db.session.scalars(
                    sa.select(Guidance).where(Guidance.id.in_(guidance_ids))
                )
            }
        supersedes = {s for item in items if (s := canonical_uuid(item.get("supersedes")))}
        if supersedes:
            catalog.own = {
                ev.uuid: ev
                for ev in db.session.scalars(
                    sa.select(Evaluation).where(
                        Evaluation.uuid.in_(supersedes), Evaluation.cadre_id == user.id
                    )
                )
            }
        return catalog
