"""One meeting evaluated twice, and the branch's own checklist offline (issue 16, items 3 and 6),
in a 360×740 Chromium.

Online the server warns when the date is picked (who and when of another cadre's evaluation;
"correct the earlier one" for the cadre's own), the second is still accepted, and the province
sees the pair marked. Offline the generic checklist renders the template the field pack names
for the branch, shows its last result as the online page does, and warns from the pack's
recent evaluations and the phone's own outbox.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser.conftest import LiveServer, login
from tests.browser.test_offline_browser import assert_worker_offline, outbox_count, prepare
from tests.support import PHONE, pg_url

PASSWORD = "Same-meeting-2026-phone!"


def _engine(live_server: LiveServer) -> sa.Engine:
    url = live_server.env["DATABASE_URL"]
    return sa.create_engine(pg_url(url) if "postgres" in url else url)


def _cadre_unit(live_server: LiveServer) -> tuple[int, str, str]:
    """The demo cadre's home unit: id, code, path."""
    return live_server.sql(
        'SELECT u.id, u.code, u.path FROM unit u JOIN "user" s ON s.unit_id = u.id'
        " WHERE s.username = 'cadre'"
    )[0]


def _second_cadre(live_server: LiveServer) -> tuple[str, str]:
    """Another cadre with the demo cadre's area: username and display name."""
    code = _cadre_unit(live_server)[1]
    username = f"dup{uuid.uuid4().hex[:8]}"
    name = f"Cán bộ {username[3:7].upper()}"
    live_server.flask(
        "create-user", username, "--roles", "cadre", "--unit", code,
        "--name", name, "--password", PASSWORD,
    )  # fmt: skip
    return username, name


#: Branches without an evaluation of a meeting today (the day the checklist opens on).
NOT_TODAY = f"id NOT IN (SELECT branch_id FROM evaluation WHERE meeting_date = '{date.today()}')"


def _free_day(live_server: LiveServer, branch: int, start: int = 2) -> str:
    """A recent day on which ``branch`` has no evaluation at all."""
    taken = {
        str(row[0])
        for row in live_server.sql(
            f"SELECT meeting_date FROM evaluation WHERE branch_id = {branch}"
        )
    }
    day = next(
        d
        for n in range(start, 80)
        if (d := (date.today() - timedelta(days=n)).isoformat()) not in taken
    )
    return day


def _send(context: Any, item: dict[str, Any]) -> None:
    """Send ``item`` through the sync API as the context's signed-in user."""
    token = context.request.get("/api/v1/session").json()["csrf_token"]
    response = context.request.post(
        "/api/v1/sync", data={"evaluations": [item]}, headers={"X-CSRFToken": token}
    )
    assert response.json()["results"][0]["status"] == "created", response.json()


def _item(branch: int, template: int, codes: list[str], day: str) -> dict[str, Any]:
    return {
        "uuid": str(uuid.uuid4()), "branch_id": branch, "template_id": template,
        "guidance_id": None, "meeting_date": day, "meeting_type": "regular", "mode": "in_person",
        "members_total": 20, "members_present": 18,
        "answers": [{"item": c, "value": "pass"} for c in codes],
        "topics_covered": [], "notes": None, "good_practice": None,
        "recommend_practice": False, "supersedes": None,
        "started_at": None, "submitted_at": None,
    }  # fmt: skip


def _fill(page, day: str) -> None:  # type: ignore[no-untyped-def]
    """Every item of whatever checklist the page shows, passed."""
    page.wait_for_selector("#checklist:not([hidden])")
    page.fill("#meeting_date", day)
    page.fill("#members_total", "20")
    page.fill("#members_present", "16")
    for label in page.locator("fieldset.item[id^=item-] label.v-pass").all():
        label.click()


def test_the_second_evaluation_of_a_meeting_is_warned_accepted_and_paired(
    browser, live_server: LiveServer
) -> None:  # type: ignore[no-untyped-def]
    _, _, path = _cadre_unit(live_server)
    # A branch nobody evaluated today: the form opens on today, and an evaluation another
    # browser test sent today (test_feedback_browser's, say) would be warned about at once.
    branch = live_server.sql(
        "SELECT id FROM unit WHERE kind = 'branch' AND active"
        f" AND path LIKE '{path}%' AND {NOT_TODAY} ORDER BY id DESC"
    )[0][0]
    day = _free_day(live_server, branch)
    other, other_name = _second_cadre(live_server)
    contexts = []

    def phone():  # type: ignore[no-untyped-def]
        ctx = browser.new_context(viewport=PHONE, base_url=live_server.url, locale="vi-VN")
        ctx.set_default_timeout(20_000)
        contexts.append(ctx)
        return ctx, ctx.new_page()

    try:
        # Another cadre evaluates the meeting first, on the form.
        _, page = phone()
        login(page, other, PASSWORD)
        page.goto(f"/evaluate/{branch}")
        _fill(page, day)
        page.click("#checklist button[type=submit]")
        page.wait_for_url("**/evaluations/*")

        # The cadre picks the same date: warned by who and when, nothing else of it.
        _, page = phone()
        login(page, "cadre")
        page.goto(f"/evaluate/{branch}")
        assert page.locator("#duplicate-warning li").count() == 0
        _fill(page, day)
        warning = page.locator("#duplicate-warning")
        warning.locator("li").first.wait_for()
        assert other_name in warning.inner_text()
        assert warning.locator("a.correct-earlier").count() == 0
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        # Non-blocking: the second one is stored as well.
        page.click("#checklist button[type=submit]")
        page.wait_for_url("**/evaluations/*")
        rows = live_server.sql(
            f"SELECT count(*) FROM evaluation WHERE branch_id = {branch} AND meeting_date = '{day}'"
        )
        assert rows[0][0] == 2

        # Its own evaluation of that meeting: "correct the earlier one" opens the correction.
        page.goto(f"/evaluate/{branch}")
        page.fill("#meeting_date", day)
        link = page.locator("#duplicate-warning a.correct-earlier")
        link.wait_for()
        assert (
            "Bạn đã đánh giá buổi sinh hoạt này" in page.locator("#duplicate-warning").inner_text()
        )
        link.click()
        page.wait_for_url("**correct=*")
        assert page.locator("input[name=supersedes]").count() == 1
        assert "Bạn đang sửa phiếu đánh giá" in page.inner_text("header.branch-head")
        # The one being corrected is not a duplicate of itself; the other cadre's still is.
        text = page.locator("#duplicate-warning").inner_text()
        assert other_name in text and "Bạn đã đánh giá" not in text

        # The province sees the pair marked on the branch's page.
        _, page = phone()
        login(page, "province")
        page.goto(f"/units/{branch}")
        pair = page.locator("#timeline li.ev", has=page.locator(".twin"))
        assert pair.count() == 2
        assert page.locator("#timeline .twin").first.is_visible()
    finally:
        for ctx in contexts:
            ctx.close()


@pytest.fixture
def commune_template(live_server: LiveServer) -> Iterator[dict[str, Any]]:
    """A checklist of its own for a commune in the cadre's area that is not the cadre's home
    (one reworded item and one more); retired again afterwards, so other tests see the demo."""
    home, _, path = _cadre_unit(live_server)
    commune, branch, branch_name = live_server.sql(
        "SELECT c.id, b.id, b.name FROM unit c JOIN unit b ON b.parent_id = c.id"
        " JOIN branch_status s ON s.branch_id = b.id AND s.evaluation_id IS NOT NULL"
        f" WHERE c.kind = 'commune' AND c.id <> {home} AND c.path LIKE '{path}%'"
        f" AND b.active AND {NOT_TODAY.replace('id NOT IN', 'b.id NOT IN')}"
        " ORDER BY c.id DESC, b.id DESC"
    )[0]
    engine = _engine(live_server)
    template = 0
    try:
        with engine.begin() as conn:
            base = conn.execute(
                sa.text(
                    "SELECT id FROM checklist_template WHERE status = 'published'"
                    " ORDER BY id LIMIT 1"
                )
            ).scalar_one()
            template = conn.execute(
                sa.text(
                    "INSERT INTO checklist_template (unit_id, name, version, status, created_at,"
                    " published_at) VALUES (:u, 'Bảng kiểm của xã',"
                    " (SELECT COALESCE(MAX(version), 0) + 1 FROM checklist_template"
                    " WHERE unit_id = :u), 'published',"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) RETURNING id"
                ),
                {"u": commune},
            ).scalar_one()
            conn.execute(
                sa.text(
                    "INSERT INTO checklist_item (template_id, position, code, section, text_vi,"
                    " text_en, weight, critical, kind) SELECT :t, position, code, section,"
                    " CASE WHEN code = 'P1' THEN 'Mục riêng của xã: ' || text_vi ELSE text_vi END,"
                    " text_en, weight, critical, kind FROM checklist_item WHERE template_id = :b"
                ),
                {"t": template, "b": base},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO checklist_item (template_id, position, code, section, text_vi,"
                    " text_en, weight, critical, kind) VALUES (:t, 99, 'X1', 'procedure',"
                    " 'Chi đoàn có sổ ghi biên bản của xã', 'The commune minutes book', 2,"
                    " :no, 'choice')"
                ),
                {"t": template, "no": False},
            )
            codes = [
                row[0]
                for row in conn.execute(
                    sa.text(
                        "SELECT code FROM checklist_item WHERE template_id = :t AND kind = 'choice'"
                    ),
                    {"t": template},
                )
            ]
        yield {
            "template": template, "base": base, "branch": branch, "branch_name": branch_name,
            "codes": codes,
        }  # fmt: skip
    finally:
        with engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE checklist_template SET status = 'retired' WHERE id = :t"),
                {"t": template},
            )
        engine.dispose()


def test_offline_the_branch_gets_its_own_checklist_last_result_and_warnings(
    browser, live_server: LiveServer, commune_template: dict[str, Any]
) -> None:  # type: ignore[no-untyped-def]
    branch, template = commune_template["branch"], commune_template["template"]
    seen_day = _free_day(live_server, branch, start=3)
    other, other_name = _second_cadre(live_server)
    helper = browser.new_context(viewport=PHONE, base_url=live_server.url, locale="vi-VN")
    ctx = browser.new_context(viewport=PHONE, base_url=live_server.url, locale="vi-VN")
    ctx.set_default_timeout(20_000)
    try:
        # Another cadre evaluated a recent meeting of the branch, with its own checklist.
        login(helper.new_page(), other, PASSWORD)
        _send(helper, _item(branch, template, commune_template["codes"], seen_day))

        page = ctx.new_page()
        prepare(page)  # signs the cadre in, installs the worker, fetches the field pack
        # What the online page says (another URL than the one opened offline, which the
        # worker would otherwise answer with this very copy).
        page.goto(f"/evaluate/{branch}?online=1")
        online_last = page.locator(
            "header.branch-head p.muted", has_text="Lần đánh giá"
        ).inner_text()
        online_p1 = page.locator("#item-P1 legend").inner_text()
        assert "Mục riêng của xã" in online_p1
        ctx.set_offline(True)
        assert_worker_offline(ctx)

        page.goto(f"/evaluate/{branch}")
        page.locator("#branch-name", has_text=commune_template["branch_name"]).wait_for()
        assert page.get_attribute("#checklist", "data-generic") == "1"
        # The branch's own template, not the cadre's home unit's.
        assert page.input_value("input[name=template_id]") == str(template)
        assert page.locator("#item-X1").is_visible()
        assert page.locator("#item-P1 legend").inner_text() == online_p1
        assert page.locator("fieldset.item[id^=item-]").count() == len(commune_template["codes"])
        assert page.locator("#item-P4.computed-item").count() == 1
        assert page.locator("#last-result").inner_text() == online_last
        assert page.evaluate("document.documentElement.scrollWidth") <= 360

        # The pack knows the other cadre's evaluation of that day: who and when.
        assert page.locator("#duplicate-warning li").count() == 0
        page.fill("#meeting_date", seen_day)
        page.locator("#duplicate-warning li").first.wait_for()
        assert other_name in page.locator("#duplicate-warning").inner_text()

        # Filled offline with the branch's checklist, kept in the outbox...
        new_day = _free_day(
            live_server, branch, start=int((date.today() - date.fromisoformat(seen_day)).days) + 1
        )
        _fill(page, new_day)
        queued = page.input_value("input[name=uuid]")
        page.click("#checklist button[type=submit]")
        page.wait_for_selector("#saved-panel:not([hidden])")
        # ...and the phone's own outbox warns about it on the next form of that meeting.
        page.goto(f"/evaluate/{branch}")
        page.wait_for_selector("#checklist:not([hidden])")
        page.fill("#meeting_date", new_day)
        link = page.locator("#duplicate-warning a.correct-earlier")
        link.wait_for()
        assert f"outbox={queued}" in (link.get_attribute("href") or "")
        assert "đang chờ gửi" in page.locator("#duplicate-warning").inner_text()

        # Signal again: it is stored under the branch's own template.
        ctx.set_offline(False)
        page.goto("/outbox")
        drained = "document.getElementById('outbox-count').textContent === '0'"
        for _ in range(4):  # "send now" again if it met a drain started before the signal was back
            if page.locator("#outbox-count").inner_text() == "0":
                break
            page.click("#send-now")
            with contextlib.suppress(PlaywrightTimeout):
                page.wait_for_function(drained, timeout=20_000)
                break
        page.wait_for_function(drained, timeout=5_000)
        assert outbox_count(page) == 0
        stored = live_server.sql(f"SELECT template_id FROM evaluation WHERE uuid = '{queued}'")
        assert stored == [(template,)]
    finally:
        helper.close()
        ctx.close()


def test_offline_the_cadre_corrects_an_evaluation_sent_from_this_phone(
    browser, live_server: LiveServer
) -> None:  # type: ignore[no-untyped-def]
    """Without signal, "correct the earlier one" brings the form back filled from what the
    phone sent, marked as a correction; once online the server stores it as one."""
    _, _, path = _cadre_unit(live_server)
    branch = live_server.sql(
        "SELECT id FROM unit WHERE kind = 'branch' AND active"
        f" AND path LIKE '{path}%' ORDER BY id DESC"
    )[1][0]
    day = _free_day(live_server, branch, start=4)
    ctx = browser.new_context(viewport=PHONE, base_url=live_server.url, locale="vi-VN")
    ctx.set_default_timeout(20_000)
    try:
        page = ctx.new_page()
        prepare(page)
        # Sent online from this phone, with one item failed and a note on it.
        page.goto(f"/evaluate/{branch}")
        _fill(page, day)
        page.click("#item-P2 label.v-fail")
        page.locator("#item-P2 details").evaluate("d => d.open = true")
        page.fill("#note-P2", "Thiếu biên bản tháng trước")
        first = page.input_value("input[name=uuid]")
        page.click("#checklist button[type=submit]")
        page.wait_for_url("**/evaluations/*")

        ctx.set_offline(True)
        assert_worker_offline(ctx)
        page.goto(f"/evaluate/{branch}")
        page.wait_for_selector("#checklist:not([hidden])")
        assert page.get_attribute("#checklist", "data-generic") == "1"
        page.fill("#meeting_date", day)
        link = page.locator("#duplicate-warning a.correct-earlier")
        link.wait_for()
        assert f"correct={first}" in (link.get_attribute("href") or "")
        link.click()
        page.wait_for_url("**correct=*")
        page.locator("#correcting").wait_for()
        assert "Bạn đang sửa phiếu đánh giá" in page.inner_text("#correcting")
        assert page.locator(".flash-warn", has_text="không có trên điện thoại").count() == 0
        # Filled as it was sent: the correction starts from the earlier answers.
        assert page.input_value("input[name=supersedes]") == first
        assert page.input_value("#meeting_date") == day
        assert page.input_value("#members_present") == "16"
        assert page.is_checked("#item-P2 input[value=fail]")
        assert page.is_checked("#item-P1 input[value=pass]")
        assert page.input_value("#note-P2") == "Thiếu biên bản tháng trước"
        corrected = page.input_value("input[name=uuid]")
        assert corrected and corrected != first
        # The one being corrected is not a duplicate of itself.
        assert page.locator("#duplicate-warning a.correct-earlier").count() == 0
        page.click("#item-P2 label.v-pass")
        page.click("#checklist button[type=submit]")
        page.wait_for_selector("#saved-panel:not([hidden])")

        ctx.set_offline(False)
        page.goto("/outbox")
        drained = "document.getElementById('outbox-count').textContent === '0'"
        for _ in range(4):
            if page.locator("#outbox-count").inner_text() == "0":
                break
            page.click("#send-now")
            with contextlib.suppress(PlaywrightTimeout):
                page.wait_for_function(drained, timeout=20_000)
                break
        page.wait_for_function(drained, timeout=5_000)
        rows = live_server.sql(
            "SELECT n.uuid, o.uuid FROM evaluation n JOIN evaluation o ON n.supersedes_id = o.id"
            f" WHERE n.branch_id = {branch} AND n.meeting_date = '{day}'"
        )
        assert [(str(a), str(b)) for a, b in rows] == [(corrected, first)]
        answers = live_server.sql(
            "SELECT a.value FROM evaluation_answer a JOIN evaluation e ON a.evaluation_id = e.id"
            f" WHERE e.uuid = '{corrected}' AND a.item_code = 'P2'"
        )
        assert answers == [("pass",)]
    finally:
        ctx.close()


def test_offline_a_correction_not_sent_from_this_phone_is_filled_again(
    browser, live_server: LiveServer
) -> None:  # type: ignore[no-untyped-def]
    """The field pack knows the cadre's own evaluation sent from elsewhere, but not its
    answers: the correction opens, says so, and starts blank."""
    _, _, path = _cadre_unit(live_server)
    branch = live_server.sql(
        "SELECT id FROM unit WHERE kind = 'branch' AND active"
        f" AND path LIKE '{path}%' ORDER BY id DESC"
    )[2][0]
    day = _free_day(live_server, branch, start=5)
    template = live_server.sql(
        "SELECT id FROM checklist_template WHERE status = 'published' ORDER BY id LIMIT 1"
    )[0][0]
    codes = [
        r[0]
        for r in live_server.sql(
            f"SELECT code FROM checklist_item WHERE template_id = {template} AND kind = 'choice'"
        )
    ]
    helper = browser.new_context(viewport=PHONE, base_url=live_server.url, locale="vi-VN")
    ctx = browser.new_context(viewport=PHONE, base_url=live_server.url, locale="vi-VN")
    ctx.set_default_timeout(20_000)
    try:
        login(helper.new_page(), "cadre")
        item = _item(branch, template, codes, day)
        _send(helper, item)  # from another device
        page = ctx.new_page()
        prepare(page)  # the pack now holds it among the branch's recent evaluations
        ctx.set_offline(True)
        assert_worker_offline(ctx)
        page.goto(f"/evaluate/{branch}?correct={item['uuid']}")
        page.locator("#correcting").wait_for()
        assert "không có trên điện thoại" in page.inner_text("header.branch-head")
        assert page.input_value("input[name=supersedes]") == item["uuid"]
        assert page.input_value("#meeting_date") == day
        assert not page.is_checked("#item-P1 input[value=pass]")
    finally:
        helper.close()
        ctx.close()
