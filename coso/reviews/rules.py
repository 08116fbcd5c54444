"""Pure rules of a visit's quality review: its states, the rubric, what may happen next."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

RECEIVED, REVIEWED, NEEDS_MORE, APPROVED = "received", "reviewed", "needs_more", "approved"
#: Every state, in the order of the queue's filter; "received" is also the state of a
#: visit nobody has reviewed yet.
STATES = (RECEIVED, REVIEWED, NEEDS_MORE, APPROVED)
#: What a reviewer may set.
DECISIONS = (REVIEWED, NEEDS_MORE, APPROVED)

#: The default rubric: each criterion scored 0..max.
DEFAULT_RUBRIC: tuple[dict[str, Any], ...] = (
    {"key": "on_time", "max": 2},
    {"key": "specific", "max": 2},
    {"key": "recommendations", "max": 2},
    {"key": "followed_up", "max": 2},
)
CRITERIA = tuple(c["key"] for c in DEFAULT_RUBRIC)

# Problems (words.py turns them into sentences).
NO_STATE = "no_state"
BAD_SCORE = "bad_score"
NO_COMMENT = "no_comment"


def current_state(history: Sequence[str]) -> str:
    """The state of a visit whose review rows, oldest first, have ``history``'s states."""
    return history[-1] if history else RECEIVED


def may_amend(state: str) -> bool:
    """A cadre may amend a report the reviewer sent back."""
    return state == NEEDS_MORE


def rubric_of(criteria: Iterable[Mapping[str, Any]] | None) -> tuple[dict[str, Any], ...]:
    """A stored rubric, or the default one when it is missing or malformed."""
    rubric: list[dict[str, Any]] = []
    for c in criteria or ():
        key, top = c.get("key"), c.get("max")
        if not isinstance(key, str) or not key or isinstance(top, bool) or top not in (1, 2):
            return DEFAULT_RUBRIC
        rubric.append({"key": key, "max": top})
    return tuple(rubric) or DEFAULT_RUBRIC


def check(
    state: str, scores: Mapping[str, int], comment: str, rubric: Sequence[Mapping[str, Any]]
) -> dict[str, str]:
    """The problems of a review, by field: an unknown state, a score out of range, and
    "needs more" without a comment (the cadre must know why)."""
    problems: dict[str, str] = {}
    if state not in DECISIONS:
        problems["state"] = NO_STATE
    for c in rubric:
        value = scores.get(c["key"])
        if value is None or isinstance(value, bool) or not 0 <= value <= c["max"]:
            problems[c["key"]] = BAD_SCORE
    if state == NEEDS_MORE and not comment.strip():
        problems["comment"] = NO_COMMENT
    return problems


def share(scores: Mapping[str, int], rubric: Sequence[Mapping[str, Any]]) -> float | None:
    """The rubric score as a share of its maximum (0..1), ``None`` for an empty rubric."""
    top = sum(c["max"] for c in rubric)
    if not top:
        return None
    return sum(min(max(int(scores.get(c["key"], 0)), 0), c["max"]) for c in rubric) / top


def quality(latest: Iterable[tuple[str, float | None]]) -> dict[str, Any]:
    """A cadre's quality over their visits' current (state, share): how many reviewed
    (any reviewer's decision), how many approved, and the mean score in percent."""
    reviewed = approved = 0
    shares: list[float] = []
    for state, value in latest:
        if state not in DECISIONS:
            continue
        reviewed += 1
        approved += state == APPROVED
        if value is not None:
            shares.append(value)
    mean = round(100 * sum(shares) / len(shares), 1) if shares else None
    return {"reviewed": reviewed, "approved": approved, "mean": mean}


NO_CRITERION = "no_criterion"


def rubric_from(choices: Mapping[str, str]) -> tuple[tuple[dict[str, Any], ...], str | None]:
    """A rubric from a form's choice per default criterion ("0" not used, "1" yes/no,
    "2" scored 0..2), and the problem if any: an unknown choice or no criterion at all."""
    rubric = []
    for key in CRITERIA:
        raw = choices.get(key, "0")
        if raw not in ("0", "1", "2"):
            return (), BAD_SCORE
        if raw != "0":
            rubric.append({"key": key, "max": int(raw)})
    if not rubric:
        return (), NO_CRITERION
    return tuple(rubric), None
