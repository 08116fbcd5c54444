"""Photo evidence (issue 20): uploaded from the phone's outbox under /api/v1/photos, kept
outside the database behind storage.py, shown to those who may see the evaluation."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

cli = AppGroup("photos", help="Photo evidence kept beside the database.")


@cli.command("purge")
@click.option(
    "--older-than",
    "days",
    type=click.IntRange(min=1),
    default=None,
    help="Days; default COSO_PHOTO_KEEP_DAYS.",
)
@with_appcontext
def purge(days: int | None) -> None:
    """Remove the originals of old photos, keeping their thumbnails (the retention setting)."""
    from coso.photos import service

    days = days or current_app.config.get("PHOTO_KEEP_DAYS")
    if not days:
        raise click.UsageError("Give --older-than DAYS or set COSO_PHOTO_KEEP_DAYS.")
    count = service.purge_originals(int(days))
    click.echo(f"Removed the originals of {count} photo(s) older than {days} days.")


def init_app(app: Flask) -> None:
    """Register the upload API (it checks CSRF itself, after authentication) and the reads."""
    from coso.extensions import csrf
    from coso.photos import views

    csrf.exempt(views.api)
    app.register_blueprint(views.api)
    app.register_blueprint(views.bp)
    app.cli.add_command(cli)
