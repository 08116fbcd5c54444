"""The sync API under /api/v1: the session, the field pack a phone takes offline, and the sync.

views.py holds the routes, queries.py builds the field pack, schema.py and docs.py
document the contract (``/api/v1/openapi.json``).
"""

from __future__ import annotations

from flask import Flask

from coso.extensions import csrf
from coso.sync.views import bp


def init_app(app: Flask) -> None:
    """Register the ``api`` blueprint; it checks CSRF itself, after authentication."""
    csrf.exempt(bp)
    app.register_blueprint(bp)
