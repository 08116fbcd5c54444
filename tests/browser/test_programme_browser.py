"""The đi cơ sở programme end to end on a 360×740 phone (issue 18, "Done when").

The province has planned two visits for the demo cadre: today's branch meeting at a branch
whose last evaluation failed an item (it has a Party-member secretary and an overdue corrective
action), and yesterday's co-organised activity in that branch's commune. The cadre sees them
under "my next visits", prepares the phone, loses the signal, reads the brief of the planned
branch (plan focus, guidance material, secretary, last failed item marked, the open action),
evaluates it and ticks the action seen done; logs the co-organised activity and drafts its
report; comes back online. The province then sees both plans done, the cadre's days counted
once each, and the report on time.
"""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, date, datetime, timedelta

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser.conftest import LiveServer, login
from tests.browser.test_brief_browser import _write
from tests.browser.test_offline_browser import assert_worker_offline, fill, prepare
from tests.support import PHONE

FOCUS = "Kiểm tra sổ biên bản và thu đoàn phí (chương trình)"
ACTION = "Hoàn thiện sổ biên bản chi đoàn (chương trình)"
SECRETARY = "Trần Thị Mai"
REPORT = "Phối hợp tổ chức ngày hội thanh niên; đề nghị Đoàn xã hỗ trợ kinh phí."


def _programme(live_server: LiveServer) -> dict[str, int | str]:
    """The planned branch (its last evaluation failed an item), a second branch of its commune,
    and the two plans; the secretary and an overdue action at the planned branch."""
    cadre = live_server.sql("SELECT id FROM \"user\" WHERE username = 'cadre'")[0][0]
    province = live_server.sql("SELECT id FROM \"user\" WHERE username = 'province'")[0][0]
    today, yesterday = date.today(), date.today() - timedelta(days=1)
    branch, name, commune, failed, evaluation = live_server.sql(
        "SELECT u.id, u.name, u.parent_id, a.item_code, bs.evaluation_id FROM unit u"
        " JOIN branch_status bs ON bs.branch_id = u.id"
        " JOIN evaluation_answer a ON a.evaluation_id = bs.evaluation_id"
        " WHERE a.value = 'fail' AND u.kind = 'branch' AND u.active"
        " AND u.id NOT IN (SELECT unit_id FROM visit_plan)"
        f" AND u.id NOT IN (SELECT branch_id FROM evaluation WHERE meeting_date = '{today}')"
        " ORDER BY u.id, a.item_code LIMIT 1"
    )[0]
    other = live_server.sql(
        f"SELECT id FROM unit WHERE parent_id = {commune} AND kind = 'branch' AND active"
        f" AND id <> {branch} ORDER BY id LIMIT 1"
    )[0][0]
    now = datetime.now(UTC).replace(tzinfo=None)
    _write(
        live_server,
        "UPDATE unit SET secretary_name = :n, secretary_since = :s, secretary_party_member = :p"
        " WHERE id = :id",
        n=SECRETARY,
        s=date(2024, 9, 1),
        p=True,
        id=branch,
    )
    action = _write(
        live_server,
        "INSERT INTO corrective_action (branch_id, evaluation_id, item_code, description, owner,"
        " due_date, status, created_by_id, created_at)"
        " VALUES (:b, :e, :i, :d, 'Bí thư', :due, 'open', :by, :now) RETURNING id",
        b=branch,
        e=evaluation,
        i=failed,
        d=ACTION,
        due=today - timedelta(days=2),
        by=province,
        now=now,
    )[0][0]
    plans = {}
    for key, unit, form, day, focus in (
        ("meeting", branch, "meeting", today, FOCUS),
        ("coorganise", commune, "coorganise", yesterday, None),
    ):
        plans[key] = _write(
            live_server,
            "INSERT INTO visit_plan (unit_id, form, start_date, end_date, day_before, focus,"
            " status, created_by_id, created_at) VALUES (:u, :f, :d, :d, :no, :focus,"
            " 'planned', :by, :now) RETURNING id",
            u=unit,
            f=form,
            d=day,
            no=False,
            focus=focus,
            by=province,
            now=now,
        )[0][0]
        _write(
            live_server,
            "INSERT INTO plan_cadre (plan_id, user_id) VALUES (:p, :u)",
            p=plans[key],
            u=cadre,
        )
    return {
        "cadre": cadre, "branch": branch, "name": name, "other": other, "failed": failed,
        "action": action, "meeting_plan": plans["meeting"], "coorganise_plan": plans["coorganise"],
    }  # fmt: skip


def _visits_on(live_server: LiveServer, cadre: int, day: date) -> int:
    return live_server.sql(
        f"SELECT count(*) FROM visit WHERE user_id = {cadre}"
        f" AND start_date <= '{day}' AND end_date >= '{day}'"
    )[0][0]


def _around(live_server: LiveServer, cadre: int, day: date) -> dict[str, list[tuple]]:
    """What a plan that reads missed is matched against: the cadre's plans and visits from the
    day before ``day`` on (for the failure's message)."""
    since = day - timedelta(days=1)
    return {
        "plans": live_server.sql(
            "SELECT p.id, p.unit_id, p.form, p.start_date, p.end_date, p.day_before, p.status"
            " FROM visit_plan p JOIN plan_cadre c ON c.plan_id = p.id"
            f" WHERE c.user_id = {cadre} AND p.end_date >= '{since}' ORDER BY p.start_date, p.id"
        ),
        "visits": live_server.sql(
            "SELECT id, unit_id, form, start_date, end_date FROM visit"
            f" WHERE user_id = {cadre} AND end_date >= '{since}' ORDER BY start_date, id"
        ),
    }


def test_plan_prepare_brief_evaluate_log_report_and_the_province_sees_it_done(
    browser, context, live_server: LiveServer
) -> None:  # type: ignore[no-untyped-def]
    world = _programme(live_server)
    today, yesterday = date.today(), date.today() - timedelta(days=1)
    cadre = int(world["cadre"])
    before = {day: _visits_on(live_server, cadre, day) for day in (today, yesterday)}
    page = context.new_page()
    prepare(page)  # the cadre, online: worker installed, field pack and pages kept
    assert page.locator("#my-next-visits li", has_text=str(world["name"])).count() == 1

    context.set_offline(True)
    assert_worker_offline(context)
    # The brief of the planned branch, from the field pack.
    page.goto(f"/evaluate/{world['branch']}")
    page.wait_for_selector("#brief:not([hidden])")
    assert FOCUS in page.inner_text("#brief-plans")
    assert SECRETARY in page.inner_text("#brief-secretary-text")
    assert "01/09/2024" in page.inner_text("#brief-secretary-text")
    assert "failed-last" in (page.get_attribute(f"#item-{world['failed']}", "class") or "")
    action = page.locator(f"#brief-action-list li[data-action-id='{world['action']}']")
    assert ACTION in action.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    evaluation = fill(page, meeting=today.isoformat())
    action.locator("input[name=seen_done]").check()
    page.click("button[type=submit].wide")
    page.wait_for_selector("#saved-panel:not([hidden])")

    # The co-organised activity of yesterday, and its report drafted on the phone.
    page.goto("/visits/new")
    page.wait_for_selector(f'#unit_id option[value="{world["other"]}"]', state="attached")
    page.select_option("#unit_id", str(world["other"]))
    page.select_option("#form", "coorganise")
    page.fill("#start_date", yesterday.isoformat())
    page.fill("#end_date", yesterday.isoformat())
    page.click("#visit-form button[type=submit]")
    page.wait_for_url(re.compile(r"/visits/drafts\?visit="))
    area = page.locator(".visit-draft textarea")
    area.wait_for()
    visit = page.locator(".visit-draft").get_attribute("data-uuid")
    area.fill(REPORT)
    page.click(".visit-draft button[data-action=send]")
    page.wait_for_function("document.getElementById('outbox-count').textContent === '3'")
    assert (
        live_server.sql(f"SELECT count(*) FROM evaluation WHERE uuid = '{evaluation}'")[0][0] == 0
    )

    # Signal again: everything arrives once.
    context.set_offline(False)
    page.goto("/outbox")
    drained = "document.getElementById('outbox-count').textContent === '0'"
    for _ in range(4):  # "send now" again if a drain had started before the signal was back
        if page.locator("#outbox-count").inner_text() == "0":
            break
        with contextlib.suppress(PlaywrightTimeout):
            page.click("#send-now")
            page.wait_for_function(drained, timeout=20_000)
            break
    page.wait_for_function(drained, timeout=10_000)
    assert (
        live_server.sql(f"SELECT count(*) FROM evaluation WHERE uuid = '{evaluation}'")[0][0] == 1
    )
    assert live_server.sql(f"SELECT report FROM visit WHERE uuid = '{visit}'") == [(REPORT,)]
    seen = live_server.sql(
        f"SELECT seen_done_by_id FROM corrective_action WHERE id = {world['action']}"
    )
    assert seen == [(world["cadre"],)]
    # One more visit on each day, however the phone sent them.
    for day in (today, yesterday):
        assert _visits_on(live_server, cadre, day) == before[day] + 1, day

    # The province sees both plans done, and the report on time.
    province = browser.new_context(viewport=PHONE, base_url=live_server.url, locale="vi-VN")
    province.set_default_timeout(20_000)
    try:
        view = province.new_page()
        login(view, "province")
        for key in ("meeting_plan", "coorganise_plan"):
            view.goto(f"/plans/{world[key]}")
            state = view.get_attribute("#plan-state", "class") or ""
            assert "plan-done" in state, (key, _around(live_server, cadre, yesterday))
        assert view.locator("#plan-cadres .report-on-time").count() == 1
        view.goto(f"/plans/{world['meeting_plan']}")
        assert view.locator("#plan-cadres a", has_text="đánh giá").count() >= 1
    finally:
        province.close()
