"""Monthly guidance: each month's theme and topics per issuing unit, and their pages."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Attach the guidance pages to the ``admin`` blueprint (registered later by coso.admin)."""
    # Imported here, not at the top: importing the package for its rules or
    # queries must not pull in the views (and, through them, the admin plumbing).
    from coso.guidance import views  # noqa: F401
