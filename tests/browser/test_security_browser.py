"""The Content-Security-Policy as the browser applies it, and the outbox honouring 429.

Every key page of every role loads with no CSP violation (console "Refused to …" messages,
``securitypolicyviolation`` events) and no script error, and htmx still swaps fragments with
``eval`` forbidden. The outbox, told to wait by a 429 with ``Retry-After``, waits that long.
"""

from __future__ import annotations

import time

import pytest

from tests.browser.conftest import LiveServer, login
from tests.browser.test_offline_browser import branch_ids, fill, outbox_count, stored

WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " at " + e.sourceFile);
});
"""

PAGES = {
    "cadre": ["/", "/evaluate", "/evaluate/{branch}", "/evaluate/form", "/outbox", "/visits"],
    "secretary": ["/", "/feedback", "/feedback/actions"],
    "province": ["/", "/dashboard", "/dashboard/where", "/dashboard/practices", "/visits/ledger"],
    "admin": ["/admin/", "/admin/users", "/admin/units", "/admin/templates", "/admin/audit"],
}


@pytest.mark.parametrize("username", sorted(PAGES))
def test_key_pages_break_no_policy(context, live_server: LiveServer, username: str) -> None:  # type: ignore[no-untyped-def]
    context.add_init_script(WATCH)
    page = context.new_page()
    refused: list[str] = []
    page.on(
        "console",
        lambda msg: (
            refused.append(msg.text)
            if "Content Security Policy" in msg.text or "Refused to" in msg.text
            else None
        ),
    )
    page.on("pageerror", lambda exc: refused.append(f"page error: {exc}"))
    login(page, username)
    branch = branch_ids(live_server, 1)[0]
    for path in PAGES[username]:
        page.goto(path.format(branch=branch))
        page.wait_for_load_state("load")
        page.wait_for_function("window.htmx !== undefined")
        page.wait_for_timeout(150)  # late scripts (the service worker registration, htmx init)
        violations = page.evaluate("window.__csp")
        assert not violations, f"{path}: {violations}"
    assert not refused, refused


def test_htmx_swaps_under_the_policy(context, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    context.add_init_script(WATCH)
    page = context.new_page()
    login(page, "cadre")
    page.goto("/evaluate")
    page.fill("#q", "zz-no-such-branch")
    page.wait_for_url("**/evaluate?q=zz-no-such-branch")
    assert page.locator("#branch-list a[href^='/evaluate/']").count() == 0
    page.fill("#q", "")
    page.wait_for_function("document.querySelectorAll('#branch-list a').length > 0")
    assert page.evaluate("window.__csp") == []


def test_outbox_waits_as_long_as_retry_after_says(context, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    page = context.new_page()
    login(page, "cadre")
    hits: list[float] = []

    def handler(route):  # type: ignore[no-untyped-def]
        hits.append(time.monotonic())
        if len(hits) == 1:
            route.fulfill(
                status=429,
                headers={"Retry-After": "4"},
                body='{"error":"too_many_requests"}',
                content_type="application/json",
            )
        else:
            route.continue_()

    context.route("**/api/v1/sync", handler)
    page.goto(f"/evaluate/{branch_ids(live_server, 1)[0]}")
    uuid = fill(page)
    page.click("button[type=submit].wide")
    page.wait_for_selector("#saved-panel:not([hidden])")
    page.wait_for_timeout(500)
    assert len(hits) == 1, "the first send was refused with 429"
    item = page.evaluate(f"CosoOutbox.get('outbox', '{uuid}')")
    assert item["state"] == "waiting"
    assert 3500 <= item["next_attempt_at"] - item["updated_at"] <= 4500  # Retry-After: 4 s
    # Every trigger before then leaves it alone: a drain, a reload, coming back online.
    assert page.evaluate("CosoOutbox.drain()")["sent"] == 0
    page.reload()
    page.wait_for_timeout(1000)
    assert len(hits) == 1 and outbox_count(page) == 1
    page.wait_for_function(
        "document.getElementById('outbox-count').textContent === '0'", timeout=20_000
    )
    assert len(hits) == 2
    assert hits[1] - hits[0] >= 3.5
    assert stored(live_server, [uuid]) == 1
