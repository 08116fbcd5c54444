"""Pure rules of sign-in sessions: no Flask, no database."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

#: Bytes of randomness in a sign-in key (256 bits, as URL-safe base64).
KEY_BYTES = 32
#: Longest key accepted from a cookie; anything longer is not one of ours.
MAX_KEY_LENGTH = 100
#: How many accounts one device remembers as "signed in here before" (a shared phone).
DEVICE_MAX_USERS = 5


def new_key() -> str:
    """A fresh random key for one sign-in, never reused."""
    return secrets.token_urlsafe(KEY_BYTES)


def hash_key(key: str) -> str:
    """What the table stores for ``key``: its SHA-256. The key is random, so no salt is needed."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def plausible_key(key: object) -> bool:
    """A string shaped like one of our keys (cheap check before any query)."""
    return (
        isinstance(key, str)
        and 0 < len(key) <= MAX_KEY_LENGTH
        and re.fullmatch(r"[A-Za-z0-9_-]+", key) is not None
    )


def is_live(
    revoked_at: datetime | None, last_seen_at: datetime, now: datetime, idle: timedelta
) -> bool:
    """A sign-in counts while nobody ended it and it was used within ``idle``."""
    return revoked_at is None and now - last_seen_at <= idle


def needs_touch(last_seen_at: datetime, now: datetime, every: timedelta) -> bool:
    """Write ``last_seen_at`` again only now and then: a write per request would cost a lock."""
    return now - last_seen_at >= every


def remembered(usernames: Iterable[object], username: str) -> list[str]:
    """The device's account list after ``username`` signed in on it (newest first, capped)."""
    kept = [name for name in usernames if isinstance(name, str) and name != username]
    return [username, *kept][:DEVICE_MAX_USERS]


_BROWSERS = (
    ("Zalo", r"Zalo"),
    ("Cốc Cốc", r"coc_coc_browser|CocCoc"),
    ("Samsung Internet", r"SamsungBrowser"),
    ("Edge", r"Edg(e|A|iOS)?/"),
    ("Opera", r"OPR/|Opera"),
    ("Firefox", r"Firefox/|FxiOS/"),
    ("Chrome", r"Chrome/|CriOS/"),
    ("Safari", r"Safari/"),
)
_SYSTEMS = (
    ("Android", r"Android"),
    ("iPhone", r"iPhone"),
    ("iPad", r"iPad"),
    ("Windows", r"Windows"),
    ("macOS", r"Macintosh|Mac OS X"),
    ("ChromeOS", r"CrOS"),
    ("Linux", r"Linux"),
)


def describe_agent(user_agent: str) -> tuple[str | None, str | None]:
    """(browser, system) read from a User-Agent, ``None`` for what is not recognised.

    A summary for a person telling their phone from their laptop, not a fingerprint.
    """
    browser = next((name for name, pattern in _BROWSERS if re.search(pattern, user_agent)), None)
    system = next((name for name, pattern in _SYSTEMS if re.search(pattern, user_agent)), None)
    return browser, system


def short_agent(user_agent: str | None, limit: int = 200) -> str:
    """The User-Agent as stored: printable characters only, cut to ``limit``."""
    text = "".join(ch for ch in (user_agent or "") if ch.isprintable())
    return text[:limit]
