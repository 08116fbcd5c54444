"""Reading a list's query string: unit, period, page size and cursor — each bad value a 400
that says which parameter and why, never a 500."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _

from coso.dates import parse_day
from coso.routing import MAX_ID

DEFAULT_LIMIT = 100
MAX_LIMIT = 500


class BadParameter(ValueError):
    """A query parameter the API cannot take; ``str()`` is the message for the caller."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


def whole(args: Any, name: str, *, low: int = 0, high: int = MAX_ID) -> int | None:
    """An optional whole number from ``low`` to ``high``."""
    raw = args.get(name)
    if raw is None or raw == "":
        return None
    text = str(raw).strip()
    if (
        not (text.isascii() and text.isdecimal() and len(text) <= 10)
        or not low <= int(text) <= high
    ):
        raise BadParameter(
            name,
            _(
                "%(name)s must be a whole number from %(low)s to %(high)s.",
                name=name,
                low=low,
                high=high,
            ),
        )
    return int(text)


def day(args: Any, name: str) -> date | None:
    """An optional ``YYYY-MM-DD`` day."""
    raw = args.get(name)
    if raw is None or raw == "":
        return None
    try:
        return parse_day(str(raw))
    except ValueError:
        raise BadParameter(
            name, _("%(name)s must be a date written YYYY-MM-DD.", name=name)
        ) from None


def choice(args: Any, name: str, allowed: tuple[str, ...]) -> str | None:
    raw = args.get(name)
    if raw is None or raw == "":
        return None
    if raw not in allowed:
        raise BadParameter(
            name, _("%(name)s must be one of: %(values)s.", name=name, values=", ".join(allowed))
        )
    return str(raw)


@dataclass(frozen=True)
class Period:
    start: date | None
    end: date | None


def period(args: Any) -> Period:
    """``from`` and ``to`` (both included); ``from`` after ``to`` is refused."""
    start, end = day(args, "from"), day(args, "to")
    if start and end and start > end:
        raise BadParameter("from", _("from must not be after to."))
    return Period(start, end)


def limit(args: Any) -> int:
    value = whole(args, "limit", low=1, high=MAX_LIMIT)
    return DEFAULT_LIMIT if value is None else value


# ------------------------------------------------------------ cursors
# Opaque to the caller: "v1:" and the last row's key, base64url. Keyset paging (rows after
# the key, in key order) keeps each page one index range however deep the caller goes.


def encode_cursor(*key: Any) -> str:
    text = "v1:" + ":".join(str(part) for part in key)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def cursor(args: Any, parts: int) -> list[str] | None:
    """The key parts of ``?cursor=``, or None for the first page."""
    raw = args.get("cursor")
    if raw is None or raw == "":
        return None
    bad = BadParameter("cursor", _("cursor is not one this API gave out."))
    text = str(raw)
    if len(text) > 200 or not text.isascii():
        raise bad
    try:
        decoded = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise bad from None
    version, _sep, rest = decoded.partition(":")
    key = rest.split(":", parts - 1)
    if version != "v1" or len(key) != parts:
        raise bad
    return key


def cursor_id(args: Any) -> int | None:
    """A cursor whose key is one id."""
    key = cursor(args, 1)
    if key is None:
        return None
    text = key[0]
    if not (text.isascii() and text.isdecimal() and len(text) <= 10 and int(text) <= MAX_ID):
        raise BadParameter("cursor", _("cursor is not one this API gave out."))
    return int(text)
