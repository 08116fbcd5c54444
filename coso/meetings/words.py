"""The meeting calendar's words: kinds of meeting, weekdays, which one of the month."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from coso.meetings.rules import OTHER, REGULAR, THEMED

KIND_LABELS: dict[str, Any] = {
    REGULAR: _l("Regular monthly meeting"),
    THEMED: _l("Themed meeting"),
    OTHER: _l("Other meeting"),
}
WEEKDAY_LABELS: tuple[Any, ...] = (
    _l("Monday"),
    _l("Tuesday"),
    _l("Wednesday"),
    _l("Thursday"),
    _l("Friday"),
    _l("Saturday"),
    _l("Sunday"),
)
NTH_LABELS: dict[int, Any] = {
    1: _l("1st"),
    2: _l("2nd"),
    3: _l("3rd"),
    4: _l("4th"),
    5: _l("5th"),
}


def kind_label(kind: str) -> str:
    """A kind of meeting in the user's language (the code itself if unknown)."""
    return str(KIND_LABELS.get(kind, kind))


def weekday_label(weekday: int) -> str:
    return str(WEEKDAY_LABELS[weekday]) if 0 <= weekday <= 6 else str(weekday)


def pattern_label(nth: int, weekday: int, at: str) -> str:
    """ "The 2nd Sunday of each month, 19:30"."""
    return str(
        _l(
            "The %(nth)s %(weekday)s of each month, %(time)s",
            nth=NTH_LABELS.get(nth, nth),
            weekday=weekday_label(weekday),
            time=at,
        )
    )
