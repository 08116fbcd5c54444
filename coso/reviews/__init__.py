"""Quality review of visit reports and evaluations (issue 19, item 2)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the review pages."""
    from coso.reviews import views

    views.init_app(app)
