"""Real-browser fixtures: the app under gunicorn on a free port, Debian's Chromium via Playwright.

Offline means ``context.set_offline(True)`` (the service worker's own fetches fail
too, as on a phone with no signal); "the server is down" means stopping gunicorn.
See ../shared/testing.md for why.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import BACKENDS, PG_URL
from tests.support import CHROMIUM_ARGS, PHONE, LiveServer, free_port, fresh_database

CHROMIUM = os.environ.get("COSO_CHROMIUM", "/usr/bin/chromium")
REQUIRE = os.environ.get("COSO_REQUIRE_BROWSER", "") not in ("", "0")

os.environ.setdefault("PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS", "1")
#: What Playwright treats as a function rather than an expression.
FUNCTION = re.compile(r"^\s*(async\s+)?(function\b|\([^)]*\)\s*=>|[\w$]+\s*=>)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test here is a browser test; without Chromium they skip, unless CI requires them."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)
            # One rerun on failure: on a loaded 2-core CI machine a real browser sometimes misses
            # a timing (seen in CI runs of test_session_expires_while_offline). The rerun
            # keeps every assertion; a test that fails twice fails the build.
            item.add_marker(pytest.mark.flaky(reruns=1))


@pytest.fixture(scope="session", params=BACKENDS)
def live_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The demo province (small) served by gunicorn, one per database backend."""
    tmp = tmp_path_factory.mktemp(f"live-{request.param}")
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": fresh_database(request.param, tmp, PG_URL, "browser"),
        "SECRET_KEY": "browser-test-secret",
        "COSO_ENV": "development",
        "HOME": str(tmp),
    }
    server = LiveServer(
        url=f"http://127.0.0.1:{port}", port=port, env=env, log=tmp / "gunicorn.log"
    )
    server.flask("db", "upgrade")
    server.flask("seed-demo", "--branches", "24", "--months", "4")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def playwright():  # type: ignore[no-untyped-def]
    """One Playwright driver for the whole run (the sync API allows only one)."""
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        if REQUIRE:
            pytest.fail(f"Chromium not found at {CHROMIUM} and COSO_REQUIRE_BROWSER is set")
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    _csp_safe_wait_for_function()
    _record_script_errors()
    with sync_playwright() as pw:
        yield pw


# Uncaught errors in the pages' own scripts, as "url: message"; every browser test fails on one
# (a script that throws half-way leaves a page that looks right and does the wrong thing).
SCRIPT_ERRORS: list[str] = []


def _record_script_errors() -> None:
    """Listen for uncaught script errors on every page of every context the tests open."""
    from playwright.sync_api import Browser, BrowserContext, BrowserType

    def watch(ctx: BrowserContext) -> BrowserContext:
        def on_page(page) -> None:  # type: ignore[no-untyped-def]
            page.on("pageerror", lambda error: SCRIPT_ERRORS.append(f"{page.url}: {error}"))

        for page in ctx.pages:
            on_page(page)
        ctx.on("page", on_page)
        return ctx

    for cls, name in ((Browser, "new_context"), (BrowserType, "launch_persistent_context")):
        original = getattr(cls, name)
        if getattr(original, "watched", False):
            continue

        def opened(self, *args, _original=original, **kwargs):  # type: ignore[no-untyped-def]
            return watch(_original(self, *args, **kwargs))

        opened.watched = True  # type: ignore[attr-defined]
        setattr(cls, name, opened)


@pytest.fixture(autouse=True)
def no_script_errors() -> Iterator[None]:
    """A browser test passes only if no page threw an uncaught error on the way."""
    SCRIPT_ERRORS.clear()
    yield
    errors, SCRIPT_ERRORS[:] = list(SCRIPT_ERRORS), []
    assert not errors, "uncaught script errors: " + "; ".join(errors)


def _csp_safe_wait_for_function() -> None:
    """Let ``wait_for_function("expression")`` poll on pages whose CSP forbids ``eval``.

    Playwright runs a bare expression through ``eval`` at every poll, which coso's
    Content-Security-Policy (no 'unsafe-eval') refuses after the first; a function is
    evaluated once and then called (microsoft/playwright#36986). So bare expressions are
    wrapped into arrow functions, and the tests keep reading as plain conditions.
    """
    from playwright.sync_api import Frame, Page

    for cls in (Page, Frame):
        original = cls.wait_for_function
        if getattr(original, "csp_safe", False):
            continue

        def wait_for_function(self, expression, *args, _original=original, **kwargs):  # type: ignore[no-untyped-def]
            if not FUNCTION.match(expression):
                expression = f"() => ({expression})"
            return _original(self, expression, *args, **kwargs)

        wait_for_function.csp_safe = True  # type: ignore[attr-defined]
        cls.wait_for_function = wait_for_function  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def browser(playwright, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    home = tmp_path_factory.mktemp("chromium-home")
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=CHROMIUM_ARGS,
        env={**os.environ, "HOME": str(home)},
    )
    yield browser
    browser.close()


@pytest.fixture
def context(browser, live_server: LiveServer):  # type: ignore[no-untyped-def]
    """A fresh phone-sized browser profile."""
    ctx = browser.new_context(viewport=PHONE, base_url=live_server.url, locale="vi-VN")
    ctx.set_default_timeout(20_000)  # a busy CI machine: slow is not broken
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):  # type: ignore[no-untyped-def]
    return context.new_page()


#: Each account's sign-in cookies per server, taken after its first sign-in through the form.
_SIGNED_IN: dict[tuple[str, str, str], list] = {}


def login(page, username: str, password: str = "coso-demo", *, form: bool = False) -> None:  # type: ignore[no-untyped-def]
    """Sign in and land where the account lands, as after the form.

    The first sign-in of an account on a server goes through the form (scrypt and all: 0.4 s
    of the server's CPU on a slow machine, 129 times a run). Later ones put that session's
    cookies into the new profile and open ``/``; if the server no longer knows the session
    (signed out, expired, the database put back) the form is used again. ``form=True`` always
    uses the form: for a test tuned to what a sign-in leaves on the phone (the full-phone
    test's storage quota). Tests of signing in itself use the form directly.
    """
    # The profile's base URL (which server), from Playwright's own record of the options; on a
    # Playwright that keeps it elsewhere every sign-in simply goes through the form.
    options = getattr(getattr(page.context, "_impl_obj", None), "_options", None)
    base = options.get("baseURL") if isinstance(options, dict) else None
    key = (base or "", username, password)
    cookies = _SIGNED_IN.get(key) if base and not form else None
    if cookies is not None:
        page.context.add_cookies(cookies)
        page.goto("/")
        if "/login" not in page.url:
            return
        page.context.clear_cookies()
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit].primary")
    page.wait_for_url(lambda url: "/login" not in url)
    if base:
        _SIGNED_IN[key] = page.context.cookies()


def open_menu(page) -> None:  # type: ignore[no-untyped-def]
    """On a phone the main links are behind the menu button (issue 16): open it when shown."""
    button = page.locator("#menu-button")
    if button.is_visible() and button.get_attribute("aria-expanded") != "true":
        button.click()
