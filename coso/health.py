"""Liveness that proves the database answers."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Flask, jsonify
from flask.typing import ResponseReturnValue

from coso.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """Answer ok after a round trip to the database; 503 when it does not answer."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="error", detail="database unavailable"), 503
    return jsonify(status="ok")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
