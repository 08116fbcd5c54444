"""What htmx asked for: one answer for every view that serves a page or its fragment."""

from __future__ import annotations

from flask import request


def wants_fragment() -> bool:
    """An htmx request for a piece of the page.

    A history restore (the back button after the page left htmx's cache) also comes with
    ``HX-Request``, but it needs the whole page, so it gets one.
    """
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )
