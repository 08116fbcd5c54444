"""The Central Committee's pages in a real Chromium (issue 22, item 1), on a national demo of
its own: the central user lands on ``/national``, which fits a 360-px phone, finds it in the
menu, and opens a province's flagged list from its row."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.browser.conftest import login, open_menu
from tests.support import PHONE, LiveServer, free_port, fresh_database


@pytest.fixture(scope="module")
def national_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Two small demo provinces under the Central Committee, on SQLite, under gunicorn."""
    tmp = tmp_path_factory.mktemp("live-national")
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": fresh_database("sqlite", tmp, "", "national"),
        "SECRET_KEY": "browser-test-secret",
        "COSO_ENV": "development",
        "HOME": str(tmp),
    }
    server = LiveServer(
        url=f"http://127.0.0.1:{port}", port=port, env=env, log=tmp / "gunicorn.log"
    )
    server.flask("db", "upgrade")
    server.flask("seed-demo", "--provinces", "2", "--branches", "12", "--months", "3")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def phone(browser, national_server: LiveServer):  # type: ignore[no-untyped-def]
    ctx = browser.new_context(viewport=PHONE, base_url=national_server.url, locale="vi-VN")
    ctx.set_default_timeout(20_000)
    yield ctx.new_page()
    ctx.close()


def test_the_centre_lands_on_the_provinces_and_drills_down(phone) -> None:  # type: ignore[no-untyped-def]
    login(phone, "central")
    assert phone.url.endswith("/national")
    assert phone.locator("h1").inner_text() == "Toàn quốc theo tỉnh"
    rows = phone.locator("#provinces-table tbody tr")
    assert rows.count() == 2
    width = PHONE["width"]
    assert phone.evaluate("document.documentElement.scrollWidth") <= width
    open_menu(phone)
    assert phone.locator("#nav-national").is_visible()
    row = phone.locator("#provinces-table tr", has_text="Thành đoàn Hà Nội")
    row.locator("a.province-link").click()
    phone.wait_for_url("**/dashboard?unit=*")
    assert phone.locator("#flagged-view h2").first.inner_text() == "Thành đoàn Hà Nội"
    options = phone.locator("select[name=unit] option").all_inner_texts()
    assert any("Hà Nội" in text for text in options) and any("Đồng Nai" in text for text in options)
