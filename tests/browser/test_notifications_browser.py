"""The notification centre in a 360-px Chromium: the bell's count, mark read without a reload
(htmx; the bell follows), a link to the thing, no script error under the CSP."""

from __future__ import annotations

from tests.browser.conftest import LiveServer, login


def _bell(page) -> str:  # type: ignore[no-untyped-def]
    count = page.locator("#bell-count")
    return count.inner_text() if count.count() else ""


def test_the_bell_opens_the_centre_and_mark_read_updates_it(page, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    login(page, "secretary")
    page.goto("/")
    before = _bell(page)
    assert before and before != "0", "the demo gives the secretary unread notices"
    page.click("#bell")
    page.wait_for_url("**/notifications")
    unread = page.locator("#notices li.fb-unread")
    n = unread.count()
    assert n >= 1
    # Mark one read: the list is swapped in place and the bell follows, without a reload.
    page.evaluate("window.__same_page = true")
    unread.first.locator("button").click()
    page.wait_for_function(f"document.querySelectorAll('#notices li.fb-unread').length === {n - 1}")
    assert page.evaluate("window.__same_page === true")
    expected = "" if n - 1 == 0 else str(min(n - 1, 9)) if n - 1 < 10 else "9+"
    assert _bell(page) == expected
    # Each notice links to the thing it is about.
    href = page.locator("#notices li a").first.get_attribute("href")
    assert href and href.startswith(("/feedback/", "/plans/"))
    page.goto(href)
    assert page.locator("h1").count() >= 1


def test_the_preferences_say_that_email_is_off(page, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    login(page, "cadre")
    page.goto("/notifications/preferences")
    assert page.locator("#email-off").is_visible()
    page.fill("#email", "not an address")
    page.click("form[action$='/notifications/preferences'] button.primary")
    assert page.locator(".field-error").first.is_visible()
