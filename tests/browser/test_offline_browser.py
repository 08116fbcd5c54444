"""The offline path in a real Chromium (design.md, "The offline path"): nothing a cadre filled is
lost or stored twice — offline, across reloads and restarts, through server errors, bad items
and expired sessions. Offline is ``context.set_offline`` and every offline step is guarded by a
probe that a fetch from inside the service worker really fails.
"""

from __future__ import annotations

import contextlib
import os
import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from coso.checklists.rules import DEFAULT_ITEMS
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE, LiveServer, login

CHOICES = [item["code"] for item in DEFAULT_ITEMS if item["kind"] == "choice"]


@pytest.fixture
def profile(tmp_path: Path, playwright, live_server: LiveServer):  # type: ignore[no-untyped-def]
    """Launch (and relaunch) a persistent Chromium profile: IndexedDB survives a restart."""
    launched: list = []
    pw = playwright

    def launch(offline: bool = False):  # type: ignore[no-untyped-def]
        ctx = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            env={**os.environ, "HOME": str(tmp_path)},
            viewport=PHONE,
            base_url=live_server.url,
            locale="vi-VN",
            offline=offline,
        )
        ctx.set_default_timeout(20_000)
        launched.append(ctx)
        return ctx

    yield launch
    for ctx in launched:
        with contextlib.suppress(Exception):  # already closed by the test
            ctx.close()


def branch_ids(live_server: LiveServer, n: int) -> list[int]:
    rows = live_server.sql("SELECT id FROM unit WHERE kind = 'branch' AND active ORDER BY id")
    return [row[0] for row in rows[:n]]


def stored(live_server: LiveServer, uuids: list[str]) -> int:
    if not uuids:
        return 0
    quoted = ", ".join(f"'{u}'" for u in uuids)
    return live_server.sql(f"SELECT count(*) FROM evaluation WHERE uuid IN ({quoted})")[0][0]


def prepare(page) -> None:  # type: ignore[no-untyped-def]
    """Sign in, install the worker, and prepare for the field (pack + cached pages)."""
    login(page, "cadre")
    page.goto("/")
    page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller !== null")
    page.click("#prepare-field")
    page.wait_for_function(
        "!document.getElementById('prepare-field').disabled"
        " && /v\\d/.test(document.getElementById('field-ready').textContent)"
    )
    # When and which months, as the server writes them: "05/12/2026 14:30", "tháng 12/2026".
    ready = page.locator("#field-ready").inner_text()
    assert re.search(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", ready), ready
    assert not re.search(r"\d{4}-\d{2}", ready), ready
    # The text says the pack is in; the checklist page a branch opens offline must be in the
    # worker's cache too (the home page's own pack refresh can write "ready" a moment earlier).
    wait_cached(page, "/evaluate/form")


def wait_cached(page, path: str, timeout_ms: int = 20_000) -> None:  # type: ignore[no-untyped-def]
    """Wait until the worker's page cache holds ``path``. page.evaluate awaits the promise;
    wait_for_function would take the promise itself for a truthy answer at the first poll."""
    script = f"caches.open('coso-pages').then((c) => c.match({path!r})).then(Boolean)"
    for _ in range(timeout_ms // 100):
        if page.evaluate(script):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"{path} never reached the worker's page cache")


def assert_worker_offline(context) -> None:  # type: ignore[no-untyped-def]
    worker = context.service_workers[0]
    probe = worker.evaluate(
        "fetch('/healthz?x=' + Math.random()).then(() => 'ok', e => 'ERR ' + e)"
    )
    assert probe.startswith("ERR"), "the service worker can still reach the server"


def fill(page, *, present: int = 15, total: int = 20, meeting: str | None = None) -> str:  # type: ignore[no-untyped-def]
    """Fill every item as passed; returns the evaluation's UUID."""
    page.wait_for_selector("#checklist:not([hidden])")
    if meeting:
        page.fill("#meeting_date", meeting)
    page.fill("#members_total", str(total))
    page.fill("#members_present", str(present))
    for code in CHOICES:
        page.locator(f"#item-{code} label.v-pass").click()
    return page.input_value("input[name=uuid]")


def badge(page) -> str:  # type: ignore[no-untyped-def]
    return page.locator("#outbox-count").inner_text()


def outbox_count(page) -> int:  # type: ignore[no-untyped-def]
    return page.evaluate("CosoOutbox.all('outbox').then(items => items.length)")


def test_offline_submit_reload_restart_then_sync_once(profile, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    ctx = profile()
    page = ctx.new_page()
    prepare(page)
    ctx.set_offline(True)
    assert_worker_offline(ctx)
    uuids = []
    for branch in branch_ids(live_server, 3):
        page.goto(f"/evaluate/{branch}")  # never opened online: the worker serves the shell
        uuids.append(fill(page))
        page.click("button[type=submit].wide")
        page.wait_for_selector("#saved-panel:not([hidden])")
    assert badge(page) == "3"
    page.reload()  # offline reload renders from the cache
    page.wait_for_function("document.getElementById('outbox-count').textContent === '3'")
    assert stored(live_server, uuids) == 0
    ctx.close()

    # The browser starts again on the same profile, still without signal. Chromium starts the
    # service worker with the browser and its Background Sync may reach out before the
    # emulated offline state covers the new worker, so the server is down meanwhile as well:
    # whatever tries to leave the phone now fails, as it would in a hamlet without signal.
    live_server.stop()
    try:
        ctx = profile(offline=True)
        page = ctx.new_page()
        page.goto("/outbox")
        page.wait_for_function("document.getElementById('outbox-count').textContent === '3'")
        assert page.locator("#outbox-list li.outbox-item").count() == 3
        # Dates as the server writes them (dd/mm/yyyy), not the payload's ISO text.
        for meta in page.locator("#outbox-list li.outbox-item > .muted").all_inner_texts():
            assert re.fullmatch(r"\d{2}/\d{2}/\d{4}", meta), meta
        waiting = page.evaluate("CosoOutbox.all('outbox').then(items => items.map(i => i.uuid))")
        assert sorted(waiting) == sorted(uuids)
        ctx.set_offline(False)  # signal again, the server still down: items wait, back off
        page.wait_for_timeout(1000)
        assert badge(page) == "3"
    finally:
        live_server.start()
    # The server is back. The queue is waiting out its backoff; "send now" does not wait.
    page.click("#send-now")
    page.wait_for_function(
        "document.getElementById('outbox-count').textContent === '0'", timeout=60_000
    )
    assert stored(live_server, uuids) == 3
    page.wait_for_function("document.querySelectorAll('#sent-list li').length >= 3")
    for meta in page.locator("#sent-list li > .muted").all_inner_texts():
        assert re.fullmatch(r"\d{2}/\d{2}/\d{4}", meta), meta
    # Another trigger later must not store anything twice.
    page.reload()
    page.wait_for_timeout(500)
    assert stored(live_server, uuids) == 3


def test_server_errors_back_off_then_sync(context, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    page = context.new_page()
    login(page, "cadre")
    failing = {"on": True, "hits": 0}

    def handler(route):  # type: ignore[no-untyped-def]
        if failing["on"]:
            failing["hits"] += 1
            route.fulfill(
                status=500, body='{"error":"server_error"}', content_type="application/json"
            )
        else:
            route.continue_()

    context.route("**/api/v1/sync", handler)
    page.goto(f"/evaluate/{branch_ids(live_server, 1)[0]}")
    uuid = fill(page)
    page.click("button[type=submit].wide")
    page.wait_for_selector("#saved-panel:not([hidden])")
    # The backoff timer retries while the server fails (the first retry after ~1-2 s);
    # poll rather than sleep a fixed time, so a busy machine does not fail the test.
    for _ in range(60):
        if failing["hits"] >= 2:
            break
        page.wait_for_timeout(250)
    assert failing["hits"] >= 2
    assert outbox_count(page) == 1
    item = page.evaluate(f"CosoOutbox.get('outbox', '{uuid}')")
    assert item["state"] == "waiting" and item["attempts"] >= 1
    assert stored(live_server, [uuid]) == 0
    failing["on"] = False
    page.wait_for_function(
        "document.getElementById('outbox-count').textContent === '0'", timeout=30_000
    )
    assert stored(live_server, [uuid]) == 1


def test_a_send_cut_off_by_leaving_the_page_goes_at_once_next_time(
    context, live_server: LiveServer
) -> None:  # type: ignore[no-untyped-def]
    """A page left while its drain waits for the server leaves the item marked "sending".

    Its sender is gone (the browser freed its Web Lock), so the next drain takes the item at
    once: "send now" must not wait out the minute kept for senders that may still be alive.
    """
    page = context.new_page()
    login(page, "cadre")
    held: list = []

    def hold(route) -> None:  # type: ignore[no-untyped-def]
        held.append(route)  # never answered: the page goes first

    context.route("**/api/v1/sync", hold)
    page.goto(f"/evaluate/{branch_ids(live_server, 1)[0]}")
    uuid = fill(page)
    page.click("button[type=submit].wide")  # stored, then sent: the answer never comes
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "the drain never reached the server"
    assert page.evaluate(f"CosoOutbox.get('outbox', '{uuid}')")["state"] == "sending"
    page.close()
    context.unroute("**/api/v1/sync")
    for route in held:
        with contextlib.suppress(Exception):
            route.abort()

    again = context.new_page()
    again.goto("/outbox")
    again.wait_for_selector("#send-now")
    if again.locator("#outbox-count").inner_text() != "0":
        again.click("#send-now")
    # Well inside the minute an item of a sender that may be alive waits (STALE_SENDING).
    again.wait_for_function(
        "document.getElementById('outbox-count').textContent === '0'", timeout=15_000
    )
    assert stored(live_server, [uuid]) == 1


def test_invalid_item_needs_attention_and_can_be_fixed(context, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    page = context.new_page()
    prepare(page)
    first, second, third = branch_ids(live_server, 3)
    context.set_offline(True)
    assert_worker_offline(context)
    uuids = []
    future = (date.today() + timedelta(days=5)).isoformat()
    for branch, meeting in ((first, None), (second, future), (third, None)):
        page.goto(f"/evaluate/{branch}")
        uuids.append(fill(page, meeting=meeting))
        page.click("button[type=submit].wide")
        page.wait_for_selector("#saved-panel:not([hidden])")
    context.set_offline(False)
    page.goto("/outbox")
    page.wait_for_selector("#outbox-list li.state-attention")
    page.wait_for_function(
        "document.getElementById('outbox-count').textContent === '1'", timeout=20_000
    )
    assert stored(live_server, [uuids[0], uuids[2]]) == 2
    assert stored(live_server, [uuids[1]]) == 0
    reason = page.locator("#outbox-list li.state-attention .reason").inner_text()
    assert reason  # the server's reason, in words
    page.click("#outbox-list li.state-attention button[data-action=fix]")
    page.wait_for_selector("#err-meeting_date")
    page.fill("#meeting_date", date.today().isoformat())
    page.click("button[type=submit].wide")
    page.wait_for_url("**/evaluations/*")
    assert stored(live_server, [uuids[1]]) == 1
    # The badge is drawn from IndexedDB once the page has loaded: wait for it, not a guess.
    page.wait_for_function("document.getElementById('outbox-count').textContent === '0'")


def test_session_expires_while_offline(context, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    page = context.new_page()
    prepare(page)
    context.set_offline(True)
    assert_worker_offline(context)
    page.goto(f"/evaluate/{branch_ids(live_server, 1)[0]}")
    uuid = fill(page)
    page.click("button[type=submit].wide")
    page.wait_for_selector("#saved-panel:not([hidden])")
    context.clear_cookies()  # the session ends while the phone has no signal
    context.set_offline(False)  # the page that is open tries to send, and is told to sign in
    page.wait_for_selector("#auth-banner:not([hidden])", timeout=20_000)
    assert outbox_count(page) == 1
    assert stored(live_server, [uuid]) == 0
    page.goto("/outbox")  # now a sign-in page, which says what is waiting
    assert "/login" in page.url
    page.wait_for_selector("#outbox-note:not([hidden])")
    assert outbox_count(page) == 1
    login(page, "cadre")
    page.wait_for_function(
        "document.getElementById('outbox-count').textContent === '0'", timeout=20_000
    )
    assert stored(live_server, [uuid]) == 1


def test_draft_survives_a_reload(context, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    page = context.new_page()
    login(page, "cadre")
    page.goto(f"/evaluate/{branch_ids(live_server, 1)[0]}")
    page.fill("#members_total", "31")
    page.fill("#members_present", "22")
    page.locator("#item-P1 label.v-partial").click()
    page.fill("#notes", "Đang ghi dở")
    uuid = page.input_value("input[name=uuid]")
    page.wait_for_timeout(400)
    page.reload()
    page.wait_for_selector("#draft-offer:not([hidden])")
    page.click("#draft-offer [data-action=restore]")
    assert page.input_value("#members_total") == "31"
    assert page.input_value("#members_present") == "22"
    assert page.is_checked("#item-P1 input[value=partial]")
    assert page.input_value("#notes") == "Đang ghi dở"
    assert page.input_value("input[name=uuid]") == uuid
