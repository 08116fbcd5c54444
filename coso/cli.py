"""Commands: ``flask --app app seed-demo | create-user``; each part of the domain registers its own
(``import-units`` in coso.units, ``refresh-flags`` and ``apply-settings`` in coso.judging)."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import with_appcontext

from coso import audit
from coso.extensions import db
from coso.models import Unit, User
from coso.models.users import ROLES


@click.command("seed-demo")
@click.option("--force", is_flag=True, help="Wipe a database that already holds data.")
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) when data exists.")
@click.option("--branches", default=200, show_default=True, help="How many branches.")
@click.option("--months", default=6, show_default=True, help="Months of evaluations.")
@click.option("--communes", default=None, type=int, help="Commune unions (default: branches/10).")
@click.option("--seed", "random_seed", default=2026, show_default=True, help="Random seed.")
@with_appcontext
def seed_demo(
    force: bool, if_empty: bool, branches: int, months: int, communes: int | None, random_seed: int
) -> None:
    """Load a realistic demo province (refuses a non-empty database without --force)."""
    from coso import demo

    has_data = bool(db.session.scalar(sa.select(sa.func.count()).select_from(Unit)))
    if has_data and if_empty and not force:
        click.echo("The database already holds data; the demo was not loaded.")
        return
    if has_data and not force:
        raise click.ClickException(
            "The database already holds data; run with --force to replace it with the demo."
        )
    if branches < 5 or months < 1 or months > 60:
        raise click.BadParameter("need at least 5 branches and 1 to 60 months")
    summary = demo.seed(
        branches=branches,
        months=months,
        communes=communes,
        random_seed=random_seed,
        wipe=force,
        progress=lambda msg: click.echo(msg),
    )
    click.echo(summary)
    click.secho(
        f"Demo users {', '.join(demo.DEMO_USERS)} — password '{demo.DEMO_PASSWORD}'. "
        "WARNING: for the demo only; never use these on a real server.",
        fg="yellow",
    )


@click.command("create-user")
@click.argument("username")
@click.option("--roles", required=True, help=f"Comma-separated, from: {', '.join(ROLES)}.")
@click.option("--unit", "unit_code", required=True, help="Home unit code (bounds what they see).")
@click.option("--name", "display_name", default=None, help="Display name.")
@click.password_option(help="Asked for, not echoed, when not given.")
@with_appcontext
def create_user(
    username: str, roles: str, unit_code: str, display_name: str | None, password: str
) -> None:
    """Create a user with roles and a home unit."""
    from coso.passwords import password_problems

    username = username.strip().lower()
    role_list = [role.strip() for role in roles.split(",") if role.strip()]
    unknown = set(role_list) - set(ROLES)
    if not role_list or unknown:
        raise click.BadParameter(f"roles must be from {', '.join(ROLES)}", param_hint="--roles")
    unit = db.session.scalar(sa.select(Unit).where(Unit.code == unit_code))
    if unit is None:
        raise click.BadParameter(f"no unit with code {unit_code!r}", param_hint="--unit")
    if db.session.scalar(sa.select(User).where(User.username == username)):
        raise click.ClickException(f"user {username!r} already exists")
    problems = password_problems(password, username)
    if problems:
        raise click.ClickException("; ".join(problems))
    user = User(username=username, display_name=display_name or username, unit=unit)
    user.role_list = role_list
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", obj=user, unit_id=unit.id, username=username, roles=role_list)
    db.session.commit()
    click.echo(f"Created {username} ({', '.join(role_list)}) at {unit.name}.")


def init_app(app: Flask) -> None:
    for command in (seed_demo, create_user):
        app.cli.add_command(command)
