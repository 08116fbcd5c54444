"""Notifications (issue 21, items 1 and 2): an outbox written with each change, a worker that
delivers it by channel (in-app, email), a notification centre, preferences and digests."""

from __future__ import annotations

import os

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

#: Mail settings read from the environment when the config does not set them already.
_MAIL_KEYS = (
    "COSO_SMTP_URL",
    "COSO_MAIL_FROM",
    "COSO_BASE_URL",
    "MAIL_SERVER",
    "MAIL_PORT",
    "MAIL_USERNAME",
    "MAIL_PASSWORD",
    "MAIL_USE_TLS",
    "MAIL_USE_SSL",
    "MAIL_DEFAULT_SENDER",
)

cli = AppGroup("notifications", help="Deliver notifications (the worker).")


@cli.command("run")
@click.option("--once", is_flag=True, help="One pass, then exit (for cron).")
@click.option("--interval", default=30.0, show_default=True, help="Seconds between passes.")
@click.option("--limit", default=500, show_default=True, help="Notifications per pass at most.")
@with_appcontext
def run(once: bool, interval: float, limit: int) -> None:
    """Scan for time-based events, deliver the outbox and send the daily digests."""
    from flask import current_app

    from coso.extensions import db
    from coso.notifications import worker

    if once:
        app = current_app
        with app.test_request_context(base_url=app.config["COSO_BASE_URL"]):
            stats = worker.run_once(limit)
            db.session.remove()
        click.echo(
            f"scanned {stats.scanned}, delivered {stats.delivered}, retried {stats.retried}, "
            f"dead {stats.dead}, digests {stats.digests}"
        )
        return
    click.echo(f"notifications worker: a pass every {interval:g} s (Ctrl-C or SIGTERM stops it)")
    worker.run_forever(interval, limit)


def init_app(app: Flask) -> None:
    """Register the notification centre, the worker command and the bell's count."""
    from coso.notifications import views

    for key in _MAIL_KEYS:
        if key not in app.config and os.environ.get(key, "").strip():
            app.config[key] = os.environ[key].strip()
    app.config.setdefault("COSO_BASE_URL", "http://127.0.0.1:5000")
    views.init_app(app)
    app.cli.add_command(cli)
