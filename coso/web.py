"""The request kit every area shares: page or fragment, query arguments, one pagination.

One answer for every view that serves a page or its htmx fragment (and the one
``Vary: HX-Request`` that keeps caches from mixing them), one parser of the
``?page=``, id and ``unit`` arguments with one answer to bad input, one
:func:`paginate` for every list, and the scope gate for a unit chosen by id.

Bad input, everywhere:

- ``page``: not a positive whole number (``abc``, ``0``, ``-1``) is page 1; past the
  end is the last page. A page number is a place in a list, not a filter: a bad one
  is not worth a 422.
- ``unit``: absent is the user's own unit; not a number is the user's own unit too,
  with a message beside the filter on pages that have one (422); an unknown id is a
  404 and a unit outside the user's area a 403 (:func:`coso.scope.unit_or_403`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from flask import Flask, Response, abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from coso import scope
from coso.extensions import db
from coso.models import Unit

PAGE_SIZE = 50
#: Past this a ``?page=`` is surely not a person's: treated as "the last page".
MAX_PAGE = 1_000_000

T = TypeVar("T")
M = TypeVar("M")
U = TypeVar("U")
Errors = dict[str, list[str]]


# --------------------------------------------------------- page or fragment


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


def vary_on_htmx(response: Response) -> Response:
    """Full page or fragment depends on ``HX-Request``: caches must keep them apart."""
    if request.endpoint != "static":
        response.vary.add("HX-Request")
    return response


# -------------------------------------------------------------- the user


def user_now() -> Any:
    """The signed-in user as a model instance (not the proxy), for the domain functions."""
    return current_user._get_current_object()


def unit_in_scope(unit_id: int, action: str = "view") -> Unit:
    """Load a unit the signed-in user may ``action`` on: 404 unknown, 403 outside."""
    return scope.unit_or_403(current_user, unit_id, action)


def row_in_scope(model: type[M], row_id: int, action: str = "view") -> M:
    """A row found by id whose ``unit_id`` the signed-in user may ``action`` on.

    404 when there is no such row, 403 when its unit is outside the user's area.
    """
    row = db.session.get(model, row_id)
    if row is None:
        abort(404)
    unit_in_scope(row.unit_id, action)  # type: ignore[attr-defined]
    return row


def unit_choices(selected: Unit | None = None, *, nearby: bool = False) -> list[tuple[Any, int]]:
    """What a unit filter or field offers: :func:`coso.scope.unit_options` as (unit, depth),
    and ``selected`` too (at depth 0) when it is not among them (a branch, say)."""
    options = scope.unit_options(current_user, nearby=nearby, around=selected)
    if selected is not None and all(option.id != selected.id for option, _depth in options):
        options.append((selected, 0))
    return options


# ----------------------------------------------------------- query arguments


def int_arg(name: str) -> int | None:
    """A query argument of digits only (at most nine), or None when absent or not one."""
    text = request.args.get(name, "").strip()
    return int(text) if text.isdecimal() and len(text) < 10 else None


def choice_arg(
    name: str, choices: Collection[str], default: str, errors: Errors, message: str = ""
) -> str:
    """The argument ``name``, one of ``choices``: ``default`` when absent, and ``default``
    with ``message`` in ``errors`` when it is not one of them."""
    raw = request.args.get(name, "").strip() or default
    if raw not in choices:
        errors[name] = [message or _("Choose a value from the list.")]
        return default
    return raw


def page_arg() -> int:
    """The ``?page=`` argument: a bad or missing value is page 1 (past the end: see paginate)."""
    return min(int_arg("page") or 1, MAX_PAGE)


def unit_arg(errors: Errors | None = None, action: str = "view") -> Unit:
    """The ``?unit=`` argument: the user's own unit when absent or not a number.

    A malformed value gets a message in ``errors`` (when the page has a filter to show
    it beside); an unknown id is a 404, one outside the user's area a 403.
    """
    raw = request.args.get("unit", "").strip()
    if raw:
        unit_id = int_arg("unit")
        if unit_id is not None:
            return unit_in_scope(unit_id, action)
        if errors is not None:
            errors["unit"] = [_("Choose a unit from the list.")]
    return current_user.unit  # type: ignore[no-any-return]


# ---------------------------------------------------------------- pagination


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: its rows, which page it is, and how many there are.

    ``total`` is None for a list that is not counted (counting would visit every row):
    it then knows only whether a next page exists, and ``pages`` is one more than
    ``page`` when one does.
    """

    rows: list[T]
    page: int
    pages: int
    total: int | None
    per_page: int

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def counted(self) -> bool:
        return self.total is not None

    def map(self, convert: Callable[[T], U]) -> Page[U]:
        """The same page with each row converted (database rows into the page's records)."""
        return replace(self, rows=[convert(row) for row in self.rows])  # type: ignore[arg-type, return-value]


def last_page(total: int, per_page: int) -> int:
    """How many pages ``total`` rows fill (an empty list still has its page 1)."""
    return max(1, -(-total // per_page))


def paginate(
    query: sa.Select[Any],
    page: int,
    per_page: int = PAGE_SIZE,
    *,
    total: int | None = None,
    count: bool = True,
    scalars: bool = False,
) -> Page[Any]:
    """Page ``page`` of ``query``'s rows (past the end: the last page).

    :param total: the count when the caller already has it (no count query then).
    :param count: False for a list too long to count: one row more than a page is read
        to know whether another follows; only a page past the end is counted, to find
        the last one.
    :param scalars: rows as the first column's objects rather than tuples.
    """

    def fetch(number: int, size: int) -> list[Any]:
        sliced = query.limit(size).offset((number - 1) * per_page)
        result = db.session.execute(sliced)
        return list(result.scalars() if scalars else result.all())

    page = max(1, page)
    if not count and total is None:
        rows = fetch(page, per_page + 1)
        if rows or page == 1:
            more = len(rows) > per_page
            return Page(rows[:per_page], page, page + 1 if more else page, None, per_page)
    if total is None:
        counted = sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
        total = db.session.scalar(counted) or 0
    number = min(page, last_page(total, per_page))
    rows = fetch(number, per_page)
    if not count:  # past the end of an uncounted list: its last page, still uncounted
        return Page(rows, number, number, None, per_page)
    return Page(rows, number, last_page(total, per_page), total, per_page)


def page_of(items: Sequence[T], page: int, per_page: int = PAGE_SIZE) -> Page[T]:
    """Page ``page`` of a list already in memory (past the end: the last page)."""
    pages = last_page(len(items), per_page)
    number = min(max(1, page), pages)
    start = (number - 1) * per_page
    return Page(list(items[start : start + per_page]), number, pages, len(items), per_page)


def init_app(app: Flask) -> None:
    """Register the one ``Vary: HX-Request``."""
    app.after_request(vary_on_htmx)
