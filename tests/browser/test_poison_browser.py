"""A poison item never blocks the outbox (issue 17, item 6), in a real Chromium.

The server is made to fail with a 500 on every batch that holds one particular
evaluation (``context.route``, which the service worker's fetches go through too).
The outbox halves the batch until that item stands alone, sends the others, and
shows the item under "needs attention" with a message in Vietnamese.
"""

from __future__ import annotations

import json

from tests.browser.conftest import LiveServer
from tests.browser.test_offline_browser import (
    assert_worker_offline,
    badge,
    branch_ids,
    fill,
    outbox_count,
    prepare,
    stored,
)


def test_a_poison_item_is_isolated_and_the_rest_drain(context, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    page = context.new_page()
    prepare(page)
    branches = branch_ids(live_server, 4)
    context.set_offline(True)
    assert_worker_offline(context)
    uuids = []
    for branch in branches:
        page.goto(f"/evaluate/{branch}")
        uuids.append(fill(page))
        page.click("button[type=submit].wide")
        page.wait_for_selector("#saved-panel:not([hidden])")
    poison = uuids[1]
    seen: list[list[str]] = []

    def handler(route):  # type: ignore[no-untyped-def]
        body = json.loads(route.request.post_data or "{}")
        batch = [item.get("uuid") for item in body.get("evaluations", [])]
        seen.append(batch)
        if poison in batch:
            route.fulfill(
                status=500, body='{"error":"server_error"}', content_type="application/json"
            )
        else:
            route.continue_()

    context.route("**/api/v1/sync", handler)
    context.set_offline(False)
    page.goto("/outbox")
    page.wait_for_selector("#outbox-list li.state-attention", timeout=30_000)
    page.wait_for_function(
        "document.getElementById('outbox-count').textContent === '1'", timeout=30_000
    )
    others = [u for u in uuids if u != poison]
    assert stored(live_server, others) == 3
    assert stored(live_server, [poison]) == 0
    assert outbox_count(page) == 1
    item = page.evaluate(f"CosoOutbox.get('outbox', '{poison}')")
    assert item["state"] == "attention" and item["status"] == "server_error"
    # The batch was halved down to the poison item alone, which failed by itself twice.
    assert [poison] in seen and seen.count([poison]) >= 2
    assert any(len(batch) > 1 and poison in batch for batch in seen)
    row = page.locator("#outbox-list li.state-attention")
    assert row.get_attribute("data-uuid") == poison
    reason = row.locator(".reason").inner_text()
    assert "Máy chủ không lưu được phiếu đánh giá này" in reason
    assert badge(page) == "1"
    # The server is fixed: "fix and resend" is the cadre's way back (the item is kept intact).
    context.unroute("**/api/v1/sync")
    page.evaluate(
        f"""CosoOutbox.get('outbox', '{poison}').then(i => CosoOutbox.enqueue(i))
            .then(() => CosoOutbox.drain({{force: true}}))"""
    )
    page.wait_for_function(
        "document.getElementById('outbox-count').textContent === '0'", timeout=30_000
    )
    assert stored(live_server, [poison]) == 1


def test_a_server_that_fails_everything_is_not_blamed_on_one_item(
    context, live_server: LiveServer
) -> None:  # type: ignore[no-untyped-def]
    """Every batch fails: nothing goes through, so no item is called poison; they all wait."""
    page = context.new_page()
    prepare(page)
    context.set_offline(True)
    assert_worker_offline(context)
    uuids = []
    for branch in branch_ids(live_server, 3):
        page.goto(f"/evaluate/{branch}")
        uuids.append(fill(page))
        page.click("button[type=submit].wide")
        page.wait_for_selector("#saved-panel:not([hidden])")
    hits = {"n": 0}

    def handler(route):  # type: ignore[no-untyped-def]
        hits["n"] += 1
        route.fulfill(status=500, body='{"error":"server_error"}', content_type="application/json")

    context.route("**/api/v1/sync", handler)
    context.set_offline(False)
    page.goto("/outbox")
    for _ in range(80):
        if hits["n"] >= 3:
            break
        page.wait_for_timeout(250)
    page.wait_for_timeout(1000)
    states = page.evaluate("CosoOutbox.all('outbox').then(items => items.map(i => i.state))")
    assert len(states) == 3 and "attention" not in states
    assert stored(live_server, uuids) == 0
