"""The branches' meeting calendar: declared meetings, monthly patterns, the area's week and day."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the calendar's pages and its Jinja globals."""
    from coso.meetings import views

    views.init_app(app)
