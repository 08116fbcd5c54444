"""The cadre's flow in a phone-sized Chromium: a non-compliant checklist, its reasons, the flag."""

from __future__ import annotations

from coso.checklists.rules import DEFAULT_ITEMS
from coso.judging.scoring import ItemSpec, score_evaluation
from tests.browser.conftest import LiveServer, login


def _vi_number(value: float) -> str:
    return f"{value:.1f}".replace(".", ",")


def test_cadre_fills_a_non_compliant_checklist(page, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    # A branch whose latest evaluation is compliant (or that has none), so one bad meeting flags it.
    rows = live_server.sql(
        "SELECT u.id FROM unit u LEFT JOIN branch_status s ON s.branch_id = u.id "
        "WHERE u.kind = 'branch' AND (s.state IS NULL OR s.state IN ('ok', 'never')) ORDER BY u.id"
    )
    branch_id = rows[0][0]
    login(page, "cadre")
    page.goto("/evaluate")
    assert page.locator(".branches li").count() > 0
    page.goto(f"/evaluate/{branch_id}")

    page.fill("#members_total", "20")
    page.fill("#members_present", "8")
    assert "Không đạt" in page.locator("#attendance").inner_text()  # P4 computed as they type
    for item in DEFAULT_ITEMS:
        if item["kind"] != "choice":
            continue
        value = "fail" if item["code"] == "P10" else "pass"
        page.locator(f"#item-{item['code']} label.v-{value}").click()
    topics = page.locator("input[name=topics]")
    topic_count = topics.count()
    if topic_count:
        topics.first.check()
    page.fill("#notes", "Chi đoàn cần ghi biên bản đầy đủ.")
    # Nothing sticks out sideways on a 360-px phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    page.click("button[type=submit].wide")
    page.wait_for_url("**/evaluations/*")

    items = [
        ItemSpec(i["code"], i["section"], i["weight"], i["critical"], i["kind"])
        for i in DEFAULT_ITEMS
    ]
    answers = {i["code"]: ("fail" if i["code"] == "P10" else "pass") for i in DEFAULT_ITEMS}
    expected = score_evaluation(
        items,
        answers,
        members_total=20,
        members_present=8,
        topics_total=topic_count,
        topics_covered=1 if topic_count else 0,
    )
    assert not expected.compliant
    verdict = page.locator("#verdict")
    assert "Không đạt yêu cầu" in verdict.inner_text() or "Không" in verdict.inner_text()
    assert page.locator("#score").inner_text() == _vi_number(expected.score)
    assert page.locator("#procedure-score").inner_text() == _vi_number(expected.procedure_score)
    assert page.locator("#content-score").inner_text() == _vi_number(expected.content_score)
    reasons = page.locator("#reasons li")
    assert reasons.count() == len(expected.reasons)
    assert "P10" in page.locator("#reasons").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    page.click("text=Mở chi đoàn")
    page.wait_for_url(f"**/units/{branch_id}")
    assert page.locator(".state-flagged").count() == 1
    stored = live_server.sql(f"SELECT state FROM branch_status WHERE branch_id = {branch_id}")
    assert stored == [("flagged",)]
