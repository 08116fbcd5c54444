"""The branch's answer to an evaluation: the secretaries' inbox, replies, corrective actions.

``alerts_for`` (overdue actions and late acknowledgements per branch, grouped
queries) is what other areas show beside a branch's flag.
"""

from __future__ import annotations

from flask import Flask

from coso.feedback.queries import alerts_for
from coso.feedback.rules import Alerts, Notices

__all__ = ["Alerts", "Notices", "alerts_for", "init_app"]


def init_app(app: Flask) -> None:
    from coso.feedback import views

    views.init_app(app)
