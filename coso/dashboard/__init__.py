"""The province's view of its branches: flags, where to act, good practices, drill-down."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from coso.dashboard import views

    views.init_app(app)
