"""Personal access tokens (issue 21, item 5): the key another system reads the API with.

rules.py holds the pure parts (what a token looks like, its hash, when it is usable);
schema.py the creation form; queries.py and service.py read and write the rows (every
creation and revocation audited); auth.py turns an ``Authorization: Bearer`` header into the
token's user for the read API; views.py the page /account/tokens.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the page where a user makes and revokes their tokens."""
    from coso.tokens import views

    app.register_blueprint(views.bp)
