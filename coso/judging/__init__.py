"""Judging: scoring an evaluation, a branch's flag state, the thresholds in force, re-judging.

``scoring`` and ``flags`` are the pure rules; ``queries`` reads the thresholds and
the branch status rows; ``service`` keeps those rows current; ``rejudge`` changes
thresholds and judges again; ``views`` is the settings page (on the ``admin``
blueprint). :func:`init_app` attaches the page and the ``refresh-flags`` and
``apply-settings`` commands.

This module imports no part of the package at import time: every import of
``coso.judging.scoring`` or ``flags`` runs it first, and ``coso.checklists``
(which ``rejudge`` needs) imports ``scoring``.
"""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import with_appcontext

from coso import audit
from coso.extensions import db
from coso.models import Unit


@click.command("refresh-flags")
@with_appcontext
def refresh_flags() -> None:
    """Recompute every branch's state from its evaluations, and apply 'overdue'."""
    from coso.judging.service import refresh_all  # not at import time: see the module's note

    counts = refresh_all()
    db.session.commit()
    click.echo(", ".join(f"{state}: {n}" for state, n in sorted(counts.items())))


@click.command("apply-settings")
@click.option("--unit", "unit_code", default=None, help="Only this unit's subtree (default: all).")
@with_appcontext
def apply_settings(unit_code: str | None) -> None:
    """Re-judge branch states under the settings in force (when changed outside the app)."""
    from coso.judging.rejudge import rejudge  # not at import time: see the module's note

    if unit_code:
        roots = list(db.session.scalars(sa.select(Unit).where(Unit.code == unit_code)))
        if not roots:
            raise click.BadParameter(f"no unit with code {unit_code!r}", param_hint="--unit")
    else:
        roots = list(db.session.scalars(sa.select(Unit).where(Unit.parent_id.is_(None))))
    for root in roots:
        summary = rejudge(root)
        audit.record("settings.apply", unit_id=root.id, rejudged=summary.as_dict())
        db.session.commit()
        click.echo(
            f"{root.code}: {summary.evaluations} evaluations judged again, "
            f"{summary.branches} branch states recomputed"
        )


def init_app(app: Flask) -> None:
    """Attach the settings page to the admin blueprint (before it is registered) and the CLI."""
    from coso.judging import views  # noqa: F401  (its routes attach to coso.admin.blueprint.bp)

    for command in (refresh_flags, apply_settings):
        app.cli.add_command(command)
