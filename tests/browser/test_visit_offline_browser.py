"""A visit of another form and its report, offline in a real Chromium (issue 18, item 5).

On a 360 px phone with no signal, a cadre logs a co-organised activity and drafts its report,
reloads the page (the draft survives), finishes the report and sends it; back online the
outbox drains. The server holds the visit once, with the report, and the cadre's days count
the date once, however often the phone sends it.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from tests.browser.conftest import LiveServer
from tests.browser.test_offline_browser import (  # noqa: F401  (the profile fixture)
    assert_worker_offline,
    badge,
    prepare,
    profile,
)

FIRST = "Ngày 1: phối hợp tổ chức ngày hội thanh niên, 32 đoàn viên tham gia."
SECOND = " Ngày 2: kiến nghị Đoàn xã hỗ trợ kinh phí."


def _free_day(live_server: LiveServer, user_id: int) -> date:
    """A recent date on which the cadre has no visit yet, so the new one adds one day."""
    taken = {
        date.fromisoformat(str(row[0]))
        for row in live_server.sql(f"SELECT start_date FROM visit WHERE user_id = {user_id}")
    }
    day = date.today() - timedelta(days=1)
    while day in taken:
        day -= timedelta(days=1)
    return day


def _days(page) -> int:  # type: ignore[no-untyped-def]
    page.goto(f"/visits?year={date.today().year}")
    return int(page.locator("#days-total").inner_text())


def test_offline_visit_and_report_drafted_over_a_reload_sync_once(  # type: ignore[no-untyped-def]
    profile,  # noqa: F811
    live_server: LiveServer,
) -> None:
    ctx = profile()
    page = ctx.new_page()
    prepare(page)
    (user_id,) = live_server.sql("SELECT id FROM \"user\" WHERE username = 'cadre'")[0]
    day = _free_day(live_server, user_id)
    if day.year != date.today().year:  # the 1st of January: count in the visit's own year
        day = date.today()
    before = _days(page)
    (branch_id, branch_name) = live_server.sql(
        "SELECT id, name FROM unit WHERE kind = 'branch' AND active ORDER BY id LIMIT 1"
    )[0]

    ctx.set_offline(True)
    assert_worker_offline(ctx)
    page.goto("/visits/new")  # served by the worker: prepared for the field while online
    # The field pack's branches join the page's units, so a branch can be chosen offline.
    page.wait_for_selector(f'#unit_id option[value="{branch_id}"]', state="attached")
    page.select_option("#unit_id", str(branch_id))
    page.select_option("#form", "coorganise")
    page.fill("#start_date", day.isoformat())
    page.fill("#end_date", day.isoformat())
    page.click("#visit-form button[type=submit]")
    page.wait_for_url(re.compile(r"/visits/drafts\?visit="))
    area = page.locator(".visit-draft textarea")
    area.wait_for()
    page.wait_for_function("document.getElementById('outbox-count').textContent === '1'")
    assert branch_name in page.locator(".visit-draft h2").inner_text()
    visit_uuid = page.locator(".visit-draft").get_attribute("data-uuid")
    assert visit_uuid

    # The draft is kept on the phone as it is typed, and survives a reload without signal.
    area.fill(FIRST)
    for _ in range(50):  # page.evaluate awaits the read (wait_for_function would not)
        saved = page.evaluate(f"CosoOutbox.get('drafts', 'visit:{visit_uuid}')")
        if saved and saved.get("report_text") == FIRST:
            break
        page.wait_for_timeout(100)
    assert saved["report_text"] == FIRST and saved["report_saved_at"]
    assert "draft" in page.locator(".draft-status").inner_text().lower() or (
        "nháp" in page.locator(".draft-status").inner_text().lower()
    )
    page.reload()
    area = page.locator(".visit-draft textarea")
    area.wait_for()
    assert area.input_value() == FIRST
    area.fill(FIRST + SECOND)
    page.click(".visit-draft button[data-action=send]")
    page.wait_for_function("document.getElementById('outbox-count').textContent === '2'")
    assert "v1" in page.evaluate(
        "CosoOutbox.all('outbox').then(items => items.map(i => (i.payload.kind === 'visit_report'"
        " ? 'v' + i.payload.version : i.payload.kind)).join(' '))"
    )
    page.goto("/outbox")
    page.wait_for_selector("#outbox-list li.outbox-item[data-kind=visit]")
    assert page.locator("#outbox-list li.outbox-item[data-kind=visit_report]").count() == 1
    found = live_server.sql(f"SELECT count(*) FROM visit WHERE uuid = '{visit_uuid}'")
    assert found[0][0] == 0

    # Signal again: the outbox drains by itself; the visit arrives once, with its report.
    ctx.set_offline(False)
    page.wait_for_function(
        "document.getElementById('outbox-count').textContent === '0'", timeout=60_000
    )
    rows = live_server.sql(
        f"SELECT form, start_date, end_date, report, report_version FROM visit "
        f"WHERE uuid = '{visit_uuid}'"
    )
    assert len(rows) == 1
    form, start, end, report, version = rows[0]
    assert form == "coorganise" and str(start) == str(end) == day.isoformat()
    assert report == FIRST + SECOND and version == 1
    page.wait_for_selector("#sent-list li a[href$='/report']")

    # The phone sends the same visit again (a lost answer, say): still one visit, one day.
    page.evaluate(
        "async (key) => { const r = await CosoOutbox.get('drafts', key);"
        " await CosoOutbox.enqueue({uuid: r.uuid, user_id: r.user_id, unit_name: r.unit_name,"
        " start_date: r.start_date, payload: {kind: 'visit', uuid: r.uuid, unit_id: r.unit_id,"
        " form: r.form, start_date: r.start_date, end_date: r.end_date}}); }",
        f"visit:{visit_uuid}",
    )
    page.evaluate("CosoApp.drain({force: true})")
    page.wait_for_function(
        "document.getElementById('outbox-count').textContent === '0'", timeout=30_000
    )
    assert live_server.sql(f"SELECT count(*) FROM visit WHERE uuid = '{visit_uuid}'")[0][0] == 1
    assert _days(page) == before + 1
    # The report shows as on time on the cadre's own list.
    # Its own row, by id: the branch may have other visits that day (another test's, say).
    visit_id = live_server.sql(f"SELECT id FROM visit WHERE uuid = '{visit_uuid}'")[0][0]
    row = page.locator(f'#visit-list tr[data-visit-id="{visit_id}"]')
    # The list is newest first, a page at a time: other tests' visits of the same cadre on
    # later days can push this one past the first page.
    for number in range(1, 20):
        if row.count():
            break
        page.goto(f"/visits?year={day.year}&page={number + 1}")
    assert branch_name in row.inner_text() and f"{day:%d/%m/%Y}" in row.inner_text()
    assert row.locator(".report-on-time").count() == 1
