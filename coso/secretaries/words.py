"""The secretaries' words: the posts, and why a record was refused."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from coso.secretaries.rules import DEPUTY, ENDS_BEFORE_START, SECRETARY, STARTS_BEFORE_CURRENT

ROLE_LABELS: dict[str, Any] = {SECRETARY: _l("Secretary"), DEPUTY: _l("Deputy secretary")}


def role_label(role: str) -> str:
    """A post in the user's language (the code itself if unknown)."""
    return str(ROLE_LABELS.get(role, role))


def problem_text(problem: str, started_on: Any) -> str:
    """Why a record was refused, in words, with the current term's first day."""
    day = started_on.strftime("%d/%m/%Y") if started_on else ""
    if problem == STARTS_BEFORE_CURRENT:
        return str(
            _l(
                "The current holder's term began on %(date)s: the new one cannot start before.",
                date=day,
            )
        )
    if problem == ENDS_BEFORE_START:
        return str(_l("This term began on %(date)s: it cannot end before.", date=day))
    return str(_l("This value is not valid."))
