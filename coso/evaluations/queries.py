"""Reading evaluations: which ones are still in force, one evaluation for a view, and the
references a batch names (loaded once for the batch).

A correction is a new evaluation whose ``supersedes_id`` points at the one it
replaces; every count, rate and list that should see only evaluations in force
filters with :func:`not_superseded`, and a list marks the replaced ones with
:func:`superseded`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import abort
from sqlalchemy.orm import aliased

from coso import scope
from coso.evaluations.rules import MAX_ID, canonical_uuid
from coso.extensions import db
from coso.models import ChecklistTemplate, Evaluation, Guidance, Unit, User


def _corrected() -> sa.Select[tuple[int | None]]:
    """The ids some correction replaced (the non-null part of the unique ``supersedes_id``)."""
    later = aliased(Evaluation)
    return sa.select(later.supersedes_id).where(later.supersedes_id.is_not(None))


def not_superseded() -> sa.ColumnElement[bool]:
    """Evaluations no correction has replaced.

    ``NOT IN`` the few corrected ids (read once from the non-null part of the unique
    ``supersedes_id`` index), not ``NOT EXISTS``: a probe per evaluation cost twice
    as much on SQLite, and over a period's many rows PostgreSQL turned the latter
    into a hash anti-join that scans every evaluation.
    """
    return Evaluation.id.not_in(_corrected())


def superseded() -> sa.ColumnElement[bool]:
    """Evaluations a correction has replaced (the complement of :func:`not_superseded`)."""
    return Evaluation.id.in_(_corrected())


def evaluation_or_403(user: User, evaluation_id: int, action: str = "view") -> Evaluation:
    """The evaluation, if ``user`` may do ``action`` on its branch: else 404, or 403 with why."""
    evaluation = db.session.get(Evaluation, evaluation_id)
    if evaluation is None:
        abort(404)
    if not scope.may(user, action, evaluation.branch):
        scope.deny(user, evaluation.branch)
    return evaluation


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
