"""Accessibility in a real Chromium: axe-core on every main page, labels, the keyboard.

axe-core (shipped by ``axe-playwright-python``) runs inside each page as the
phone shows it; a serious or critical violation fails the test with the rule,
its help text and the elements concerned. ``page.evaluate`` runs outside the
page's Content-Security-Policy, so the app's policy does not stop the injection.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cache
from typing import TYPE_CHECKING, Any

import pytest

from coso.checklists.rules import DEFAULT_ITEMS
from tests.browser.conftest import LiveServer, login
from tests.support import PHONE

if TYPE_CHECKING:
    from playwright.sync_api import Page

FAILING_IMPACTS = {"serious", "critical"}
CHOICES = [item["code"] for item in DEFAULT_ITEMS if item["kind"] == "choice"]


@cache
def _axe_source() -> str:
    from axe_playwright_python.sync_playwright import Axe

    return str(Axe().axe_script)


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """The serious and critical axe-core violations of the page as it is now."""
    page.evaluate(_axe_source())
    results = page.evaluate(
        "() => axe.run(document, {resultTypes: ['violations']})"
        ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => ({target: n.target, summary: n.failureSummary}))})))"
    )
    return [v for v in results if v["impact"] in FAILING_IMPACTS]


def describe(path: str, violations: list[dict[str, Any]]) -> str:
    lines = [f"{path}: {len(violations)} serious or critical accessibility violation(s)"]
    for v in violations:
        lines.append(f"- [{v['impact']}] {v['id']}: {v['help']}")
        for node in v["nodes"][:5]:
            summary = (node["summary"] or "").replace("\n", " ")[:240]
            lines.append(f"    {node['target']}: {summary}")
    return "\n".join(lines)


def unlabelled_fields(page: Page) -> list[str]:
    """Every visible-to-assistive-technology form field without an accessible name."""
    return page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea')]
            .filter(el => el.type !== 'hidden' && !el.closest('[hidden]'))
            .filter(el => {
              const named = el.labels && [...el.labels].some(l => l.textContent.trim());
              return !named && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby')
                && !el.title;
            })
            .map(el => el.outerHTML.slice(0, 160))"""
    )


_IDS: dict[str, dict[str, int]] = {}


def _ids(live_server: LiveServer) -> dict[str, int]:
    """An evaluation of the cadre (its result page), one of the secretary's branch, a branch."""
    if live_server.url in _IDS:
        return _IDS[live_server.url]
    branch = live_server.sql(
        "SELECT id FROM unit WHERE kind = 'branch' AND active ORDER BY id LIMIT 1"
    )[0][0]
    mine = live_server.sql(
        "SELECT e.id FROM evaluation e JOIN unit b ON b.id = e.branch_id "
        "JOIN " + _user_table(live_server) + " u ON u.id = e.cadre_id "
        "WHERE u.username = 'cadre' ORDER BY e.id DESC LIMIT 1"
    )[0][0]
    theirs = live_server.sql(
        "SELECT e.id FROM evaluation e JOIN " + _user_table(live_server) + " u "
        "ON u.unit_id = e.branch_id WHERE u.username = 'secretary' ORDER BY e.id DESC LIMIT 1"
    )[0][0]
    _IDS[live_server.url] = {"branch": branch, "mine": mine, "theirs": theirs}
    return _IDS[live_server.url]


def _user_table(live_server: LiveServer) -> str:
    return '"user"' if "postgres" in live_server.env["DATABASE_URL"] else "user"


PAGES = [
    (None, "/login"),
    ("cadre", "/"),
    ("cadre", "/evaluate"),
    ("cadre", "/evaluate/{branch}"),
    ("cadre", "/evaluations/{mine}"),
    ("cadre", "/outbox"),
    ("cadre", "/visits"),
    ("cadre", "/visits/new"),
    ("cadre", "/visits/drafts"),
    ("cadre", "/account/sessions"),
    ("secretary", "/"),
    ("secretary", "/feedback"),
    ("secretary", "/feedback/{theirs}"),
    ("secretary", "/feedback/actions"),
    ("secretary", "/notifications"),
    ("cadre", "/notifications/preferences"),
    ("province", "/dashboard"),
    ("province", "/dashboard/where"),
    ("province", "/dashboard/practices"),
    ("province", "/units/{branch}"),
    ("province", "/visits/ledger"),
    ("admin", "/admin"),
    ("admin", "/admin/users"),
    ("admin", "/admin/templates"),
    # Difficulties (issue 19, item 1): raising, the raiser's list, the receiving level's
    # inbox, the province's overview and its list of categories, the training view.
    ("secretary", "/difficulties/new"),
    ("secretary", "/difficulties/"),
    ("commune", "/difficulties/inbox"),
    ("province", "/difficulties/overview"),
    ("province", "/difficulties/categories"),
    ("province", "/training"),
    ("province", "/reviews"),
]


@pytest.fixture(scope="module")
def signed_in(browser, live_server: LiveServer) -> Iterator[Callable[[str | None], Page]]:  # type: ignore[no-untyped-def]
    """One phone per account for the pages below, signed in once: these pages only read, and
    a profile of its own per page cost a sign-in and a service-worker install each (a third
    of each test's time)."""
    pages: dict[str | None, Page] = {}

    def page_of(username: str | None) -> Page:
        if username not in pages or pages[username].is_closed():
            ctx = browser.new_context(viewport=PHONE, base_url=live_server.url, locale="vi-VN")
            ctx.set_default_timeout(20_000)
            pages[username] = ctx.new_page()
            if username:
                login(pages[username], username)
        return pages[username]

    yield page_of
    for page in pages.values():
        page.context.close()


@pytest.mark.parametrize(("username", "path"), PAGES, ids=[f"{u}:{p}" for u, p in PAGES])
def test_no_serious_axe_violations(
    signed_in: Callable[[str | None], Page],
    live_server: LiveServer,
    username: str | None,
    path: str,
) -> None:
    page = signed_in(username)
    path = path.format(**_ids(live_server))
    response = page.goto(path)
    assert response is not None and response.status == 200, path
    page.wait_for_load_state("networkidle")
    violations = axe_violations(page)
    assert not violations, describe(path, violations)
    assert not unlabelled_fields(page), path


def test_axe_really_runs(page: Page, live_server: LiveServer) -> None:
    """The check is not vacuous: an unlabelled field and an image without text are found."""
    page.goto("/login")
    page.evaluate(
        "() => document.querySelector('main').insertAdjacentHTML('beforeend',"
        ' \'<input id="stray"><img src="/static/icons/icon.svg">\')'
    )
    found = {v["id"] for v in axe_violations(page)}
    assert {"label", "image-alt"} <= found, found
    assert any("stray" in html for html in unlabelled_fields(page))


def test_checklist_with_the_keyboard_only(page: Page, live_server: LiveServer) -> None:
    """Tab through the whole checklist, answer with Space and the arrows, submit with Enter."""
    branch = _ids(live_server)["branch"]
    login(page, "cadre")
    page.goto(f"/evaluate/{branch}")
    page.wait_for_load_state("networkidle")

    def focused() -> dict[str, str]:
        return page.evaluate(
            "() => { const e = document.activeElement;"
            " return {id: e.id, name: e.name || '', type: e.type || '', tag: e.tagName,"
            " text: (e.textContent || '').trim().slice(0, 40)}; }"
        )

    def tab_to(predicate: Callable[[dict[str, str]], bool], limit: int = 400) -> dict[str, str]:
        for _ in range(limit):
            page.keyboard.press("Tab")
            now = focused()
            if predicate(now):
                return now
        raise AssertionError("never reached by Tab")

    # The first Tab lands on the skip link, which takes the focus to the content.
    page.keyboard.press("Tab")
    assert focused()["tag"] == "A" and "#main" in page.evaluate(
        "() => document.activeElement.getAttribute('href')"
    )
    tab_to(lambda f: f["id"] == "members_total")
    page.keyboard.type("20")
    page.keyboard.press("Tab")
    assert focused()["id"] == "members_present"
    page.keyboard.type("18")
    seen: set[str] = set()
    for code in CHOICES:
        # Tab reaches one radio of each group; Space picks it, ArrowRight moves to Partial.
        now = tab_to(lambda f, code=code: f["name"] == f"answer-{code}")
        seen.add(now["name"])
        page.keyboard.press("Space")
        if code == CHOICES[0]:
            page.keyboard.press("ArrowRight")
    assert seen == {f"answer-{code}" for code in CHOICES}
    checked = page.evaluate(
        "() => Object.fromEntries([...document.querySelectorAll('input[type=radio]:checked')]"
        ".map(i => [i.name, i.value]))"
    )
    assert checked[f"answer-{CHOICES[0]}"] == "partial"
    assert all(checked[f"answer-{code}"] == "pass" for code in CHOICES[1:])
    # The focus is always visible on the answer buttons (the radio itself is transparent).
    outline = page.evaluate(
        "() => getComputedStyle(document.activeElement.nextElementSibling).outlineStyle"
    )
    assert outline not in ("", "none")
    now = tab_to(lambda f: f["tag"] == "BUTTON" and f["type"] == "submit")
    assert "wide" in page.evaluate("() => document.activeElement.className"), now
    page.keyboard.press("Enter")
    page.wait_for_url("**/evaluations/*")
    assert page.locator("#verdict").count() == 1
