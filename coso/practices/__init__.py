"""Good practices spread back (issue 19, item 4): recorded from an evaluation, a visit or on
their own, marked by the province for spreading, read by the secretaries and cadres under it."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the practices' pages and the menu's count of new ones."""
    from coso.practices import views

    views.init_app(app)
