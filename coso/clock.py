"""Today's date and the time, as the app sees them.

"Today" is the day in the app's time zone (``BABEL_DEFAULT_TIMEZONE``, Vietnam's by
default), not the server's: a server kept on UTC must not think it is still yesterday
between midnight and 7 a.m. in Hà Nội, when a cadre files this morning's meeting.

Outside production ``COSO_TODAY`` (an ISO date) may pin the day, so tests and demos
can move the clock — e.g. to see a corrective action turn overdue.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context


def zone() -> tzinfo:
    """The app's time zone (UTC outside an app)."""
    if has_app_context():
        return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "UTC")
    return UTC


def today() -> date:
    """The pinned date when configured, else the real one in the app's time zone."""
    if has_app_context():
        pinned = current_app.config.get("COSO_TODAY")
        if pinned:
            return date.fromisoformat(str(pinned))
    return datetime.now(zone()).date()


def now_on(day: date, real_now: datetime, where: tzinfo = UTC) -> datetime:
    """The real time of day (read in ``where``) on ``day``, in UTC: the real time itself
    when ``day`` is today there, the same wall-clock time on the pinned day otherwise."""
    local = real_now.astimezone(where)
    if local.date() == day:
        return real_now.astimezone(UTC)
    return datetime.combine(day, local.time().replace(tzinfo=None), tzinfo=where).astimezone(UTC)


def now() -> datetime:
    """The time now, in UTC — on the pinned day when ``COSO_TODAY`` is set."""
    return now_on(today(), datetime.now(UTC), zone())
