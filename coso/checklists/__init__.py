"""Checklists: the default checklist, template versions, which one a branch uses, their pages."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Attach the checklist pages to the ``admin`` blueprint (registered later by coso.admin)."""
    # Imported here, not at the top: importing the package for its rules or
    # queries must not pull in the views (and, through them, the admin plumbing).
    from coso.checklists import views  # noqa: F401
