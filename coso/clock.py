"""Today's date, as the app sees it.

Outside production ``COSO_TODAY`` (an ISO date) may pin it, so tests and demos
can move the clock — e.g. to see a corrective action turn overdue.
"""

from __future__ import annotations

from datetime import date

from flask import current_app, has_app_context


def today() -> date:
    """The pinned date when configured, else the real one."""
    if has_app_context():
        pinned = current_app.config.get("COSO_TODAY")
        if pinned:
            return date.fromisoformat(str(pinned))
    return date.today()
