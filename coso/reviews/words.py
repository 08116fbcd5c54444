"""Labels of the review states, rubric criteria and problems."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from coso.reviews import rules

STATE_LABELS = {
    rules.RECEIVED: _l("Received"),
    rules.REVIEWED: _l("Reviewed"),
    rules.NEEDS_MORE: _l("Needs more"),
    rules.APPROVED: _l("Approved"),
}
CRITERION_LABELS = {
    "on_time": _l("Report on time"),
    "specific": _l("Specific"),
    "recommendations": _l("With recommendations"),
    "followed_up": _l("Followed up"),
}
PROBLEMS = {
    rules.NO_STATE: _l("Choose a decision."),
    rules.BAD_SCORE: _l("Give a score within the range."),
    rules.NO_CRITERION: _l("Keep at least one criterion."),
    rules.NO_COMMENT: _l("Say what more the report needs: the cadre reads this comment."),
}


def state_label(state: str) -> Any:
    return STATE_LABELS.get(state, state)


def criterion_label(key: str) -> Any:
    return CRITERION_LABELS.get(key, key)


def problem_text(problem: str) -> Any:
    return PROBLEMS[problem]
