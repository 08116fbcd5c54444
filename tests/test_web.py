"""The request kit (coso.web): one answer to a bad page, one pagination, page or fragment, Vary."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_login import login_user
from werkzeug.exceptions import Forbidden, NotFound

from coso import web
from coso.extensions import db
from coso.models import Unit, User
from tests.builders import small_province
from tests.conftest import AuthActions

HX = {"HX-Request": "true"}


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    with app.app_context():
        data = small_province()
        return {
            "province": data["province"].id,
            "communes": [c.id for c in data["communes"]],
            "branches": [b.id for b in data["branches"]],
        }


def units_query() -> sa.Select[Any]:
    return sa.select(Unit).order_by(Unit.code)


# ------------------------------------------------------------- query arguments


@pytest.mark.parametrize(
    ("query", "page"),
    [("", 1), ("page=2", 2), ("page=abc", 1), ("page=0", 1), ("page=-1", 1), ("page=2.5", 1),
     ("page=%20", 1), ("page=99999999999999", 1), ("page=3&page=4", 3)],
)  # fmt: skip
def test_a_bad_page_is_page_one(app: Flask, query: str, page: int) -> None:
    with app.test_request_context(f"/?{query}"):
        assert web.page_arg() == page


def test_a_huge_page_is_capped(app: Flask) -> None:
    with app.test_request_context("/?page=999999999"):
        assert web.page_arg() == web.MAX_PAGE


@pytest.mark.parametrize(
    ("text", "value"), [("7", 7), (" 7 ", 7), ("x", None), ("0", 0), ("-3", None)]
)
def test_int_arg(app: Flask, text: str, value: int | None) -> None:
    with app.test_request_context("/", query_string={"id": text}):
        assert web.int_arg("id") == value
    with app.test_request_context("/"):
        assert web.int_arg("id") is None


def test_unit_arg_one_answer(app: Flask, world: dict[str, Any]) -> None:
    """Absent or malformed: my own unit (a message when asked); unknown 404; outside 403."""
    with app.test_request_context("/"):
        user = db.session.scalar(sa.select(User).where(User.username == "commune"))
        login_user(user)
        home = user.unit_id
    for query, expected in [("", home), ("unit=abc", home), (f"unit={world['branches'][0]}", None)]:
        with app.test_request_context(f"/?{query}"):
            login_user(db.session.get(User, user.id))
            errors: web.Errors = {}
            unit = web.unit_arg(errors)
            assert unit.id == (expected or world["branches"][0])
            assert ("unit" in errors) == (query == "unit=abc")
            assert web.unit_arg().id == unit.id  # no errors dict: no message, same unit
    for query, error in [
        ("unit=0", NotFound),
        ("unit=999999", NotFound),
        (f"unit={world['branches'][2]}", Forbidden),
    ]:
        with app.test_request_context(f"/?{query}"):
            login_user(db.session.get(User, user.id))
            with pytest.raises(error):
                web.unit_arg({})


# ----------------------------------------------------------------- pagination


def test_paginate_counts_and_clamps(app_ctx: Flask, world: dict[str, Any]) -> None:
    codes = [u.code for u in db.session.scalars(units_query())]
    assert len(codes) == 7
    first = web.paginate(units_query(), 1, 3, scalars=True)
    assert [u.code for u in first.rows] == codes[:3]
    assert (first.page, first.pages, first.total, first.has_prev, first.has_next) == (
        1,
        3,
        7,
        False,
        True,
    )
    beyond = web.paginate(units_query(), 99, 3, scalars=True)
    assert (beyond.page, [u.code for u in beyond.rows]) == (3, codes[6:])
    assert beyond.has_prev and not beyond.has_next
    tuples = web.paginate(sa.select(Unit.code).order_by(Unit.code), 2, 3)
    assert [row[0] for row in tuples.rows] == codes[3:6]
    given = web.paginate(units_query(), 5, 3, total=7, scalars=True)
    assert given.page == 3 and given.total == 7


def test_paginate_without_counting(app_ctx: Flask, world: dict[str, Any]) -> None:
    """An uncounted list knows only whether a next page exists; past its end, its last page."""
    codes = [u.code for u in db.session.scalars(units_query())]
    first = web.paginate(units_query(), 1, 3, count=False, scalars=True)
    assert (first.page, first.pages, first.total, first.counted) == (1, 2, None, False)
    last = web.paginate(units_query(), 3, 3, count=False, scalars=True)
    assert (last.page, last.pages, [u.code for u in last.rows]) == (3, 3, codes[6:])
    beyond = web.paginate(units_query(), 50, 3, count=False, scalars=True)
    assert (beyond.page, beyond.pages, [u.code for u in beyond.rows]) == (3, 3, codes[6:])
    full = web.paginate(units_query(), 1, 7, count=False, scalars=True)
    assert (full.pages, len(full.rows)) == (1, 7)


def test_paginate_an_empty_list(app_ctx: Flask) -> None:
    for count in (True, False):
        empty = web.paginate(units_query(), 4, 3, count=count)
        assert (empty.rows, empty.page, empty.pages, empty.has_next) == ([], 1, 1, False)


def test_page_of_a_list_in_memory() -> None:
    items = list(range(10))
    assert web.page_of(items, 2, 4).rows == [4, 5, 6, 7]
    assert (web.page_of(items, 9, 4).page, web.page_of(items, 9, 4).rows) == (3, [8, 9])
    assert web.page_of([], 3, 4) == web.Page([], 1, 1, 0, 4)
    assert web.page_of(items, 1, 4).map(str).rows == ["0", "1", "2", "3"]


# ---------------------------------------------------- every list, bad pages


LISTS = [
    ("province", "/dashboard?state=all"),
    ("province", "/dashboard/practices"),
    ("province", "/feedback"),
    ("commune", "/feedback"),
    ("commune", "/feedback/actions"),
    ("cadre", "/feedback/replies"),
    ("cadre", "/visits"),
    ("admin", "/admin/users"),
    ("admin", "/admin/guidance"),
    ("admin", "/admin/audit"),
]


@pytest.mark.parametrize(("user", "url"), LISTS)
def test_every_list_answers_a_bad_page_with_a_page(
    client: FlaskClient, auth: AuthActions, world: dict[str, Any], user: str, url: str
) -> None:
    """page=abc, page=-1 and a page past the end: 200 and a page of the list, never an error."""
    auth.login(user)
    join = "&" if "?" in url else "?"
    first = client.get(url)
    assert first.status_code == 200
    for bad in ("page=abc", "page=-1", "page=0", "page=99999"):
        response = client.get(f"{url}{join}{bad}")
        assert response.status_code == 200, (url, bad)
        assert 'class="field-error"' not in response.get_data(as_text=True)
    past = client.get(f"{url}{join}page=99999", headers=HX).get_data(as_text=True)
    assert "<html" not in past and 'rel="next"' not in past


def test_the_pager_walks_forward_and_back_with_links(
    client: FlaskClient, auth: AuthActions, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Plain links (back works without JavaScript), hx attributes for htmx, a labelled nav."""
    monkeypatch.setattr("coso.users.views.PAGE_SIZE", 2)
    auth.login("admin")
    beyond = client.get("/admin/users?role=&page=99").get_data(as_text=True)
    assert 'aria-label="Trang"' in beyond or 'aria-label="Pages"' in beyond
    assert re.search(r"Trang 3/3|Page 3 of 3", beyond)
    prev = re.search(r'<a class="button" rel="prev" href="([^"]+)"', beyond)
    assert prev and "page=2" in prev.group(1) and 'rel="next"' not in beyond
    assert 'hx-target="#users-list"' in beyond and 'hx-push-url="true"' in beyond
    back = client.get(prev.group(1).replace("&amp;", "&"), headers=HX).get_data(as_text=True)
    assert "<html" not in back and 'rel="prev"' in back and 'rel="next"' in back
    assert re.search(r"Trang 2/3|Page 2 of 3", back)
    restored = client.get(
        prev.group(1).replace("&amp;", "&"),
        headers={**HX, "HX-History-Restore-Request": "true"},
    ).get_data(as_text=True)
    assert "<html" in restored


# --------------------------------------------------------- page or fragment


def test_fragment_or_page_and_one_vary(
    client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    auth.login("commune")
    page = client.get("/feedback")
    fragment = client.get("/feedback", headers=HX)
    assert "<html" in page.get_data(as_text=True)
    assert "<html" not in fragment.get_data(as_text=True)
    for response in (page, fragment, client.get("/login"), client.get("/nowhere")):
        assert "HX-Request" in response.headers.get("Vary", "")
        assert response.headers.get("Vary", "").count("HX-Request") == 1
    with client.get("/static/css/coso.css") as static:
        assert "HX-Request" not in static.headers.get("Vary", "")
