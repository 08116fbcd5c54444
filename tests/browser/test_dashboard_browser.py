"""The province's drill-down in a real Chromium, on a phone and on a desktop:
dashboard → commune → branch → evaluation, and the htmx filters with the back button."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import LiveServer, login

VIEWPORTS = {"phone": {"width": 360, "height": 740}, "desktop": {"width": 1280, "height": 800}}


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def screen(browser, live_server: LiveServer, viewport: str):  # type: ignore[no-untyped-def]
    """A fresh browser profile of the given size, signed in as the demo province user."""
    ctx = browser.new_context(
        viewport=VIEWPORTS[viewport], base_url=live_server.url, locale="vi-VN"
    )
    ctx.set_default_timeout(10_000)
    page = ctx.new_page()
    login(page, "province")
    yield page
    ctx.close()


def _fits(page, viewport: str) -> None:  # type: ignore[no-untyped-def]
    width = VIEWPORTS[viewport]["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_dashboard_to_commune_to_branch_to_evaluation(
    screen, live_server: LiveServer, viewport: str
) -> None:  # type: ignore[no-untyped-def]
    page = screen
    page.goto("/dashboard")
    counts = page.locator("#state-counts strong").all_inner_texts()
    (branches,) = live_server.sql("SELECT COUNT(*) FROM unit WHERE kind = 'branch'")[0]
    assert sum(int(n) for n in counts) == branches
    assert page.locator("#flagged-list tbody tr").count() > 0
    _fits(page, viewport)

    # A flagged branch of a commune: its commune's page.
    row = page.locator("#flagged-list tbody tr").first
    branch_id = int(row.get_attribute("data-branch-id"))
    (commune_id,) = live_server.sql(f"SELECT parent_id FROM unit WHERE id = {branch_id}")[0]
    if viewport == "phone":
        # The phone's compact row leaves the parent unit to the branch's page (issue 16).
        assert not row.locator("a.parent-link").is_visible()
        row.locator("td.lead a").click()
        page.wait_for_url(f"**/units/{branch_id}")
        page.locator(f'a[href="/units/{commune_id}"]').first.click()
    else:
        row.locator("a.parent-link").click()
    page.wait_for_url(f"**/units/{commune_id}")
    assert page.locator(f'#children tr[data-unit-id="{branch_id}"]').count() == 1
    _fits(page, viewport)

    # The branch: its state and its timeline.
    page.locator(f'#children tr[data-unit-id="{branch_id}"] td.lead a').click()
    page.wait_for_url(f"**/units/{branch_id}")
    assert page.locator("#branch-state .state").count() == 1
    evaluations = page.locator("#timeline li.ev")
    (stored,) = live_server.sql(f"SELECT COUNT(*) FROM evaluation WHERE branch_id = {branch_id}")[0]
    assert evaluations.count() == min(stored, 24) > 0
    _fits(page, viewport)

    # The newest evaluation's result.
    evaluation_id = int(evaluations.first.get_attribute("data-evaluation-id"))
    evaluations.first.locator("h3 a").click()
    page.wait_for_url(f"**/evaluations/{evaluation_id}")
    assert page.locator("#verdict").is_visible()
    _fits(page, viewport)


def test_filters_update_the_list_and_the_address_and_back_works(
    screen, live_server: LiveServer, viewport: str
) -> None:  # type: ignore[no-untyped-def]
    page = screen
    page.goto("/dashboard")
    everything = page.locator("#flagged-list tbody tr").count()
    page.locator("#filter-box > summary").click()
    page.select_option("#f-state", "repeat")  # htmx submits on change
    page.wait_for_url(re.compile(r".*state=repeat.*"))
    page.wait_for_function(
        "() => [...document.querySelectorAll('#flagged-list tbody tr')]"
        ".every(tr => tr.querySelector('.state-repeat'))"
    )
    repeat = int(page.locator('#state-counts a[data-state="repeat"] strong').inner_text())
    assert page.locator("#flagged-list tbody tr").count() == repeat > 0
    assert page.locator("#f-state").input_value() == "repeat"
    _fits(page, viewport)

    page.go_back()
    page.wait_for_url(lambda url: "state=repeat" not in url)
    page.wait_for_function(
        f"() => document.querySelectorAll('#flagged-list tbody tr').length === {everything}"
    )


def test_where_to_act_draws_its_charts(screen, viewport: str) -> None:  # type: ignore[no-untyped-def]
    page = screen
    page.goto("/dashboard/where")
    assert page.locator("#rates-chart rect.bar, #rates-chart text.none").count() > 0
    assert page.locator("#trend-chart rect.bar").count() > 0
    assert page.locator("#rates-table tbody tr").count() > 0
    _fits(page, viewport)
    page.goto("/visits/ledger")
    assert page.locator("#ledger tbody tr").count() > 0
    _fits(page, viewport)
