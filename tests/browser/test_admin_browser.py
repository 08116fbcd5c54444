"""The administration in a phone-sized Chromium: every page fits 360 px; a draft is started,
previewed and discarded (the confirm dialog comes from admin.js)."""

from __future__ import annotations

import re

from tests.browser.conftest import PHONE, LiveServer, login


def _fits(page) -> None:  # type: ignore[no-untyped-def]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], page.url


def test_admin_pages_fit_a_phone(page, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    (province_id,) = live_server.sql("SELECT id FROM unit WHERE parent_id IS NULL")[0]
    (branch_id,) = live_server.sql("SELECT id FROM unit WHERE kind = 'branch' ORDER BY id")[0]
    (template_id,) = live_server.sql("SELECT id FROM checklist_template ORDER BY id")[0]
    login(page, "admin")
    for path in (
        "/admin/",
        f"/admin/units/{province_id}",
        f"/admin/units/{branch_id}",
        "/admin/units/search?q=chi",
        "/admin/units/import",
        "/admin/users",
        "/admin/users/new",
        "/admin/users/import",
        "/admin/templates",
        f"/admin/templates/{template_id}",
        f"/admin/templates/{template_id}/preview",
        "/admin/guidance",
        f"/admin/settings/{province_id}",
        "/admin/audit",
    ):
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        _fits(page)


def test_start_preview_and_discard_a_draft(page, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    login(page, "province")
    page.goto("/admin/templates")
    page.locator("#in-force button[type=submit]").click()
    page.wait_for_url(re.compile(r"/admin/templates/\d+$"))
    draft_id = int(page.url.rsplit("/", 1)[1])
    assert page.locator("fieldset.item-row").count() >= 21
    _fits(page)
    page.locator("a[href$='/preview']").first.click()
    page.wait_for_url("**/preview")
    assert page.locator("#preview-P1").is_visible()
    _fits(page)
    page.go_back()
    answers = [False, True]  # dismiss the first question, accept the second
    asked: list[str] = []

    def answer(dialog) -> None:  # type: ignore[no-untyped-def]
        asked.append(dialog.message)
        dialog.accept() if answers[len(asked) - 1] else dialog.dismiss()

    page.on("dialog", answer)
    page.locator("form[action$='/discard'] button").click()
    page.wait_for_timeout(300)
    assert len(asked) == 1  # asked first; dismissing keeps the draft
    assert live_server.sql(f"SELECT count(*) FROM checklist_template WHERE id = {draft_id}") == [
        (1,)
    ]
    page.locator("form[action$='/discard'] button").click()
    page.wait_for_url("**/admin/templates")
    assert live_server.sql(f"SELECT count(*) FROM checklist_template WHERE id = {draft_id}") == [
        (0,)
    ]


def test_publish_waits_while_the_draft_has_unsaved_edits(page, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    """A failed save then Publish once sent out the saved draft without the edits on screen."""
    login(page, "province")
    page.goto("/admin/templates")
    page.locator("#in-force button[type=submit]").click()
    page.wait_for_url(re.compile(r"/admin/templates/\d+$"))
    draft_id = int(page.url.rsplit("/", 1)[1])
    publish = page.locator("#publish")
    note = page.locator("#publish-note")
    total = page.locator("#weight-total")
    assert publish.is_enabled() and note.is_hidden() and total.inner_text() == "100"
    weight = page.locator("#i0-weight")
    original = weight.input_value()
    weight.fill(str(int(original) + 5))
    assert publish.is_disabled() and note.is_visible()
    assert total.inner_text() == "105"  # the total follows the typing
    weight.fill(original)
    assert publish.is_enabled() and note.is_hidden() and total.inner_text() == "100"
    # A save that fails (weights add up to 105) leaves publishing off on the page it returns.
    weight.fill(str(int(original) + 5))
    page.locator("#template-editor button.primary.wide").click()
    page.wait_for_selector("#err-items-total")
    assert page.locator("#publish").is_disabled()
    assert page.locator("#i0-weight").get_attribute("aria-invalid") == "true"
    assert live_server.sql(f"SELECT status FROM checklist_template WHERE id = {draft_id}") == [
        ("draft",)
    ]
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"/admin/templates/{draft_id}")
    page.locator("form[action$='/discard'] button").click()
    page.wait_for_url("**/admin/templates")
