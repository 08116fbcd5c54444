"""Issue 16, items 7, 8, 16, 18 in a real Chromium: honest offline states, a Background Sync that
is retried when it fails, no CSP violation over a walk of every role (with inline styles planted
on the elements htmx swaps), and no worker asking for pages its user may not open.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import LiveServer, login
from tests.browser.test_offline_browser import (
    assert_worker_offline,
    branch_ids,
    fill,
    prepare,
    stored,
)
from tests.browser.test_security_browser import WATCH

#: Every role's main pages, walked with swaps.
WALK = {
    "cadre": [
        "/",
        "/evaluate",
        "/evaluate/{branch}",
        "/evaluate/form",
        "/outbox",
        "/visits",
        "/practices",
    ],
    "secretary": ["/", "/feedback", "/feedback/actions", "/practices"],
    "province": [
        "/",
        "/dashboard",
        "/dashboard/where",
        "/dashboard/practices",
        "/secretaries",
        "/secretaries/branch/{branch}",
        "/visits/ledger",
    ],
    "admin": ["/admin/", "/admin/users", "/admin/units", "/admin/templates", "/admin/audit"],
}

#: Puts an inline style on every element htmx could settle (through the CSSOM, which the policy
#: allows: the attribute is there as when a script or an extension set it), then swaps: the
#: page's own htmx GET control if it has one, and the page's ``#main`` re-fetched and swapped
#: in with ``htmx.swap`` (every element with an id is settled against its old self).
PLANT_AND_SWAP = """
async () => {
  const plant = () => document.querySelectorAll("[id], input, select, textarea, button, a")
    .forEach((el) => { el.style.outline = "1px dotted rgb(200, 0, 0)"; });
  const settled = () => new Promise((resolve) => {
    const done = () => {
      document.body.removeEventListener("htmx:afterSettle", done);
      resolve(true);
    };
    document.body.addEventListener("htmx:afterSettle", done);
    setTimeout(() => resolve(false), 8000);
  });
  const swaps = [];
  const control = document.querySelector("[hx-get][hx-trigger]");
  if (control) {
    const trigger = control.getAttribute("hx-trigger");
    const name = /submit/.test(trigger) ? "submit" : /search/.test(trigger) ? "search" : "change";
    plant();
    const wait = settled();
    htmx.trigger(control, name);
    swaps.push((await wait) ? "control" : "control-timeout");
  }
  plant();
  const html = await (await fetch(location.href, { credentials: "same-origin" })).text();
  htmx.swap("#main", html, { swapStyle: "outerHTML", swapDelay: 0, settleDelay: 20 },
            { select: "#main" });
  await new Promise((r) => setTimeout(r, 300));
  swaps.push(document.querySelector("#main") ? "main" : "main-missing");
  return swaps;
}
"""


def watch(context):  # type: ignore[no-untyped-def]
    """A page whose CSP violations, refusals and script errors are collected."""
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
    return page, refused


@pytest.mark.parametrize("username", sorted(WALK))
def test_walk_with_planted_styles_breaks_no_policy(
    context, live_server: LiveServer, username: str
) -> None:  # type: ignore[no-untyped-def]
    page, refused = watch(context)
    login(page, username)
    branch = branch_ids(live_server, 1)[0]
    for path in WALK[username]:
        page.goto(path.format(branch=branch))
        page.wait_for_load_state("load")
        page.wait_for_function("window.htmx !== undefined")
        page.wait_for_timeout(150)
        assert page.evaluate("window.__csp") == [], f"{path} (quiet)"
        swaps = page.evaluate(PLANT_AND_SWAP)
        assert "main" in swaps and "main-missing" not in swaps, (path, swaps)
        assert page.evaluate("window.__csp") == [], f"{path} after {swaps}"
    assert not refused, refused


def test_the_walk_would_see_a_settled_style(context, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    """The probe is not blind: with ``style`` settled again (htmx's default), it sees violations."""
    page, _ = watch(context)
    login(page, "cadre")
    page.goto("/evaluate")
    page.wait_for_function("window.htmx !== undefined")
    page.evaluate("htmx.config.attributesToSettle.push('style')")
    page.evaluate(PLANT_AND_SWAP)
    violations = page.evaluate("window.__csp")
    assert violations and all(v.startswith("style-src") for v in violations), violations


@pytest.mark.parametrize("username", ["secretary", "province", "admin"])
def test_worker_asks_no_cadre_page_of_others(
    context, live_server: LiveServer, username: str
) -> None:  # type: ignore[no-untyped-def]
    """Issue 16, item 18: installing the worker costs a non-cadre no 403 (nor a cadre page)."""
    asked: list[tuple[str, int]] = []
    context.on(
        "response",
        lambda r: asked.append((re.sub(r"^https?://[^/]+", "", r.url), r.status)),
    )
    page = context.new_page()
    login(page, username)
    page.goto("/")
    page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller !== null")
    page.wait_for_timeout(500)
    forbidden = [(url, status) for url, status in asked if status == 403]
    assert not forbidden, forbidden
    # The outbox is everyone's who may queue something (a secretary's difficulties, issue 19).
    cadre_pages = [url for url, _ in asked if url.startswith("/evaluate")]
    assert not cadre_pages, cadre_pages


def test_background_sync_rejects_until_the_outbox_is_drained(
    context, live_server: LiveServer
) -> None:  # type: ignore[no-untyped-def]
    """Issue 16, item 7: a real ``sync`` event (dispatched by Chromium through DevTools) whose
    drain meets no server rejects, so the browser keeps the tag and fires it again; once the
    server answers, the next one resolves and the evaluation is stored."""
    page = context.new_page()
    prepare(page)
    context.set_offline(True)
    assert_worker_offline(context)
    page.goto(f"/evaluate/{branch_ids(live_server, 1)[0]}")
    uuid = fill(page)
    page.click("button[type=submit].wide")
    page.wait_for_selector("#saved-panel:not([hidden])")
    assert page.evaluate("navigator.serviceWorker.ready.then(r => r.sync.getTags())") == [
        "coso-outbox"
    ]
    worker = context.service_workers[0]
    outcome = worker.evaluate("self.cosoSync().then(() => 'resolved', (e) => 'rejected: ' + e)")
    assert outcome.startswith("rejected") and "no network" in outcome, outcome

    # A real sync event: the signal is back but the server cannot be reached.
    cdp = context.new_cdp_session(page)
    registrations: list[dict] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda e: registrations.extend(e["registrations"]),
    )
    cdp.send("ServiceWorker.enable")
    for _ in range(50):  # the registration is reported asynchronously
        if registrations:
            break
        page.wait_for_timeout(100)
    sync = {
        "origin": live_server.url,
        "registrationId": registrations[0]["registrationId"],
        "tag": "coso-outbox",
        "lastChance": False,
    }
    context.route("**/api/v1/**", lambda route: route.abort())  # before the page's own drain
    context.set_offline(False)
    worker.evaluate(WATCH_SYNC)
    cdp.send("ServiceWorker.dispatchSyncEvent", sync)
    worker.evaluate("self.__syncDone")
    assert worker.evaluate("self.__sync") == ["rejected"]
    assert stored(live_server, [uuid]) == 0

    context.unroute("**/api/v1/**")
    worker.evaluate(WATCH_SYNC)
    cdp.send("ServiceWorker.dispatchSyncEvent", sync)
    worker.evaluate("self.__syncDone")
    assert worker.evaluate("self.__sync") == ["resolved"]
    assert stored(live_server, [uuid]) == 1


#: Records what the worker's next sync handler run ends in.
WATCH_SYNC = """
(() => {
  const work = self.__syncWork || self.cosoSync;
  self.__syncWork = work;
  self.__sync = [];
  let done;
  self.__syncDone = new Promise((r) => { done = r; });
  self.cosoSync = () => {
    const p = work();
    p.then(() => { self.__sync.push("resolved"); done(); },
           () => { self.__sync.push("rejected"); done(); });
    return p;
  };
})()
"""


def test_status_bar_never_says_all_sent_over_an_item_in_attention(
    context, live_server: LiveServer
) -> None:  # type: ignore[no-untyped-def]
    """Issue 16, item 8: an item the server refused keeps the status bar on "needs attention"."""
    page = context.new_page()
    login(page, "cadre")

    def refuse(route):  # type: ignore[no-untyped-def]
        body = route.request.post_data_json
        results = [
            {"uuid": e["uuid"], "status": "rejected", "errors": {"members_present": ["Sai."]}}
            for e in body["evaluations"]
        ]
        route.fulfill(status=200, json={"results": results})

    context.route("**/api/v1/sync", refuse)
    page.goto(f"/evaluate/{branch_ids(live_server, 1)[0]}")
    fill(page)
    page.click("button[type=submit].wide")
    page.wait_for_function("document.getElementById('sync-status').dataset.state === 'attention'")
    status = page.locator("#sync-status")
    assert status.is_visible()
    text = status.inner_text()
    assert "Đã gửi hết" not in text and "cần bạn xử lý" in text
    page.wait_for_timeout(3500)  # "all sent" used to vanish after 3 s; attention stays
    assert status.is_visible() and status.get_attribute("data-state") == "attention"


def test_a_page_open_offline_says_so(context, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    """Issue 16, item 8: offline, the status bar says so (vi and en), and back online too."""
    page = context.new_page()
    prepare(page)
    context.set_offline(True)
    assert_worker_offline(context)
    page.goto("/outbox")
    page.wait_for_function("document.getElementById('sync-status').dataset.state === 'offline'")
    assert "Đang không có mạng" in page.locator("#sync-status").inner_text()
    context.set_offline(False)
    page.wait_for_function("document.getElementById('sync-status').dataset.state === 'online'")
    assert "Đã có mạng" in page.locator("#sync-status").inner_text()
    # In English as well (the choice is stored on the user: set back for the other tests).
    page.goto("/")
    page.click("button[name=lang][value=en]")
    page.wait_for_load_state("load")
    try:
        page.goto("/outbox")  # cached in English now (network first)
        context.set_offline(True)
        page.reload()
        page.wait_for_function("document.getElementById('sync-status').dataset.state === 'offline'")
        assert "You are offline" in page.locator("#sync-status").inner_text()
    finally:
        context.set_offline(False)
        page.goto("/")
        page.click("button[name=lang][value=vi]")
        page.wait_for_load_state("load")


def test_a_saved_copy_says_so_when_the_server_is_down(context, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    """Signal but no server: the worker serves its copy and the page says it is offline."""
    page = context.new_page()
    prepare(page)
    live_server.stop()
    try:
        page.goto("/outbox")
        page.wait_for_function("document.getElementById('sync-status').dataset.state === 'offline'")
        assert "Đang không có mạng" in page.locator("#sync-status").inner_text()
    finally:
        live_server.start()
