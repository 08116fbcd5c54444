"""Issue 16: every menu link says what the page it opens is called.

For every role (and a user with them all), in both languages, each link of the top bar's menu
is followed and its words compared with the page's ``<h1>`` or its ``<title>``.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from flask import Flask
from flask.testing import FlaskClient

from coso.extensions import db
from tests.builders import make_user, small_province
from tests.conftest import AuthActions

#: Elements inside a link that are not its name: the badges (and their words for screen readers).
NOT_THE_NAME = {"badge", "sr"}


class _Page(HTMLParser):
    """The menu's links (href, words), the ``<h1>`` and the ``<title>`` of one page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self.h1 = ""
        self.title = ""
        self._nav = 0  # depth inside <nav id="main-nav">
        self._link: tuple[str, list[str]] | None = None
        self._skip = 0  # depth inside a badge
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        classes = set((a.get("class") or "").split())
        if tag == "nav" and a.get("id") == "main-nav":
            self._nav = 1
        elif self._nav and tag == "nav":
            self._nav += 1
        if tag == "a" and (self._nav or "outbox-link" in classes):
            self._link = (a.get("href") or "", [])
        elif self._link is not None and (self._skip or classes & NOT_THE_NAME):
            self._skip += 1
        if tag in ("h1", "title") and not self._in:
            self._in = tag

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav" and self._nav:
            self._nav -= 1
        if tag == "a" and self._link is not None:
            href, words = self._link
            self.links.append((href, " ".join("".join(words).split())))
            self._link = None
            self._skip = 0
        elif self._skip:
            self._skip -= 1
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._link is not None and not self._skip:
            self._link[1].append(data)
        if self._in == "h1":
            self.h1 = " ".join((self.h1 + data).split())
        elif self._in == "title":
            self.title = " ".join((self.title + data).split())


def read(client: FlaskClient, path: str) -> _Page:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    page = _Page()
    page.feed(response.get_data(as_text=True))
    return page


@pytest.fixture
def people(app: Flask) -> None:
    with app.app_context():
        data = small_province()
        make_user("everything", "cadre secretary province admin", data["branches"][0])
        db.session.commit()


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize(
    "username", ["cadre", "secretary", "commune", "province", "admin", "everything"]
)
def test_every_menu_link_is_named_as_its_page(
    client: FlaskClient, auth: AuthActions, people: None, username: str, language: str
) -> None:
    assert auth.login(username).status_code in (302, 303)
    client.post("/lang", data={"lang": language, "next": "/", "csrf_token": auth.csrf_token()})
    menu = read(client, "/").links
    assert len(menu) >= 2, menu  # Home and the role's own pages at least
    for href, name in menu:
        assert name, href
        page = read(client, href)
        title = page.title.removesuffix("· coso").strip()
        assert name in (page.h1, title), (
            f"{username} ({language}): the menu says {name!r}, {href} says "
            f"<h1> {page.h1!r} and <title> {title!r}"
        )


def test_the_province_menu_names_its_pages_by_their_headings(
    client: FlaskClient, auth: AuthActions, people: None
) -> None:
    """A province user's links say exactly what the page's heading says (not only its tab)."""
    assert auth.login("province").status_code in (302, 303)
    menu = read(client, "/").links
    hrefs = {href for href, _ in menu}
    assert {"/dashboard", "/dashboard/where", "/visits/ledger", "/dashboard/practices"} <= hrefs
    for href, name in menu:
        if href == "/":
            continue  # Home greets the user by name; its title is "Home"
        assert read(client, href).h1 == name, href
