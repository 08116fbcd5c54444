"""Visit plans (chương trình đi cơ sở): planning, proposals, plan against done."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the plan pages."""
    from coso.plans import views

    views.init_app(app)
