"""The secretary answers on a phone: a new evaluation is opened, acknowledged, replied to and
given a corrective action; the cadre sees the reply; the action turns overdue when the clock
passes its due date (a second server with ``COSO_TODAY`` moved, on the same database).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from tests.browser.conftest import PHONE, LiveServer, login, open_menu
from tests.support import free_port

REPLY = "Chi đoàn đã họp Ban Chấp hành, sẽ lập sổ biên bản ngay tuần này."
ACTION = "Lập sổ biên bản, ghi và thông qua ngay tại buổi sinh hoạt"


def _no_sideways_scroll(page) -> None:  # type: ignore[no-untyped-def]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def _send_evaluation(page, branch_id: int) -> int:  # type: ignore[no-untyped-def]
    """What the cadre's phone sends: a non-compliant evaluation (P10 failed), via the sync API."""
    pack = page.request.get("/api/v1/field-pack").json()
    template = pack["templates"][0]
    token = page.request.get("/api/v1/session").json()["csrf_token"]
    answers = [
        {"item": item["code"], "value": "fail" if item["code"] == "P10" else "pass"}
        for item in template["items"]
        if item["kind"] == "choice"
    ]
    answers = [
        dict(a, note="Không có sổ biên bản.") if a["value"] == "fail" else a for a in answers
    ]
    now = datetime.now(UTC).isoformat()
    item = {
        "uuid": str(uuid.uuid4()),
        "branch_id": branch_id,
        "template_id": template["id"],
        "guidance_id": None,
        "meeting_date": date.today().isoformat(),
        "meeting_type": "regular",
        "mode": "in_person",
        "members_total": 20,
        "members_present": 17,
        "answers": answers,
        "topics_covered": [],
        "notes": "Đề nghị chi đoàn ghi biên bản đầy đủ.",
        "started_at": now,
        "submitted_at": now,
    }
    response = page.request.post(
        "/api/v1/sync",
        data=json.dumps({"evaluations": [item]}),
        headers={"X-CSRFToken": token, "Content-Type": "application/json"},
    )
    result = response.json()["results"][0]
    assert result["status"] == "created", result
    return int(result["id"])


def test_secretary_answers_cadre_sees_reply_action_turns_overdue(  # type: ignore[no-untyped-def]
    browser, live_server: LiveServer, tmp_path: Path
) -> None:
    (branch_id,) = live_server.sql(
        "SELECT u.unit_id FROM \"user\" u WHERE u.username = 'secretary'"
    )[0]

    cadre_ctx = browser.new_context(viewport=PHONE, base_url=live_server.url, locale="vi-VN")
    secretary_ctx = browser.new_context(viewport=PHONE, base_url=live_server.url, locale="vi-VN")
    try:
        cadre = cadre_ctx.new_page()
        login(cadre, "cadre")
        evaluation_id = _send_evaluation(cadre, branch_id)

        # The secretary: the badge, the inbox, the new evaluation at the top, unread.
        page = secretary_ctx.new_page()
        login(page, "secretary")
        assert int(page.locator("#feedback-count").inner_text()) >= 1
        open_menu(page)
        page.click("#nav-feedback")
        page.wait_for_url("**/feedback")
        first = page.locator("#inbox .fb-row").first
        assert first.get_attribute("data-evaluation-id") == str(evaluation_id)
        assert "fb-unread" in (first.get_attribute("class") or "")
        _no_sideways_scroll(page)
        first.locator("a").first.click()
        page.wait_for_url(f"**/feedback/{evaluation_id}")
        assert "P10" in page.locator("#fb-items").inner_text()
        assert "Không có sổ biên bản." in page.locator("#fb-items").inner_text()
        assert page.locator("[data-print]").is_visible()  # feedback.js offers printing
        _no_sideways_scroll(page)

        # Acknowledge, reply, add an action due in three days (htmx swaps each section).
        page.click("#acknowledge")
        page.locator("#fb-ack", has_text="✓").wait_for()
        page.fill("#reply", REPLY)
        page.click("#reply-form button[type=submit]")
        page.locator("#response .fb-reply-text", has_text=REPLY).wait_for()
        page.click("#actions details.fb-add summary")
        due = date.today() + timedelta(days=3)
        page.fill("#action-description", ACTION)
        page.select_option("#action-item", "P10")
        page.fill("#action-owner", "Phó bí thư chi đoàn")
        page.fill("#action-due", due.isoformat())
        page.click("#action-form button[type=submit]")
        action = page.locator("#actions .fb-action", has_text=ACTION)
        action.wait_for()
        assert action.get_attribute("data-status") == "open"
        _no_sideways_scroll(page)
        stored = live_server.sql(
            f"SELECT status, due_date FROM corrective_action WHERE evaluation_id = {evaluation_id}"
        )
        assert [(s, str(d)) for s, d in stored] == [("open", due.isoformat())]

        # The cadre sees the reply: on the result page, and on the replies page.
        cadre.goto(f"/evaluations/{evaluation_id}")
        section = cadre.locator("#result-feedback")
        assert REPLY in section.inner_text() and ACTION in section.inner_text()
        assert section.locator(".fb-tag-new").count() == 1
        assert int(cadre.locator("#replies-count").inner_text()) >= 1
        open_menu(cadre)
        cadre.click("#nav-replies")
        cadre.wait_for_url("**/feedback/replies")
        assert REPLY in cadre.locator("#replies").inner_text()
        _no_sideways_scroll(cadre)
    finally:
        cadre_ctx.close()
        secretary_ctx.close()

    # Four days later the action is overdue: a server of our own on the same database.
    port = free_port()
    future = LiveServer(
        url=f"http://127.0.0.1:{port}",
        port=port,
        env={**live_server.env, "COSO_TODAY": (due + timedelta(days=1)).isoformat()},
        log=tmp_path / "gunicorn-future.log",
    )
    future.start()
    later_ctx = browser.new_context(viewport=PHONE, base_url=future.url, locale="vi-VN")
    try:
        page = later_ctx.new_page()
        login(page, "secretary")
        assert int(page.locator("#panel-overdue").inner_text()) >= 1
        page.goto(f"/feedback/{evaluation_id}")
        action = page.locator("#actions .fb-action", has_text=ACTION)
        assert action.get_attribute("data-status") == "overdue"
        assert action.locator(".fb-status-overdue").count() == 1
        assert page.locator("#fb-branch-state .fb-alert-overdue").count() == 1
        page.goto("/feedback/actions?status=overdue")
        assert page.locator(".fb-action", has_text=ACTION).count() == 1
        _no_sideways_scroll(page)

        # Closing it on the feedback page takes it off the branch's alert tag at once (issue 16,
        # item 10: the answer carries #fb-branch-now out of band), with no page load.
        page.goto(f"/feedback/{evaluation_id}")
        tag = page.locator("#fb-branch-state .fb-alert-overdue")
        overdue = int((tag.text_content() or "0").split()[0])
        page.evaluate("() => { window.cosoMarker = 'still here'; }")
        action = page.locator("#actions .fb-action", has_text=ACTION)
        action.locator("details summary").click()
        action.locator("input[name=note]").fill("Đã lập sổ biên bản")
        action.locator("button.primary").click()
        page.locator("#actions .fb-action[data-status='done']", has_text=ACTION).wait_for()
        if overdue == 1:
            tag.wait_for(state="detached")
        else:
            page.locator(
                "#fb-branch-state .fb-alert-overdue", has_text=f"{overdue - 1} "
            ).wait_for()
        assert page.evaluate("() => window.cosoMarker") == "still here"
        page.reload()
        assert page.locator("#fb-branch-state .fb-alert-overdue").count() == (overdue > 1)
    finally:
        later_ctx.close()
        future.stop()
