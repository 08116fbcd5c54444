"""Days at the grassroots: the cadre's visit log and the province's ledger."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the visit pages and their Jinja global."""
    # Imported here so that evaluations.service, which imports visits.service, loads no pages.
    from coso.visits import views

    views.init_app(app)
