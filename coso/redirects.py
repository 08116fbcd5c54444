"""Where a form may send the browser afterwards: same-site paths only (issue 17, finding 3).

Browsers and Werkzeug clean a URL before they use it (they drop tabs and newlines,
read a backslash as a slash), so a check on the raw text can pass what becomes
``//evil.example/`` on the way out. ``safe_next`` refuses anything that would need
such cleaning and then accepts only a path on this site; everything else falls back.
"""

from __future__ import annotations

from urllib.parse import urlsplit

#: Longer ``next`` values are not ours (the pages build them from their own path).
MAX_LENGTH = 2000


def safe_next(value: object, fallback: str = "/") -> str:
    """``value`` when it is a path on this site (with its query), else ``fallback``.

    Refused: anything not a string, empty or too long; control characters, whitespace
    and backslashes anywhere; a scheme or a host (``https://x``, ``//x``, ``/\\x``);
    anything that does not start with a single ``/``.
    """
    if not isinstance(value, str) or not value or len(value) > MAX_LENGTH:
        return fallback
    if any(ch.isspace() or not ch.isprintable() for ch in value) or "\\" in value:
        return fallback
    if not value.startswith("/") or value.startswith("//"):
        return fallback
    try:
        parts = urlsplit(value)
    except ValueError:
        return fallback
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return fallback
    if parts.path.startswith("//"):
        return fallback
    return value
