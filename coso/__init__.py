"""coso: inspect Youth Union branch meetings in the field, offline, and act on what was found."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application: config, extensions, blueprints, commands.

    :param test_config: a mapping that overrides the environment's config
        (tests pass their database URL here).
    """
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    # The modules are imported inside the factory, as in flaskr: `import coso` stays light
    # (the CLI's and the tests' collection), and the order of set-up is read here.
    from coso import config, routing

    routing.init_app(app)  # before any route is added: ids beyond the columns are 404
    app.config.from_mapping(config.from_environment(Path(app.instance_path)))
    if test_config:
        app.config.from_mapping(test_config)

    from coso import (
        admin,
        answers,
        assets,
        auth,
        backup,
        checklists,
        cli,
        dashboard,
        difficulties,
        errors,
        evaluations,
        feedback,
        guidance,
        health,
        home,
        i18n,
        judging,
        logs,
        meetings,
        metrics,
        national,
        notifications,
        offline,
        photos,
        plans,
        practices,
        read_api,
        reports,
        reviews,
        secretaries,
        security,
        sessions,
        sync,
        tallies,
        tokens,
        training,
        units,
        users,
        visits,
        web,
    )
    from coso.extensions import compress, csrf, db, init_db_events, limiter, migrate

    init_db_events()
    logs.init_app(app)  # first: every later hook and log line has the request id
    metrics.init_app(app)
    errors.init_early(app)  # before the limiter: its Retry-After is put right afterwards
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    compress.init_app(app)
    limiter.init_app(app)
    security.init_app(app)
    i18n.init_app(app)
    auth.init_app(app)
    sessions.init_app(app)
    assets.init_app(app)
    errors.init_app(app)
    web.init_app(app)
    health.init_app(app)
    home.init_app(app)
    checklists.init_app(app)
    guidance.init_app(app)
    units.init_app(app)
    judging.init_app(app)
    users.init_app(app)
    admin.init_app(app)
    evaluations.init_app(app)
    feedback.init_app(app)
    dashboard.init_app(app)
    national.init_app(app)
    tallies.init_app(app)
    visits.init_app(app)
    meetings.init_app(app)
    plans.init_app(app)
    secretaries.init_app(app)
    practices.init_app(app)
    reviews.init_app(app)
    difficulties.init_app(app)
    answers.init_app(app)
    reports.init_app(app)
    notifications.init_app(app)
    sync.init_app(app)
    photos.init_app(app)
    read_api.init_app(app)
    tokens.init_app(app)
    training.init_app(app)
    offline.init_app(app)
    cli.init_app(app)
    backup.init_app(app)
    return app
