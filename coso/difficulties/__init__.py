"""Difficulties and proposals (khó khăn, vướng mắc, kiến nghị), issue 19 item 1."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the difficulties' pages."""
    from coso.difficulties import categories, views

    views.init_app(app)
    assert categories.bp is views.bp  # the editor's routes are on the same blueprint
