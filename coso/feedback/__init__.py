"""The branch's answer to an evaluation: the secretaries' inbox, replies, corrective actions.

``coso.feedback.alerts.alerts_for`` (overdue actions and late acknowledgements per
branch, grouped queries) is what other areas show beside a branch's flag.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Attach the views (both modules' routes) and register the blueprint and Jinja globals."""
    # Imported here, not at the top: coso.models imports coso.feedback.rules, which runs
    # this package first, and the views import coso.models (a cycle at start-up).
    from coso.feedback import actions, views  # noqa: F401 (actions: its routes attach to bp)

    views.init_app(app)
