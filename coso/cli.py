"""The ``flask --app app seed-demo`` command; each part of the domain registers its own
(``create-user`` in coso.users, ``import-units`` in coso.units, ``refresh-flags`` and
``apply-settings`` in coso.judging)."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import with_appcontext

from coso.extensions import db
from coso.models import Unit


@click.command("seed-demo")
@click.option("--force", is_flag=True, help="Wipe a database that already holds data.")
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) when data exists.")
@click.option("--branches", default=200, show_default=True, help="How many branches.")
@click.option(
    "--months",
    default=None,
    type=int,
    help="Months of evaluations (default: this month and the dashboard's 12-month trend).",
)
@click.option("--communes", default=None, type=int, help="Commune unions (default: branches/10).")
@click.option("--seed", "random_seed", default=2026, show_default=True, help="Random seed.")
@click.option(
    "--provinces",
    default=0,
    type=click.IntRange(0, 63),
    help="A national demo: the Central Committee over N provinces, --branches each "
    "(default: one province, no central unit).",
)
@with_appcontext
def seed_demo(
    force: bool,
    if_empty: bool,
    branches: int,
    months: int | None,
    communes: int | None,
    random_seed: int,
    provinces: int,
) -> None:
    """Load a realistic demo province (refuses a non-empty database without --force)."""
    from coso import demo  # only here: the demo stays off the request path

    has_data = bool(db.session.scalar(sa.select(sa.func.count()).select_from(Unit)))
    if has_data and if_empty and not force:
        click.echo("The database already holds data; the demo was not loaded.")
        return
    if has_data and not force:
        raise click.ClickException(
            "The database already holds data; run with --force to replace it with the demo."
        )
    if branches < 5 or (months is not None and not 1 <= months <= 60):
        raise click.BadParameter("need at least 5 branches and 1 to 60 months")
    summary = demo.seed(
        branches=branches,
        months=months,
        communes=communes,
        random_seed=random_seed,
        wipe=force,
        progress=lambda msg: click.echo(msg),
        provinces=provinces,
    )
    click.echo(summary)
    click.secho(
        f"Demo users {', '.join(demo.DEMO_USERS)}{', central' if provinces else ''} — "
        f"password '{demo.DEMO_PASSWORD}'. "
        "WARNING: for the demo only; never use these on a real server.",
        fg="yellow",
    )


def init_app(app: Flask) -> None:
    for command in (seed_demo,):
        app.cli.add_command(command)
