"""Accounts: who signs in, with which roles, at which home unit; their pages, import and command.

rules.py holds the password policy, roles and who may change whom; views.py the
administration pages (on the ``admin`` blueprint); imports.py the spreadsheet
import; ``flask --app app create-user`` is defined here.
"""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import with_appcontext

from coso import audit
from coso.extensions import db
from coso.models import Unit, User
from coso.models.users import ROLES
from coso.users.queries import username_taken
from coso.users.words import password_problems


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
    username = username.strip().lower()
    role_list = [role.strip() for role in roles.split(",") if role.strip()]
    unknown = set(role_list) - set(ROLES)
    if not role_list or unknown:
        raise click.BadParameter(f"roles must be from {', '.join(ROLES)}", param_hint="--roles")
    unit = db.session.scalar(sa.select(Unit).where(Unit.code == unit_code))
    if unit is None:
        raise click.BadParameter(f"no unit with code {unit_code!r}", param_hint="--unit")
    if username_taken(username):
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
    """Attach the account pages to the admin blueprint and register ``create-user``.

    Call before ``admin.init_app``, which registers the blueprint.
    """
    # Imported here, not at the top: the views pull in the web layer (the admin blueprint,
    # the templates' helpers), which the rules and the command do not need.
    from coso.users import views  # noqa: F401

    app.cli.add_command(create_user)
