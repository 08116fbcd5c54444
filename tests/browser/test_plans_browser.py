"""A visit plan from end to end in a 360×740 Chromium (issue 18, items 2 and 3): the province
plans a visit of a branch for the cadre, the cadre finds it under "my next visits", evaluates
the branch from there, and the plan reads done."""

from __future__ import annotations

import re
from datetime import date

from tests.browser.conftest import LiveServer, login
from tests.browser.test_same_meeting_browser import _fill
from tests.support import PHONE


def test_province_plans_the_cadre_evaluates_and_the_plan_is_done(
    browser, live_server: LiveServer
) -> None:  # type: ignore[no-untyped-def]
    today = date.today().isoformat()
    branch, code, name = live_server.sql(
        "SELECT id, code, name FROM unit WHERE kind = 'branch' AND active AND id NOT IN"
        f" (SELECT branch_id FROM evaluation WHERE meeting_date = '{today}')"
        " AND id NOT IN (SELECT unit_id FROM visit_plan) ORDER BY id LIMIT 1"
    )[0]
    cadre_id = live_server.sql("SELECT id FROM \"user\" WHERE username = 'cadre'")[0][0]
    contexts = []

    def phone():  # type: ignore[no-untyped-def]
        ctx = browser.new_context(viewport=PHONE, base_url=live_server.url, locale="vi-VN")
        ctx.set_default_timeout(20_000)
        contexts.append(ctx)
        return ctx.new_page()

    try:
        page = phone()
        login(page, "province")
        page.goto("/plans/new")
        page.fill("#unit_code", code)
        page.select_option("#form", "meeting")
        page.fill("#start_date", today)
        page.fill("#end_date", today)
        page.check(f"input[name=cadre_ids][value='{cadre_id}']")
        page.fill("#focus", "Xem sổ biên bản và tỷ lệ tham dự.")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.click("#plan-form button[type=submit]")
        page.wait_for_url(re.compile(r"/plans/\d+$"))
        plan_url = page.url
        assert "plan-upcoming" in (page.get_attribute("#plan-state", "class") or "")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        # the back button returns to the form's page
        page.go_back()
        page.wait_for_url("**/plans/new")

        page = phone()
        login(page, "cadre")
        page.goto("/")
        panel = page.locator("#my-next-visits")
        row = panel.locator("li", has_text=name)
        row.wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        row.locator("a.button").click()
        page.wait_for_url(f"**/evaluate/{branch}")
        _fill(page, today)
        page.click("#checklist button[type=submit]")
        page.wait_for_url("**/evaluations/*")

        page.goto(plan_url)
        assert "plan-done" in (page.get_attribute("#plan-state", "class") or "")
        assert "Đã xong" in page.inner_text("#plan-state")
        page.goto("/")
        assert page.locator("#my-next-visits li", has_text=name).count() == 0
    finally:
        for ctx in contexts:
            ctx.close()
