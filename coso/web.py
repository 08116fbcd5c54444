"""The request kit every area shares: page or fragment, and the signed-in user's objects.

One answer for every view that serves a page or its htmx fragment, one parser of the
``?page=`` and id arguments, and the scope gate for a unit chosen by id.
"""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask_login import current_user

from coso import scope
from coso.models import Unit

PAGE_SIZE = 50


def wants_fragment() -> bool:
    """An htmx request for a piece of the page.

    A history restore (the back button after the page left htmx's cache) also comes with
    ``HX-Request``, but it needs the whole page, so it gets one.
    """
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def render_page(full: str, partial: str, status: int = 200, /, **context: Any) -> Any:
    """The full page when opened directly, the partial it includes when htmx asks."""
    return render_template(partial if wants_fragment() else full, **context), status


def user_now() -> Any:
    """The signed-in user as a model instance (not the proxy), for the domain functions."""
    return current_user._get_current_object()


def unit_in_scope(unit_id: int, action: str) -> Unit:
    """Load a unit the signed-in user may ``action`` on: 404 unknown, 403 outside."""
    return scope.unit_or_403(current_user, unit_id, action)


def int_arg(name: str) -> int | None:
    """A positive integer query argument, or None when absent or not a number."""
    text = request.args.get(name, "").strip()
    return int(text) if text.isdecimal() and len(text) < 10 else None


def page_arg() -> int:
    """The ``?page=`` argument: a bad or missing value is page 1, a huge one is capped."""
    return max(1, min(int_arg("page") or 1, 10_000))
