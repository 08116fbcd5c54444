"""Photos of a difficulty and of a visit report (issue 20, items 1 and 5), in a real Chromium
on a 360 px phone with no signal: taken on the form, kept with the item in the outbox, sent
when the signal returns, stored once on the server and shown on the item's page.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.browser.conftest import LiveServer
from tests.browser.test_offline_browser import (  # noqa: F401  (the profile fixture)
    assert_worker_offline,
    badge,
    prepare,
    profile,
    wait_cached,
)
from tests.browser.test_photos_browser import camera_photo, stored_photos
from tests.browser.test_visit_offline_browser import _free_day

TEXT = "Nhà văn hoá ấp dột nát, chi đoàn không có chỗ sinh hoạt khi trời mưa."
REPORT = "Phối hợp tổ chức ngày hội thanh niên; ảnh hội trường và danh sách tham gia kèm theo."


def _wait_badge(page, count: int, timeout: int = 20_000) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function(
        f"document.getElementById('outbox-count').textContent === '{count}'", timeout=timeout
    )


def _shown_once(page, live_server: LiveServer, path: str, count: int) -> None:  # type: ignore[no-untyped-def]
    """The page shows ``count`` lazy thumbnails, each opening a photo the server serves."""
    page.goto(path)
    thumbs = page.locator("#photos .photo-thumbs img")
    assert thumbs.count() == count
    assert thumbs.first.get_attribute("loading") == "lazy"
    link = page.locator("#photos .photo-thumbs a").first.get_attribute("href")
    assert page.request.get(live_server.url + link).status == 200


def test_a_difficulty_with_a_photo_raised_offline_arrives_once(  # type: ignore[no-untyped-def]
    profile,  # noqa: F811
    live_server: LiveServer,
    tmp_path: Path,
) -> None:
    ctx = profile()
    page = ctx.new_page()
    prepare(page)
    wait_cached(page, "/difficulties/new")
    ctx.set_offline(True)
    assert_worker_offline(ctx)
    page.goto("/difficulties/new")  # the copy kept on the phone
    page.wait_for_selector("#photos-card:not([hidden]) #photos-whole .photo-input")
    uuid = page.input_value("#difficulty-form input[name=uuid]")
    page.select_option("#d-category", "venue")
    page.fill("#d-text", TEXT)
    photo = camera_photo(tmp_path / "hall.jpg", "orange", (1600, 1200))
    page.set_input_files("#photos-whole .photo-input[multiple]", str(photo))
    page.wait_for_function("document.querySelectorAll('#photos-whole .photo-thumb').length === 1")
    kept = page.evaluate("(uuid) => CosoOutbox.photosOf(uuid)", uuid)
    assert [p["state"] for p in kept] == ["draft"]
    page.click("#difficulty-form button[type=submit]")
    page.locator("#difficulty-status").wait_for(state="visible")
    assert "giữ trên điện thoại" in page.locator("#difficulty-status").inner_text()
    _wait_badge(page, 2)  # the difficulty and its photo
    # The form is ready for the next one: a UUID of its own and no photo.
    assert page.input_value("#difficulty-form input[name=uuid]") != uuid
    assert page.locator("#photos-whole .photo-thumb").count() == 0
    kept = page.evaluate("(uuid) => CosoOutbox.photosOf(uuid)", uuid)
    assert [p["state"] for p in kept] == ["waiting"]

    ctx.set_offline(False)  # signal again: the outbox drains by itself
    _wait_badge(page, 0, 60_000)
    rows = stored_photos(live_server, uuid)
    assert len(rows) == 1 and rows[0][0] == "" and rows[0][2] == "image/jpeg", rows
    page.evaluate("CosoApp.drain({force: true})")  # another trigger: nothing more
    page.wait_for_timeout(500)
    assert len(stored_photos(live_server, uuid)) == 1
    (difficulty_id,) = live_server.sql(f"SELECT id FROM difficulty WHERE uuid = '{uuid}'")[0]
    _shown_once(page, live_server, f"/difficulties/{difficulty_id}", 1)


def test_visit_photos_go_with_the_visit_and_its_report(  # type: ignore[no-untyped-def]
    profile,  # noqa: F811
    live_server: LiveServer,
    tmp_path: Path,
) -> None:
    ctx = profile()
    page = ctx.new_page()
    prepare(page)
    (user_id,) = live_server.sql("SELECT id FROM \"user\" WHERE username = 'cadre'")[0]
    day = _free_day(live_server, user_id)
    (branch_id,) = live_server.sql(
        "SELECT id FROM unit WHERE kind = 'branch' AND active ORDER BY id LIMIT 1"
    )[0]
    ctx.set_offline(True)
    assert_worker_offline(ctx)
    page.goto("/visits/new")
    page.wait_for_selector(f'#unit_id option[value="{branch_id}"]', state="attached")
    page.wait_for_selector("#photos-card:not([hidden]) #photos-whole .photo-input")
    page.select_option("#unit_id", str(branch_id))
    page.select_option("#form", "coorganise")
    page.fill("#start_date", day.isoformat())
    page.fill("#end_date", day.isoformat())
    first = camera_photo(tmp_path / "activity.jpg", "purple", (1200, 900))
    page.set_input_files("#photos-whole .photo-input[capture]", str(first))
    page.wait_for_function("document.querySelectorAll('#photos-whole .photo-thumb').length === 1")
    uuid = page.input_value("#visit-form input[name=uuid]")
    page.click("#visit-form button[type=submit]")
    page.wait_for_url(re.compile(r"/visits/drafts\?visit="))
    card = page.locator(f".visit-draft[data-uuid='{uuid}']")
    card.locator("textarea").wait_for()
    _wait_badge(page, 2)  # the visit and the photo taken with it
    # The visit's draft opens with its photos; one more is taken beside the report.
    card.locator(".visit-photos .photo-thumb").first.wait_for()
    second = camera_photo(tmp_path / "list.jpg", "teal", (900, 1200))
    card.locator(".visit-photos .photo-input[multiple]").set_input_files(str(second))
    page.wait_for_function(
        "document.querySelectorAll('.visit-draft .visit-photos .photo-thumb').length === 2"
    )
    states = page.evaluate(
        "(uuid) => CosoOutbox.photosOf(uuid).then(ps => ps.map(p => p.state))", uuid
    )
    assert sorted(states) == ["draft", "waiting"]
    assert badge(page) == "2"  # a draft photo waits for the report
    card.locator("textarea").fill(REPORT)
    card.locator("button[data-action=send]").click()
    _wait_badge(page, 4)  # the visit, its report and both photos

    ctx.set_offline(False)
    _wait_badge(page, 0, 60_000)
    assert len(stored_photos(live_server, uuid)) == 2
    (visit_id,) = live_server.sql(f"SELECT id FROM visit WHERE uuid = '{uuid}'")[0]
    _shown_once(page, live_server, f"/visits/{visit_id}/report", 2)
