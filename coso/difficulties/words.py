"""Labels of difficulties: the default categories, in the user's language."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from coso.difficulties.rules import DEFAULT_CATEGORIES

#: The default categories' labels (rules.DEFAULT_CATEGORIES), translatable.
DEFAULT_LABELS: dict[str, Any] = {
    "funds": _l("Funds"),
    "venue": _l("Venue"),
    "members_away": _l("Members working away"),
    "secretary_capacity": _l("Secretary capacity"),
    "guidance_unclear": _l("Guidance unclear"),
    "other": _l("Other"),
}


def category_label(code: str, label: str) -> str:
    """A category's label: a default one translated, a province's own as written."""
    default = DEFAULT_LABELS.get(code)
    if default is not None and label == dict(DEFAULT_CATEGORIES).get(code):
        return str(default)
    return label


PROBLEMS: dict[str, Any] = {
    "unknown_category": _l("Choose a category from the list."),
    "text_required": _l("Write the difficulty."),
    "text_too_long": _l("The text is too long."),
    "closed": _l("This difficulty is already closed."),
    "owner_not_of_level": _l("Choose an owner from the list."),
    "cannot_pass_up": _l("This difficulty cannot be passed up."),
    "resolution_required": _l("Write what was done."),
    "resolution_too_long": _l("The text is too long."),
    "label_required": _l("Write the category's name."),
    "label_too_long": _l("At most %(n)s characters.", n=120),
    "no_active_category": _l("Keep at least one category in use."),
    "bad_source": _l("The evaluation or visit named is not one of this unit's."),
}


def problem_text(problem: str) -> str:
    """Why a change was refused, in words."""
    return str(PROBLEMS.get(problem, _l("Please check the form.")))
