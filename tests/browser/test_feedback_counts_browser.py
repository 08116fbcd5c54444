"""The secretary's counts move with the page (issue 16, item 10), on a 360x740 phone.

A cadre sends an evaluation and proposes an action on its failed item; the secretary
acknowledges the evaluation, then accepts the proposal from the "awaiting review" tab. After
each click the menu's badges, the menu button's sum and the tab counters change without a
page load (a marker set on ``window`` survives), and the accepted proposal leaves the tab.
"""

from __future__ import annotations

from datetime import date, timedelta

from tests.browser.conftest import PHONE, LiveServer, login
from tests.browser.test_feedback_browser import _no_sideways_scroll, _send_evaluation

PROPOSAL = "Phân công đồng chí phó bí thư ghi biên bản từ buổi sinh hoạt tới"


def _count(page, selector: str) -> int:  # type: ignore[no-untyped-def]
    """A count as the page shows it (its element may be folded away in the closed menu)."""
    return int(page.locator(selector).first.text_content() or "0")


def _same_page(page) -> bool:  # type: ignore[no-untyped-def]
    return bool(page.evaluate("() => window.cosoMarker === 'still here'"))


def test_counts_change_without_reload_and_an_accepted_proposal_leaves_the_tab(  # type: ignore[no-untyped-def]
    browser, live_server: LiveServer
) -> None:
    (branch_id,) = live_server.sql(
        "SELECT u.unit_id FROM \"user\" u WHERE u.username = 'secretary'"
    )[0]
    cadre_ctx = browser.new_context(viewport=PHONE, base_url=live_server.url, locale="vi-VN")
    secretary_ctx = browser.new_context(viewport=PHONE, base_url=live_server.url, locale="vi-VN")
    cadre_ctx.set_default_timeout(20_000)
    secretary_ctx.set_default_timeout(20_000)
    try:
        # The cadre: an evaluation of the secretary's branch, and a proposal on its failed item.
        cadre = cadre_ctx.new_page()
        login(cadre, "cadre")
        evaluation_id = _send_evaluation(cadre, branch_id)
        cadre.goto(f"/evaluations/{evaluation_id}")
        cadre.click("#result-feedback details.fb-add summary")
        cadre.fill("#propose-description", PROPOSAL)
        cadre.select_option("#propose-item", "P10")
        cadre.fill("#propose-owner", "Phó bí thư")
        cadre.fill("#propose-due", (date.today() + timedelta(days=10)).isoformat())
        cadre.click("#propose-form button[type=submit]")
        cadre.locator("#result-feedback .fb-action", has_text=PROPOSAL).wait_for()
        (action_id,) = live_server.sql(
            "SELECT id FROM corrective_action "
            f"WHERE evaluation_id = {evaluation_id} AND status = 'proposed'"
        )[0]

        # The secretary opens the evaluation: the badges say what they count.
        page = secretary_ctx.new_page()
        login(page, "secretary")
        page.goto(f"/feedback/{evaluation_id}")
        unacknowledged = _count(page, "#feedback-count")
        proposed = _count(page, "#proposed-count")
        menu = _count(page, "#menu-count")
        assert unacknowledged >= 1 and proposed >= 1 and menu >= unacknowledged + proposed
        assert "chưa xác nhận" in (page.locator("#nav-feedback").text_content() or "")
        assert "chờ duyệt" in (page.locator("#nav-actions").text_content() or "")

        # Acknowledge: the badge and the menu's sum drop by one, on the same page.
        page.evaluate("() => { window.cosoMarker = 'still here'; }")
        page.click("#acknowledge")
        page.locator("#fb-ack", has_text="✓").wait_for()
        page.wait_for_function(
            f"document.getElementById('feedback-count').textContent === '{unacknowledged - 1}'"
        )
        assert _count(page, "#menu-count") == menu - 1
        assert _same_page(page)

        # The "awaiting review" tab: accept the proposal; it leaves the tab at once.
        page.goto("/feedback/actions?status=proposed")
        tab_proposed = _count(page, "[data-count-of='tab-proposed']")
        tab_open = _count(page, "[data-count-of='tab-open']")
        assert tab_proposed >= 1
        item = page.locator(f"#action-{action_id}")
        assert item.get_attribute("data-status") == "proposed"
        _no_sideways_scroll(page)
        page.evaluate("() => { window.cosoMarker = 'still here'; }")
        item.locator("button.primary").click()
        page.locator(f"#action-{action_id}[data-moved='open']").wait_for()
        assert page.locator(".fb-action", has_text=PROPOSAL).count() == 0
        assert page.locator(".fb-action[data-status='open']").count() == 0
        assert _count(page, "[data-count-of='tab-proposed']") == tab_proposed - 1
        assert _count(page, "[data-count-of='tab-open']") == tab_open + 1
        assert _count(page, "#proposed-count") == proposed - 1
        assert _count(page, "#menu-count") == menu - 2
        assert _same_page(page)
        _no_sideways_scroll(page)
        stored = live_server.sql(f"SELECT status FROM corrective_action WHERE id = {action_id}")
        assert stored == [("open",)]

        # A reload agrees with what the page already showed.
        page.reload()
        assert page.locator(f"#action-{action_id}").count() == 0
        assert _count(page, "[data-count-of='tab-proposed']") == tab_proposed - 1
    finally:
        cadre_ctx.close()
        secretary_ctx.close()
