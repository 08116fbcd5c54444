"""Evaluations of branch meetings: the schema, storing them, and the cadre's pages."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from coso.evaluations import views

    views.init_app(app)
