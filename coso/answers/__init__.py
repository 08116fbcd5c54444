"""Every answer exportable (issue 21, item 4): a unit's evaluations and answers of a period,
as CSV and XLSX, streamed from the database in chunks."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the export page and its files."""
    from coso.answers import views

    views.init_app(app)
