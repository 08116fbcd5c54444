"""Reading evaluations: which ones are still in force, and one evaluation for a view.

A correction is a new evaluation whose ``supersedes_id`` points at the one it
replaces; every count, rate and list that should see only evaluations in force
filters with :func:`not_superseded`, and a list marks the replaced ones with
:func:`superseded`.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort
from sqlalchemy.orm import aliased

from coso import scope
from coso.extensions import db
from coso.models import Evaluation, User


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
