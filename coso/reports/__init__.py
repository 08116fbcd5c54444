"""The half-year and year report (issue 21, item 3): a Word document the province can file."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the report page and its document."""
    from coso.reports import views

    views.init_app(app)
