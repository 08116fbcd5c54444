"""The production topology on this machine (issue 23, item 1), from the files in deploy/.

Caddy (deploy/Caddyfile, its internal CA for ``coso.test``) in front of two gunicorn
processes run with deploy/coso.env (COSO_ENV=production, secure cookies,
COSO_TRUSTED_PROXIES=1), one PostgreSQL, one Redis for the shared counters. A real Chromium
that trusts Caddy's root (an NSS database in its HOME, no ``ignore_https_errors``: the
service worker registers only on a truly trusted origin) installs the app, prepares the
field pack, goes offline, queues evaluations, comes back and syncs through the proxy. Then
wrong passwords from one phone's address are counted across both processes, and another
phone's address is not held by them.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from coso.demo.world import DEMO_PASSWORD
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE
from tests.browser.test_offline_browser import assert_worker_offline, fill, prepare
from tests.topology import SITE, Topology, running, trust_in_nss

pytestmark = pytest.mark.slow

#: Wrong passwords per address before 429: small, so the test stays short.
PER_ADDRESS = 4


@pytest.fixture(scope="module")
def topology(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    tmp = tmp_path_factory.mktemp("topology")
    with running(
        tmp,
        "topology",
        seed=["seed-demo", "--branches", "24", "--months", "2"],
        COSO_LOGIN_FAIL_LIMITS_PER_ADDRESS=f"{PER_ADDRESS} per 5 minutes",
    ) as topology:
        yield topology


def _eventually(read: Callable[[], list[tuple]], seconds: float) -> list[tuple]:
    """``read()`` until it finds rows, for at most ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        rows = read()
        if rows or time.monotonic() > deadline:
            return rows
        time.sleep(0.5)


def _access_lines(topology: Topology, pattern: str) -> list[int]:
    """How many lines of each process's access log match ``pattern``."""
    counts = []
    for server in topology.servers:
        log = server.log.with_suffix(".access.log")
        text = log.read_text() if log.exists() else ""
        counts.append(len(re.findall(pattern, text)))
    return counts


def test_healthz_hsts_and_redirect_through_the_proxy(topology: Topology) -> None:
    conn = topology.connection()
    conn.request("GET", "/healthz")
    response = conn.getresponse()
    assert response.status == 200
    assert json.loads(response.read()) == {"status": "ok"}
    assert response.getheader("Strict-Transport-Security") == "max-age=31536000"
    conn.close()
    # The certificate is Caddy's internal CA's, for the site's name (verified by the context).
    conn = topology.connection()
    conn.request("GET", "/login")
    response = conn.getresponse()
    response.read()
    cookies = response.headers.get_all("Set-Cookie") or []
    assert cookies, "the login form sets the session cookie"
    for cookie in cookies:
        assert "Secure" in cookie and "HttpOnly" in cookie, cookie
    conn.close()


def test_phone_installs_goes_offline_and_syncs_through_the_proxy(
    playwright, topology: Topology, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "phone-home"
    trust_in_nss(home, topology.ca)
    ctx = playwright.chromium.launch_persistent_context(
        str(tmp_path / "profile"),
        executable_path=CHROMIUM,
        headless=True,
        args=[*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {SITE} 127.0.0.1"],
        env={"PATH": "/usr/bin:/bin", "HOME": str(home)},
        viewport=PHONE,
        base_url=topology.url,
        locale="vi-VN",
    )
    ctx.set_default_timeout(30_000)
    try:
        page = ctx.new_page()
        response = page.goto("/login")
        assert response is not None and response.ok
        assert page.url.startswith(f"https://{SITE}:")
        assert response.header_value("strict-transport-security") == "max-age=31536000"
        prepare(page)  # signs in, waits for the worker to control the page, gets the pack
        state = page.evaluate(
            "navigator.serviceWorker.getRegistration().then(r => r && r.active && r.active.state)"
        )
        assert state == "activated", state
        assert ctx.service_workers, "the service worker runs"
        cookies = {cookie["name"]: cookie for cookie in ctx.cookies()}
        assert cookies, "signed in with cookies"
        for cookie in cookies.values():
            assert cookie["secure"], cookie["name"]
        assert "session" in cookies and cookies["session"]["httpOnly"]

        ctx.set_offline(True)
        assert_worker_offline(ctx)
        # The demo secretary's branch first: its notice is looked for after the sync.
        branches = [
            row[0]
            for row in topology.sql(
                "SELECT id FROM unit WHERE kind = 'branch' AND active ORDER BY id <> "
                "(SELECT unit_id FROM \"user\" WHERE username = 'secretary'), id LIMIT 3"
            )
        ]
        uuids = []
        for branch in branches:
            page.goto(f"/evaluate/{branch}")  # from the worker's cache: no signal
            uuids.append(fill(page))
            page.click("button[type=submit].wide")
            page.wait_for_selector("#saved-panel:not([hidden])")
        page.wait_for_function("document.getElementById('outbox-count').textContent === '3'")
        quoted = ", ".join(f"'{u}'" for u in uuids)
        count = f"SELECT count(*) FROM evaluation WHERE uuid IN ({quoted})"
        assert topology.sql(count)[0][0] == 0

        ctx.set_offline(False)
        page.goto("/outbox")
        page.click("#send-now")
        page.wait_for_function(
            "document.getElementById('outbox-count').textContent === '0'", timeout=60_000
        )
        assert topology.sql(count)[0][0] == 3
        # Synced once, whatever triggers the outbox again.
        page.reload()
        page.wait_for_timeout(500)
        assert topology.sql(count)[0][0] == 3
        # The worker (its own process, the same environment) delivers the branch secretary's
        # in-app notice of the evaluation of their branch, and the secretary sees it.
        notice = (
            "SELECT n.id, e.id FROM evaluation e"
            " JOIN notification n ON n.key = 'evaluation:' || e.id"
            " JOIN \"user\" u ON u.id = n.user_id AND u.username = 'secretary'"
            " JOIN notification_delivery d ON d.notification_id = n.id"
            " AND d.channel = 'in_app' AND d.status = 'sent'"
            f" WHERE n.state = 'done' AND e.uuid = '{uuids[0]}'"
        )
        delivered = _eventually(lambda: topology.sql(notice), seconds=30)
        assert len(delivered) == 1, delivered
        evaluation_id = delivered[0][1]
        assert topology.worker is not None and topology.worker.poll() is None
    finally:
        with contextlib.suppress(Exception):
            ctx.close()
    # Caddy spread the phone's requests over both processes (the health checks aside).
    pages = _access_lines(topology, r'"(GET|POST) /(?!healthz)')
    assert all(pages), f"requests per process: {pages}"
    synced = _access_lines(topology, r'"POST /api/v1/sync')
    assert sum(synced) >= 1
    # Signed in (through the proxy), the secretary's notification centre lists the notice.
    secretary = Phone(topology, "127.0.0.4")
    assert secretary.request("GET", "/login")[0] == 200
    status, _ = secretary.request(
        "POST",
        "/login",
        f"username=secretary&password={DEMO_PASSWORD}&csrf_token={secretary.token}",
        **{"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 302, status
    status, centre = secretary.request("GET", "/notifications")
    assert status == 200
    assert f'href="/feedback/{evaluation_id}"' in centre


class Phone:
    """A phone behind the proxy: its own loopback address, its cookies, the form's token."""

    def __init__(self, topology: Topology, source: str) -> None:
        self.topology, self.source = topology, source
        self.jar: dict[str, str] = {}
        self.token = ""

    def request(self, method: str, path: str, body: str = "", **headers: str) -> tuple[int, str]:
        conn = self.topology.connection(source=self.source)
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.jar.items())
        conn.request(method, path, body=body.encode() or None, headers=headers)
        response = conn.getresponse()
        page = response.read().decode()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.jar[name.strip()] = rest.split(";", 1)[0]
        conn.close()
        if token := re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page):
            self.token = token.group(1)
        return response.status, page

    def wrong_password(self, username: str, **headers: str) -> int:
        """One wrong password, on the form as the phone has it (one GET, then only POSTs)."""
        if not self.token:
            assert self.request("GET", "/login")[0] == 200
        body = f"username={username}&password=not-the-password&csrf_token={self.token}"
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        return self.request("POST", "/login", body, **headers)[0]


def test_login_throttle_counts_the_phones_address_across_both_processes(
    topology: Topology,
) -> None:
    import redis

    from tests.topology import REDIS_URL, flush_redis

    flush_redis()  # counters of this test alone (a rerun starts from nothing too)
    before = _access_lines(topology, r'"POST /login')
    # One phone (127.0.0.2) guesses at several accounts: the per-address limit holds it, on
    # whichever process Caddy hands each attempt to.
    phone = Phone(topology, "127.0.0.2")
    statuses = [phone.wrong_password(f"nobody{n}") for n in range(PER_ADDRESS + 2)]
    assert statuses == [200] * PER_ADDRESS + [429, 429], statuses
    after = _access_lines(topology, r'"POST /login')
    served = [b - a for a, b in zip(before, after, strict=True)]
    assert all(served), f"wrong passwords per process: {served}"  # both processes counted
    # Sending its own X-Forwarded-For does not make it another address.
    assert phone.wrong_password("nobody-else", **{"X-Forwarded-For": "10.9.9.9"}) == 429
    # Another phone behind the same proxy is not held by the first one's guesses.
    assert Phone(topology, "127.0.0.3").wrong_password("nobody0") == 200
    # The shared counters are in Redis, under the phones' addresses (never the proxy's).
    client = redis.Redis.from_url(REDIS_URL)
    keys = [key.decode() for key in client.keys("*login:addr:*")]
    client.close()
    assert any("login:addr:127.0.0.2" in key for key in keys), keys
    assert any("login:addr:127.0.0.3" in key for key in keys), keys
    assert not any("login:addr:127.0.0.1" in key for key in keys), keys
