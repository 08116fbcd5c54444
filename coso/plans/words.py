"""A plan's state in words."""

from __future__ import annotations

from flask_babel import gettext as _


def state_label(state: str) -> str:
    labels = {
        "upcoming": _("Upcoming"),
        "done": _("Done"),
        "missed": _("Missed"),
        "replanned": _("Re-planned"),
        "proposed": _("Proposed, waiting for approval"),
        "declined": _("Declined"),
    }
    return labels.get(state, state)
