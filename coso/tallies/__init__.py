"""Reads of the summary rows the database keeps per commune and month (``coso.models.tallies``).

The pages that count a period's evaluations over many branches (the national roll-up,
where to act) read these rows instead of the evaluations when the period is whole months;
``flask tallies check`` and ``flask tallies rebuild`` are for an operator.
"""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

tallies_cli = AppGroup("tallies", help="The evaluation tallies per commune and month.")


@tallies_cli.command("check")
def check() -> None:
    """Compare the stored tallies with a count from the evaluations (changes nothing)."""
    from coso.tallies import service

    wrong = service.differences()
    if wrong:
        shown = "; ".join(str(key) for key in wrong[:10])
        raise click.ClickException(f"{len(wrong)} tally rows differ from a recount: {shown}")
    click.echo("The tallies equal a count from the evaluations.")


@tallies_cli.command("rebuild")
def rebuild() -> None:
    """Replace the tallies with a count from the evaluations."""
    from coso.extensions import db
    from coso.tallies import service

    service.rebuild()
    db.session.commit()
    click.echo("The tallies were counted again from the evaluations.")


def init_app(app: Flask) -> None:
    app.cli.add_command(tallies_cli)
