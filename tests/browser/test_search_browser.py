"""Vietnamese branch search in a real Chromium at 360×740, online and offline (issue 16, item 1):
"hung dinh", "Hưng Định" and "ĐÔNG THỌ" find the branch; offline every field-pack branch is
listed; and static/js/search.js keys texts exactly as coso.search_keys.search_key does."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from coso.units.rules import unit_search_key
from tests.browser.conftest import LiveServer
from tests.browser.test_offline_browser import assert_worker_offline, prepare
from tests.search_names import KEYS
from tests.support import PHONE, pg_url

SEARCH_JS = Path(__file__).parents[2] / "static" / "js" / "search.js"
SEARCHES = (("hung dinh", "Hưng Định 1"), ("Hưng Định", "Hưng Định 1"), ("ĐÔNG THỌ", "Đông Thọ 2"))
NAMES = {"Chi đoàn ấp Hưng Định 1": "hung dinh", "Chi đoàn ấp Đông Thọ 2": "dong tho"}


def test_js_and_python_keys_agree(browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport=PHONE)
    try:
        page.add_script_tag(path=str(SEARCH_JS))
        keys = page.evaluate("(texts) => texts.map(window.CosoSearch.key)", [t for t, _ in KEYS])
    finally:
        page.close()
    assert keys == [key for _, key in KEYS]


def _name_two_branches(live_server: LiveServer) -> list[int]:
    """Give two demo branches the names the issue saw fail (as the app would store them)."""
    url = live_server.env["DATABASE_URL"]
    engine = sa.create_engine(pg_url(url) if "postgres" in url else url)
    try:
        with engine.begin() as conn:
            rows = conn.execute(
                sa.text("SELECT id, code FROM unit WHERE kind = 'branch' AND active ORDER BY id")
            ).all()
            for (uid, code), name in zip(rows[-2:], NAMES, strict=True):
                conn.execute(
                    sa.text("UPDATE unit SET name = :name, search = :key WHERE id = :id"),
                    {"name": name, "key": unit_search_key(name, code), "id": uid},
                )
            return [row[0] for row in rows]
    finally:
        engine.dispose()


def _search(page, q: str) -> None:  # type: ignore[no-untyped-def]
    page.fill("#q", q)
    page.dispatch_event("#q", "search")


def test_search_online_and_offline_over_every_branch(context, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    _name_two_branches(live_server)
    page = context.new_page()
    prepare(page)

    page.goto("/evaluate")
    for q, name in (
        ("hung dinh", "Hưng Định 1"),
        ("Hưng Định", "Hưng Định 1"),
        ("ĐÔNG THỌ", "Đông Thọ 2"),
    ):
        _search(page, q)
        page.wait_for_selector(f"#branch-list a:has-text('{name}')")
        assert page.locator("#branch-list ul.branches > li > a").count() >= 1

    pack = page.evaluate(
        "async () => (await window.CosoOutbox.get('meta', 'fieldpack')).value.branches"
        ".map((b) => b.id)"
    )
    context.set_offline(True)
    assert_worker_offline(context)
    page.goto("/evaluate")
    page.wait_for_selector("#branch-offline:not([hidden]) ul.branches > li > a")
    links = page.eval_on_selector_all(
        "#branch-offline ul.branches > li > a", "(as) => as.map((a) => a.getAttribute('href'))"
    )
    assert sorted(links) == sorted(f"/evaluate/{i}" for i in pack), (
        "a field-pack branch is unreachable"
    )
    assert page.locator("#branch-list").is_hidden()
    for q, name in (
        ("hung dinh", "Hưng Định 1"),
        ("Hưng Định", "Hưng Định 1"),
        ("ĐÔNG THỌ", "Đông Thọ 2"),
    ):
        page.fill("#q", q)
        page.wait_for_function(
            "(name) => { const a = [...document.querySelectorAll('#branch-offline ul.branches a')];"
            " return a.length === 1 && a[0].textContent.includes(name); }",
            arg=name,
        )
    page.fill("#q", "không có chi đoàn này")
    page.wait_for_selector("#branch-offline li.muted")
    context.set_offline(False)
