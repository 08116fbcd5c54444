"""Evaluations of branch meetings: the schema, storing them, and the cadre's pages."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the evaluation pages."""
    # Imported here so that the sync API and the demo, which import the service, load no pages.
    from coso.evaluations import views

    views.init_app(app)
