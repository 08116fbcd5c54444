"""How the unit tree's rule codes read in the user's language."""

from __future__ import annotations

from flask_babel import gettext as _

from coso.units.rules import ALREADY_THERE, PARENT_INACTIVE, UNDER_BRANCH, UNDER_ITSELF


def move_problem(code: str) -> str:
    """Why a unit cannot be moved (a code of :func:`coso.units.rules.move_problem`), in words."""
    words = {
        UNDER_ITSELF: _("A unit cannot be moved under itself or a unit below it."),
        UNDER_BRANCH: _("A branch has no units under it."),
        PARENT_INACTIVE: _("The new parent is deactivated."),
        ALREADY_THERE: _("The unit is already there."),
    }
    return words[code]
