"""Photo evidence (issue 20): uploaded from the phone's outbox under /api/v1/photos, kept
outside the database behind storage.py, shown to those who may see the evaluation."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the upload API (it checks CSRF itself, after authentication) and the reads."""
    from coso.extensions import csrf
    from coso.photos import views

    csrf.exempt(views.api)
    app.register_blueprint(views.api)
    app.register_blueprint(views.bp)
