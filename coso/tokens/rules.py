"""What a token is, and when it may be used: pure functions, no database."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

#: Every token starts so: a leaked one is recognisable in logs and by secret scanners.
PREFIX = "coso_pat_"
#: Random bytes in a token (43 URL-safe characters after the prefix).
ENTROPY_BYTES = 32
#: A token is at most this long; anything longer is no token of ours (and is never hashed).
MAX_LENGTH = 80
#: How long a new token may live, in days; the form offers these and nothing else.
LIFETIMES = (7, 30, 90, 365)
DEFAULT_LIFETIME = 90
#: Live tokens one user may hold at once.
MAX_LIVE = 20
#: How many characters of the token the list shows to tell it apart.
HINT_LENGTH = 13


def new_token() -> str:
    """A fresh token: the prefix and 256 random bits."""
    return PREFIX + secrets.token_urlsafe(ENTROPY_BYTES)


def digest(token: str) -> str:
    """SHA-256 (hex) of a token: what the table keeps.

    A token carries 256 random bits, so a fast hash is enough: there is nothing to guess.
    """
    return hashlib.sha256(token.encode()).hexdigest()


def hint(token: str) -> str:
    """The start of a token, as the list shows it (``coso_pat_AbCd…``)."""
    return token[:HINT_LENGTH]


def well_formed(token: str) -> bool:
    """Could this be one of our tokens? (Cheap checks before any database lookup.)"""
    body = token[len(PREFIX) :]
    return (
        token.startswith(PREFIX)
        and len(token) <= MAX_LENGTH
        and len(body) >= 32
        and token.isascii()
        and all(c.isalnum() or c in "-_" for c in body)
    )


def bearer(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header; None when there is no bearer.

    An empty or malformed bearer is returned as it is (the caller answers 401 for it).
    """
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip()


def expiry(created: datetime, days: int) -> datetime:
    """When a token made at ``created`` to live ``days`` days stops working."""
    if days not in LIFETIMES:
        raise ValueError(f"lifetime {days} is not one of {LIFETIMES}")
    return created + timedelta(days=days)


def usable(expires_at: datetime, revoked_at: datetime | None, now: datetime) -> bool:
    """A token works until it expires or is revoked, whichever comes first."""
    return revoked_at is None and now < expires_at


def touch_due(last_used_at: datetime | None, now: datetime) -> bool:
    """Is the row's "last used" worth writing again? Once a minute is enough to attribute use
    without a write on every read."""
    return last_used_at is None or now - last_used_at >= timedelta(minutes=1)
