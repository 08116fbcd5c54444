"""The meeting calendar in a 360×740 Chromium (issue 18, item 1): a branch secretary declares
a monthly pattern and moves one of its meetings; a cadre finds the moved meeting in the week
view, steps between weeks and comes back with the back button."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.browser.conftest import LiveServer, login, open_menu
from tests.browser.test_offline_browser import assert_worker_offline, prepare
from tests.support import PHONE

pytestmark = pytest.mark.browser

PLACE = "Phòng họp thử lịch"
NEW_PLACE = "Hội trường dời lịch"


def _no_sideways_scroll(page) -> None:  # type: ignore[no-untyped-def]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_secretary_declares_and_moves_a_cadre_sees_it_in_the_week(  # type: ignore[no-untyped-def]
    browser, context, live_server: LiveServer
) -> None:
    today = date.today()
    moved_to = today + timedelta(days=9)
    branch_id = live_server.sql("SELECT unit_id FROM \"user\" WHERE username = 'secretary'")[0][0]

    secretary = context.new_page()
    login(secretary, "secretary")
    secretary.goto(f"/units/{branch_id}")
    secretary.click("#next-meeting a[href^='/meetings/branch/']")
    secretary.wait_for_url(f"**/meetings/branch/{branch_id}")
    _no_sideways_scroll(secretary)
    if secretary.locator("#pattern-form-box").get_attribute("open") is None:
        secretary.click("#pattern-form-box summary")
    secretary.select_option("#p-nth", "3")
    secretary.select_option("#p-weekday", "2")  # the 3rd Wednesday of each month
    secretary.fill("#p-time", "18:45")
    secretary.fill("#p-place", PLACE)
    secretary.fill("#p-months", "3")
    secretary.click("#pattern-form button[type=submit]")
    secretary.wait_for_url(f"**/meetings/branch/{branch_id}")
    declared = secretary.locator(f"#branch-meetings li.meeting:has-text('{PLACE}')")
    assert declared.count() >= 2
    assert "18:45" in declared.first.inner_text()

    declared.first.locator("a[data-move]").click()
    secretary.wait_for_url("**/move")
    _no_sideways_scroll(secretary)
    secretary.fill("#v-day", moved_to.isoformat())
    secretary.fill("#v-time", "20:15")
    secretary.fill("#v-place", NEW_PLACE)
    secretary.click("#move-form button[type=submit]")
    secretary.wait_for_url(f"**/meetings/branch/{branch_id}")
    moved = secretary.locator(f"#branch-meetings li.meeting:has-text('{NEW_PLACE}')")
    assert "Dời từ" in moved.inner_text() and "20:15" in moved.inner_text()
    secretary.close()

    phone = browser.new_context(viewport=PHONE, base_url=live_server.url, locale="vi-VN")
    phone.set_default_timeout(20_000)
    try:
        cadre = phone.new_page()
        login(cadre, "cadre")
        open_menu(cadre)
        cadre.click("#nav-calendar")
        cadre.wait_for_url("**/meetings")
        _no_sideways_scroll(cadre)
        this_week = cadre.url
        weeks = (moved_to - (today - timedelta(days=today.weekday()))).days // 7
        for _ in range(weeks):
            before = cadre.locator("#calendar-range").inner_text()
            cadre.click("#cal-next")
            cadre.wait_for_function(
                "t => document.querySelector('#calendar-range').textContent.trim() !== t",
                arg=before.strip(),
            )
        day = cadre.locator(f"section.calendar-day[data-day='{moved_to.isoformat()}']")
        text = day.inner_text()
        assert NEW_PLACE in text and "20:15" in text and "Dời từ" in text
        _no_sideways_scroll(cadre)
        if weeks:
            cadre.go_back()  # the week before, from the pushed URL
            cadre.wait_for_function(
                "d => !document.querySelector(`section.calendar-day[data-day='${d}']`)",
                arg=moved_to.isoformat(),
            )
            cadre.go_forward()
            cadre.locator(f"section.calendar-day[data-day='{moved_to.isoformat()}']").wait_for()
        # The day view of that day, from the week's heading.
        cadre.click(f"section.calendar-day[data-day='{moved_to.isoformat()}'] h3 a")
        cadre.wait_for_url("**view=day**")
        assert NEW_PLACE in cadre.locator("#calendar-view").inner_text()
        assert cadre.url != this_week
    finally:
        phone.close()


def test_offline_the_branch_list_and_checklist_show_the_next_meeting(  # type: ignore[no-untyped-def]
    context,
) -> None:
    page = context.new_page()
    prepare(page)
    branches = page.evaluate(
        "async () => (await window.CosoOutbox.get('meta', 'fieldpack')).value.branches"
        ".filter((b) => b.next_meeting)"
        ".map((b) => [b.id, b.next_meeting.date, b.next_meeting.time])"
    )
    assert branches, "the demo declares meetings for the cadre's branches"
    branch_id, day, at = branches[0]
    shown = f"{day[8:10]}/{day[5:7]}/{day[0:4]} {at}"
    context.set_offline(True)
    assert_worker_offline(context)
    page.goto("/evaluate")
    row = page.locator(f"#branch-offline li:has(a[href='/evaluate/{branch_id}'])")
    row.wait_for()
    assert f"Sinh hoạt tới: {shown}" in row.inner_text()
    _no_sideways_scroll(page)
    page.goto(f"/evaluate/{branch_id}")
    page.locator("#branch-next-meeting").wait_for()
    assert shown in page.locator("#branch-next-meeting").inner_text()
    context.set_offline(False)
