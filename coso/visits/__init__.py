"""Days at the grassroots: the cadre's visit log and the province's ledger."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from coso.visits import views

    views.init_app(app)
