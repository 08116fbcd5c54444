"""The brief before leaving, offline, in a 360×740 Chromium (issue 18, item 4).

The cadre has a visit planned at a branch that failed items at its last evaluation and has an
open, overdue corrective action. They prepare the phone online, lose the signal, open the
branch's checklist (never opened online: the worker serves the shell, filled from the field
pack) and read the brief: the plan's focus, the month's guidance material, the secretary, last
time's failed items marked on the checklist, the open action. They tick the action "seen done",
submit, and when the signal returns the server records on the action that the cadre saw it done.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from tests.browser.conftest import LiveServer
from tests.browser.test_offline_browser import assert_worker_offline, badge, fill, prepare
from tests.support import pg_url

FOCUS = "Xem sổ biên bản và việc thu đoàn phí (brief)"
ACTION = "Ghi biên bản vào sổ chi đoàn (brief)"
SECRETARY = "Phạm Thu Hà"


def _write(live_server: LiveServer, statement: str, **params: Any) -> list[tuple]:
    """Change the server's database directly (the setting the brief reads)."""
    url = live_server.env["DATABASE_URL"]
    engine = sa.create_engine(pg_url(url) if "postgres" in url else url)
    try:
        with engine.begin() as conn:
            result = conn.execute(sa.text(statement), params)
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


def _planned_branch(live_server: LiveServer) -> tuple[int, str, str, int]:
    """A branch whose last evaluation failed an item, given a secretary, an open overdue action
    and a visit planned for the demo cadre tomorrow: its id, name, a failed code, the action."""
    branch, name, failed, evaluation = live_server.sql(
        "SELECT u.id, u.name, a.item_code, bs.evaluation_id FROM unit u"
        " JOIN branch_status bs ON bs.branch_id = u.id"
        " JOIN evaluation_answer a ON a.evaluation_id = bs.evaluation_id"
        " WHERE a.value = 'fail' AND u.kind = 'branch' AND u.active"
        " AND u.id NOT IN (SELECT unit_id FROM visit_plan)"
        " ORDER BY u.id DESC, a.item_code LIMIT 1"
    )[0]
    cadre = live_server.sql("SELECT id FROM \"user\" WHERE username = 'cadre'")[0][0]
    province = live_server.sql("SELECT id FROM \"user\" WHERE username = 'province'")[0][0]
    now = datetime.now(UTC).replace(tzinfo=None)
    today = date.today()
    _write(
        live_server,
        "UPDATE unit SET secretary_name = :name, secretary_since = :since,"
        " secretary_party_member = :party WHERE id = :id",
        name=SECRETARY,
        since=date(2025, 3, 1),
        party=True,
        id=branch,
    )
    action = _write(
        live_server,
        "INSERT INTO corrective_action (branch_id, evaluation_id, item_code, description, owner,"
        " due_date, status, created_by_id, created_at)"
        " VALUES (:branch, :evaluation, :item, :text, 'Bí thư', :due, 'open', :by, :now)"
        " RETURNING id",
        branch=branch,
        evaluation=evaluation,
        item=failed,
        text=ACTION,
        due=today - timedelta(days=3),
        by=province,
        now=now,
    )[0][0]
    plan = _write(
        live_server,
        "INSERT INTO visit_plan (unit_id, form, start_date, end_date, day_before, focus, status,"
        " created_by_id, created_at)"
        " VALUES (:branch, 'meeting', :day, :day, :no, :focus, 'planned', :by, :now) RETURNING id",
        branch=branch,
        day=today + timedelta(days=1),
        no=False,
        focus=FOCUS,
        by=province,
        now=now,
    )[0][0]
    _write(
        live_server,
        "INSERT INTO plan_cadre (plan_id, user_id) VALUES (:plan, :user)",
        plan=plan,
        user=cadre,
    )
    return branch, name, failed, action


def test_the_cadre_reads_the_brief_offline_and_ticks_an_action_seen_done(
    context, live_server: LiveServer
) -> None:  # type: ignore[no-untyped-def]
    branch, name, failed, action = _planned_branch(live_server)
    material = live_server.sql(
        "SELECT material FROM guidance WHERE period = :p ORDER BY id LIMIT 1".replace(
            ":p", f"'{date.today():%Y-%m}'"
        )
    )
    page = context.new_page()
    prepare(page)  # online: signs in as the cadre, installs the worker, fetches the pack
    assert page.locator("#my-next-visits li", has_text=name).count() == 1

    context.set_offline(True)
    assert_worker_offline(context)
    page.goto(f"/evaluate/{branch}")  # never opened online: the shell, from the field pack
    page.wait_for_selector("#brief:not([hidden])")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert FOCUS in page.inner_text("#brief-plans")
    if material and material[0][0]:
        first_line = material[0][0].strip().splitlines()[0]
        assert first_line in page.inner_text("#brief-material")
    secretary = page.inner_text("#brief-secretary-text")
    assert SECRETARY in secretary and "01/03/2025" in secretary
    assert page.locator("#brief-secretary").get_attribute("data-party") in secretary
    # Last time's failed item is marked on the checklist itself, and listed in the brief.
    assert "failed-last" in (page.get_attribute(f"#item-{failed}", "class") or "")
    assert page.locator(f"#item-{failed} .last-failed").count() == 1
    assert failed in page.inner_text("#brief-failed")
    row = page.locator(f"#brief-action-list li[data-action-id='{action}']")
    assert ACTION in row.inner_text()
    assert row.locator(".fb-late").is_visible()  # overdue

    uuid = fill(page)
    row.locator("input[name=seen_done]").check()
    page.click("button[type=submit].wide")
    page.wait_for_selector("#saved-panel:not([hidden])")
    assert badge(page) == "1"
    queued = page.evaluate("CosoOutbox.all('outbox').then(items => items[0].payload.seen_done)")
    assert queued == [action]
    assert live_server.sql(f"SELECT count(*) FROM evaluation WHERE uuid = '{uuid}'")[0][0] == 0

    context.set_offline(False)
    page.wait_for_function(
        "document.getElementById('outbox-count').textContent === '0'", timeout=60_000
    )
    evaluation, cadre = live_server.sql(
        f"SELECT id, cadre_id FROM evaluation WHERE uuid = '{uuid}'"
    )[0]
    seen_at, seen_by, seen_in, status = live_server.sql(
        "SELECT seen_done_at, seen_done_by_id, seen_done_evaluation_id, status"
        f" FROM corrective_action WHERE id = {action}"
    )[0]
    assert seen_at is not None and seen_by == cadre and seen_in == evaluation
    assert status == "open"  # the secretary closes it
    assert (
        live_server.sql(
            "SELECT count(*) FROM audit_event WHERE action = 'action.seen_done'"
            f" AND object_id = '{action}'"
        )[0][0]
        == 1
    )
