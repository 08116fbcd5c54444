"""What the two browser benchmarks share: a served demo province and Debian's Chromium."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.common import CHROMIUM, Client, server_env
from tests.support import CHROMIUM_ARGS, PHONE, LiveServer, free_port, fresh_database


@contextmanager
def served(tmp: Path, name: str, branches: int = 24) -> Iterator[LiveServer]:
    """gunicorn (2 workers) over a fresh SQLite database with a demo province (small)."""
    port = free_port()
    url = fresh_database("sqlite", tmp, "", name)
    server = LiveServer(
        url=f"http://127.0.0.1:{port}",
        port=port,
        env=server_env(url, tmp),
        log=tmp / "gunicorn.log",
    )
    try:
        server.flask("db", "upgrade")
        server.flask(
            "seed-demo", "--branches", str(branches), "--months", "4" if branches < 500 else "1"
        )
        server.start(workers=2)
        yield server
    except BaseException:
        if server.log.exists():
            print(server.log.read_text()[-3000:], file=sys.stderr)
        raise
    finally:
        server.stop()


@contextmanager
def chromium(tmp: Path) -> Iterator[Any]:
    """Debian's Chromium, headless, through Playwright (never ``playwright install``)."""
    os.environ.setdefault("PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS", "1")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            env={**os.environ, "HOME": str(tmp)},
        )
        try:
            yield browser
        finally:
            browser.close()


def signed_in_context(browser: Any, server: LiveServer, username: str) -> Any:
    """A fresh phone-sized profile holding a session opened outside the browser.

    Signing in through the API client keeps the browser's caches cold: the first
    page the profile ever loads is the one measured.
    """
    client = Client(server.port)
    client.login(username)
    client.close()
    context = browser.new_context(viewport=PHONE, base_url=server.url, locale="vi-VN")
    context.set_default_timeout(30_000)
    context.add_cookies(
        [{"name": k, "value": v, "url": server.url} for k, v in client.cookies.items()]
    )
    return context


def wait_until(page: Any, expression: str, timeout: float = 30.0, step_ms: int = 25) -> float:
    """Poll a JavaScript expression until it is truthy; seconds waited.

    ``page.wait_for_function`` evaluates its predicate with ``eval``, which the
    app's Content-Security-Policy (rightly) forbids; ``page.evaluate`` goes
    through the DevTools protocol and is not affected.
    """
    import time

    start = time.perf_counter()
    while not page.evaluate(expression):
        if time.perf_counter() - start > timeout:
            raise TimeoutError(f"still false after {timeout:.0f} s: {expression}")
        page.wait_for_timeout(step_ms)
    return time.perf_counter() - start


def enqueue(page: Any, items: list[dict[str, Any]], names: dict[int, str], user_id: int) -> None:
    """Write sync items into the page's IndexedDB outbox through ``CosoOutbox.enqueue`` —
    what the checklist's submit calls (typing the forms would measure Playwright)."""
    queued = [
        {
            "uuid": item["uuid"],
            "user_id": user_id,
            "branch_id": item["branch_id"],
            "branch_name": names[item["branch_id"]],
            "payload": item,
        }
        for item in items
    ]
    page.evaluate(
        "async (items) => { for (const item of items) await CosoOutbox.enqueue(item); }",
        json.loads(json.dumps(queued)),
    )
