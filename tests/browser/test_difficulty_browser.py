"""A difficulty raised on a phone with no signal, answered up the chain (issue 19, item 1).

On a 360 px phone a branch secretary, who has no "prepare for the field", opens the home
page with signal (the difficulty form and the outbox are kept on the phone), loses the
signal, raises a difficulty and sees it waiting on the phone; with signal again the outbox
sends it once. The commune's secretary passes it up, the province answers and closes it,
and the branch secretary reads the answer. With signal, a difficulty the server refuses
comes back into the form with the server's reason, and one it takes opens its own page.
"""

from __future__ import annotations

import re

from tests.browser.conftest import PHONE, LiveServer, login
from tests.browser.test_offline_browser import assert_worker_offline, wait_cached

TEXT = "Chi đoàn chưa có chỗ sinh hoạt cố định, mùa mưa phải hoãn họp."
ANSWER = "Tỉnh đoàn đề nghị xã bố trí hội trường ấp."
SECOND = "Đề nghị hỗ trợ kinh phí mua loa cho buổi sinh hoạt ngoài trời."
DONE = "Xã đã giao hội trường ấp cho chi đoàn sinh hoạt hằng tháng."


def _count(page) -> str:  # type: ignore[no-untyped-def]
    return page.locator("#outbox-count").inner_text()


def test_a_secretary_raises_offline_and_reads_the_provinces_answer(  # type: ignore[no-untyped-def]
    browser, live_server: LiveServer
) -> None:
    def phone():  # type: ignore[no-untyped-def]
        ctx = browser.new_context(viewport=PHONE, base_url=live_server.url, locale="vi-VN")
        ctx.set_default_timeout(20_000)
        return ctx

    secretary = phone()
    try:
        page = secretary.new_page()
        login(page, "secretary")
        page.goto("/")
        page.wait_for_function(
            "navigator.serviceWorker && navigator.serviceWorker.controller !== null"
        )
        # The home page keeps the form on the phone and says so (no "prepare" button here).
        page.wait_for_selector("#keep-offline[data-kept]")
        assert page.locator("#keep-offline").get_attribute("data-kept") == "yes"
        assert "cả khi không có sóng" in page.locator("#keep-offline").inner_text()
        for path in ("/difficulties/new", "/difficulties/", "/outbox", "/practices"):
            wait_cached(page, path)

        secretary.set_offline(True)
        assert_worker_offline(secretary)
        page.goto("/difficulties/new")  # the copy kept on the phone
        page.select_option("#d-category", "venue")
        page.fill("#d-text", "   ")
        page.click("#difficulty-form button[type=submit]")  # nothing written: said in the form
        page.wait_for_selector("#err-js-text")
        assert page.locator("#err-js-text").inner_text() == "Hãy ghi nội dung khó khăn."
        page.fill("#d-text", TEXT)
        page.click("#difficulty-form button[type=submit]")
        status = page.locator("#difficulty-status")
        status.wait_for(state="visible")
        assert "giữ trên điện thoại" in status.inner_text()
        page.wait_for_function("document.getElementById('outbox-count').textContent === '1'")
        assert page.input_value("#d-text") == ""  # ready for the next one
        # A second one from a fresh copy of the kept page joins the first, never replaces it.
        page.reload()
        page.select_option("#d-category", "funds")
        page.fill("#d-text", SECOND)
        page.click("#difficulty-form button[type=submit]")
        page.wait_for_function("document.getElementById('outbox-count').textContent === '2'")
        assert TEXT not in [row[0] for row in live_server.sql("SELECT text FROM difficulty")]

        # "My difficulties", from the phone's copy, lists it as waiting on this phone.
        page.goto("/difficulties/")
        page.wait_for_selector("#pending-difficulties:not([hidden]) li")
        pending = page.locator("#pending-difficulties").inner_text()
        assert TEXT in pending and SECOND in pending
        # The good practices spread to the branch read without signal too (issue 19, item 4).
        page.goto("/practices")
        practice = page.locator("#spread-practices li.practice").first
        practice.locator("summary").click()
        assert practice.locator(".practice-text p").inner_text().strip()
        page.goto("/outbox")
        page.wait_for_selector("#outbox-list li.outbox-item[data-kind=difficulty]")

        # Signal again: the outbox drains by itself, and the difficulty is stored once.
        secretary.set_offline(False)
        page.wait_for_function(
            "document.getElementById('outbox-count').textContent === '0'", timeout=60_000
        )
        rows = live_server.sql(
            "SELECT d.id, d.category, r.kind FROM difficulty d JOIN unit r ON r.id = d.routed_to_id"
            f" WHERE d.text = '{TEXT}'"
        )
        assert len(rows) == 1
        second = live_server.sql(f"SELECT count(*) FROM difficulty WHERE text = '{SECOND}'")
        assert second[0][0] == 1
        difficulty_id, category, receiver_kind = rows[0]
        assert category == "venue" and receiver_kind == "commune"
        page.wait_for_selector(f"#sent-list li a[href='/difficulties/{difficulty_id}']")
    finally:
        secretary.close()

    # The commune passes it up; the province answers and closes it.
    commune = phone()
    try:
        page = commune.new_page()
        login(page, "commune")
        page.goto(f"/difficulties/{difficulty_id}")
        page.fill("#d-note", "Xã chưa bố trí được")
        page.click("#pass-up-form button[type=submit]")
        page.wait_for_selector("#difficulty-passes")
    finally:
        commune.close()
    province = phone()
    try:
        page = province.new_page()
        login(page, "province")
        page.goto(f"/difficulties/{difficulty_id}")
        page.fill("#d-answer", ANSWER)
        page.click("#answer-form button[type=submit]")
        page.wait_for_selector("#difficulty-answer")
        page.fill("#d-resolution", DONE)
        page.click("#close-form button[type=submit]")
        page.wait_for_selector("#difficulty-resolution")
        assert page.locator("#difficulty").get_attribute("data-state") == "closed"
    finally:
        province.close()

    secretary = phone()
    try:
        page = secretary.new_page()
        login(page, "secretary")
        page.goto("/difficulties/")
        mine = page.locator(f"#my-difficulties li:has(a[href='/difficulties/{difficulty_id}'])")
        assert ANSWER in mine.locator(".answer").inner_text()
        assert DONE in mine.locator(".resolution").inner_text()
        assert mine.get_attribute("data-state") == "closed"

        # With signal: a category the province does not have comes back with the server's
        # reason; corrected, it is stored and its page opens.
        page.goto("/difficulties/new")
        page.wait_for_function("navigator.serviceWorker.controller !== null")
        page.evaluate(
            "(() => { const o = document.createElement('option'); o.value = 'weather';"
            " o.textContent = 'weather'; document.getElementById('d-category').appendChild(o); })()"
        )
        page.select_option("#d-category", "weather")
        page.fill("#d-text", "Một kiến nghị khác")
        page.click("#difficulty-form button[type=submit]")
        page.wait_for_selector("#err-js-category")
        assert page.locator("#difficulty-status").is_visible()
        page.select_option("#d-category", "funds")
        page.click("#difficulty-form button[type=submit]")
        page.wait_for_url(re.compile(r"/difficulties/\d+$"))
        assert "Một kiến nghị khác" in page.locator("#difficulty-text").inner_text()
        assert (
            live_server.sql("SELECT count(*) FROM difficulty WHERE text = 'Một kiến nghị khác'")[0][
                0
            ]
            == 1
        )
        page.wait_for_function("document.getElementById('outbox-count').textContent === '0'")
    finally:
        secretary.close()
