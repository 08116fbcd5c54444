"""The checklist gets the screen (issue 16: 2, 4, 5, 9), in a 360×740 Chromium.

One compact pinned bar whatever the roles; a progress line that follows the cadre down the
page; on a refused submit the missing items as links that jump to them; no verdict on an
untouched form; the draft offer seen after a reload; the answer buttons of one item of one height.
"""

from __future__ import annotations

import uuid

import pytest

from tests.browser.conftest import LiveServer, login

BAR_MAX = 64  # px, at 360 px wide
PASSWORD = "Walk-form-2026-phone!"


def _bar_height(page) -> float:  # type: ignore[no-untyped-def]
    return page.evaluate("document.querySelector('header.top').getBoundingClientRect().height")


def _all_roles_user(live_server: LiveServer) -> str:
    """A user holding every role at once: the longest menu there is."""
    (code,) = live_server.sql("SELECT code FROM unit WHERE kind = 'province' ORDER BY id")[0]
    username = f"walk{uuid.uuid4().hex[:8]}"
    live_server.flask(
        "create-user", username, "--roles", "admin,province,secretary,cadre",
        "--unit", code, "--password", PASSWORD,
    )  # fmt: skip
    return username


def _a_branch(live_server: LiveServer) -> int:
    return live_server.sql("SELECT id FROM unit WHERE kind = 'branch' AND active ORDER BY id")[0][0]


@pytest.mark.parametrize("who", ["cadre", "secretary", "commune", "province", "admin", "all"])
def test_the_bar_is_one_compact_line_for_every_role(
    browser, live_server: LiveServer, who: str
) -> None:  # type: ignore[no-untyped-def]
    from tests.support import PHONE

    ctx = browser.new_context(viewport=PHONE, base_url=live_server.url, locale="vi-VN")
    try:
        page = ctx.new_page()
        if who == "all":
            login(page, _all_roles_user(live_server), PASSWORD)
        else:
            login(page, who)
        page.goto("/")
        button = page.locator("#menu-button")
        button.wait_for(state="visible")
        assert _bar_height(page) <= BAR_MAX
        # Nothing in the bar is cut off or pushed out sideways.
        assert page.evaluate(
            "(h => h.scrollWidth <= h.clientWidth)(document.querySelector('header.top'))"
        )
        assert button.bounding_box()["x"] + button.bounding_box()["width"] <= 360  # type: ignore[index]
        if who in ("cadre", "all"):
            page.goto(f"/evaluate/{_a_branch(live_server)}")
            button.wait_for(state="visible")
            assert _bar_height(page) <= BAR_MAX
        # The menu: a real button, keyboard usable, its links over the page (not in the bar).
        nav = page.locator("#main-nav")
        assert not nav.is_visible()
        button.focus()
        page.keyboard.press("Enter")
        assert button.get_attribute("aria-expanded") == "true"
        assert nav.locator("a").first.is_visible()
        assert _bar_height(page) <= BAR_MAX
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.closest('#main-nav') !== null")
        page.keyboard.press("Escape")
        assert button.get_attribute("aria-expanded") == "false"
        assert not nav.is_visible()
        assert page.evaluate("document.activeElement.id") == "menu-button"
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
    finally:
        ctx.close()


def test_progress_missing_items_and_no_early_verdict(page, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    login(page, "cadre")
    page.goto(f"/evaluate/{_a_branch(live_server)}")
    page.wait_for_function("document.getElementById('checklist').elements.uuid.value !== ''")
    items = page.locator("fieldset.item[id^=item-]")
    total = items.count()
    progress = page.locator("#progress-text")
    assert progress.inner_text() == f"0/{total} đã trả lời"

    # A fresh form shows no red verdict.
    coverage = page.locator("#coverage")
    if coverage.count():
        assert "warn" not in (coverage.get_attribute("class") or "")
        assert "C1" not in coverage.inner_text()
    assert page.locator(".computed.warn").count() == 0

    # Answer the first item: the line counts it, and stays in view at the foot of the page.
    items.first.locator("label.v-pass").click()
    assert progress.inner_text() == f"1/{total} đã trả lời"
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    box = page.locator("#progress").bounding_box()
    assert box is not None and 0 <= box["y"] <= BAR_MAX + 2 and box["y"] + box["height"] <= 740

    # A refused submit lists what is missing, as links that jump to them.
    page.click("button[type=submit].wide")
    missing = page.locator("#missing a")
    missing.first.wait_for()
    hrefs = [missing.nth(i).get_attribute("href") for i in range(missing.count())]
    assert "#members_present" in hrefs  # the date and the roll come filled in
    unanswered = [f"#item-{items.nth(i).get_attribute('id')[5:]}" for i in range(1, total)]
    assert [h for h in hrefs if h.startswith("#item-")] == unanswered
    last = missing.last
    target = last.get_attribute("href")
    last.click()
    page.wait_for_timeout(300)
    rect = page.locator(target).bounding_box()
    bar = page.locator("#progress").bounding_box()
    assert rect is not None and bar is not None
    # In view, and not hidden under the pinned bar and progress line.
    assert bar["y"] + bar["height"] <= rect["y"] + 1 and rect["y"] < 740


def test_the_draft_offer_is_seen_after_a_reload(page, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    login(page, "cadre")
    page.goto(f"/evaluate/{_a_branch(live_server)}")
    page.wait_for_function("document.getElementById('checklist').elements.uuid.value !== ''")
    page.fill("#members_total", "21")
    page.locator("fieldset.item[id^=item-]").last.locator("label.v-partial").click()
    page.wait_for_timeout(600)  # the draft is saved 200 ms after a change
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_timeout(200)
    page.reload()
    offer = page.locator("#draft-offer")
    offer.wait_for(state="visible")
    page.wait_for_timeout(500)  # past the browser's scroll restoration

    def in_view(selector: str) -> bool:
        box = page.locator(selector).bounding_box()
        return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 740

    assert in_view("#draft-offer") or in_view("#draft-link")
    assert in_view("#draft-link") or page.locator("#draft-offer").is_visible()
    when = page.locator("#draft-offer .when").inner_text()
    assert len(when) == 16 and when[2] == "/" and when[5] == "/"  # dd/mm/yyyy hh:mm
    page.click("#draft-offer [data-action=restore]")
    assert page.input_value("#members_total") == "21"
    assert not page.locator("#draft-link").is_visible()


def test_the_answer_buttons_of_an_item_are_of_one_height(page, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    login(page, "cadre")
    page.goto(f"/evaluate/{_a_branch(live_server)}")
    heights = page.evaluate(
        """() => Array.from(document.querySelectorAll('.choices')).map((c) =>
            Array.from(c.querySelectorAll('label > span'))
              .map((s) => s.getBoundingClientRect().height))"""
    )
    assert heights
    for row in heights:
        assert max(row) - min(row) < 0.5, row


def test_a_laptop_folds_only_a_menu_that_would_wrap(browser, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    ctx = browser.new_context(
        viewport={"width": 1366, "height": 768}, base_url=live_server.url, locale="vi-VN"
    )
    try:
        page = ctx.new_page()
        login(page, "cadre")  # a few links: they stay in the bar (the brand is the way home)
        assert page.locator("#main-nav a:not(.nav-home)").first.is_visible()
        assert not page.locator("#menu-button").is_visible()
        ctx.clear_cookies()
        login(page, _all_roles_user(live_server), PASSWORD)  # every link: folded
        page.goto(f"/evaluate/{_a_branch(live_server)}")
        page.locator("#menu-button").wait_for(state="visible")
        assert _bar_height(page) <= BAR_MAX
        page.evaluate("window.scrollTo(0, 1500)")
        page.wait_for_timeout(100)
        bar = _bar_height(page)
        progress = page.locator("#progress").bounding_box()
        assert progress is not None and abs(progress["y"] - bar) <= 1.5  # right under the bar
    finally:
        ctx.close()


def test_without_javascript_the_links_stay_in_the_bar(browser, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    from tests.support import PHONE

    ctx = browser.new_context(
        viewport=PHONE, base_url=live_server.url, locale="vi-VN", java_script_enabled=False
    )
    try:
        page = ctx.new_page()
        login(page, "cadre")
        assert not page.locator("#menu-button").is_visible()
        assert page.locator("#main-nav a").first.is_visible()
    finally:
        ctx.close()
