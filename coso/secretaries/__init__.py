"""Branch secretaries followed: who holds a branch's secretary and deputy posts, since
when, Party membership, and the province's figures per commune (issue 19, item 5)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the secretaries' pages."""
    from coso.secretaries import views

    views.init_app(app)
