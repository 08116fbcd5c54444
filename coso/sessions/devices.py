"""The signed ``coso_device`` cookie: accounts that signed in on this browser before.

Set on every successful sign-in, signed with the app's secret (so nobody forges one),
never read for anything but the login throttle: a device its owner signed in on is
let past the per-account limits, so a stranger's wrong guesses cannot lock the owner
out of their own phone (issue 17, finding 11).
"""

from __future__ import annotations

import secrets

from flask import Response, current_app, request
from itsdangerous import BadSignature, URLSafeSerializer

from coso.sessions.rules import DEVICE_MAX_USERS, remembered

COOKIE = "coso_device"
SALT = "coso.device"
#: A year: a cadre's phone is used for terms at a time.
MAX_AGE = 60 * 60 * 24 * 365


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key or "", salt=SALT)


def _payload() -> tuple[str, list[str]]:
    """(device tag, accounts) from the cookie; ("", []) when absent, forged or malformed."""
    raw = request.cookies.get(COOKIE, "")
    if not raw or len(raw) > 1000:
        return "", []
    try:
        value = _serializer().loads(raw)
    except (BadSignature, ValueError, UnicodeError):
        return "", []
    if not isinstance(value, dict):
        return "", []
    tag, names = value.get("d"), value.get("u")
    if not isinstance(tag, str) or not isinstance(names, list):
        return "", []
    return tag[:32], [name for name in names[:DEVICE_MAX_USERS] if isinstance(name, str)]


def known_usernames() -> list[str]:
    """The accounts this browser signed in as before (empty when the cookie is absent or forged)."""
    return _payload()[1]


def device_tag() -> str:
    """This browser's random tag (the throttle counts a known device's wrong guesses on it)."""
    return _payload()[0]


def is_known(username: str) -> bool:
    """Did ``username`` sign in on this browser before?"""
    return bool(username) and username in known_usernames()


def remember(response: Response, username: str) -> None:
    """Note on ``response`` that ``username`` signed in on this browser."""
    tag, names = _payload()
    value = _serializer().dumps(
        {"d": tag or secrets.token_urlsafe(12), "u": remembered(names, username)}
    )
    response.set_cookie(
        COOKIE,
        value,
        max_age=MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
    )
