"""Issue 16, item 11, measured in a real Chromium as the demo province user, on a 360x740 phone
and a 1366x768 laptop, over every province and administration page:

- no word is broken mid-word ("Thán/g"): words break only when one cannot fit a line;
- the charts' labels are at least 12 px and none overlaps another;
- the flagged list on a phone is a compact row per branch (25 rows within 4 screens), and so are
  the rates of /dashboard/where, the visit ledger and a unit's units;
- a laptop gives its width to the tables (the main column is at least 1200 px wide), while a
  paragraph keeps a readable line.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import LiveServer, login

VIEWPORTS = {"phone": {"width": 360, "height": 740}, "laptop": {"width": 1366, "height": 768}}

#: The province user's pages; {commune} and {branch} are filled from the database.
PAGES = [
    "/",
    "/dashboard",
    "/dashboard?state=all",
    "/dashboard/where",
    "/dashboard/practices",
    "/visits/ledger",
    "/units/{commune}",
    "/units/{branch}",
    "/admin/",
]

#: Every run of letters (with their marks) or digits split over two lines, with where it is.
BROKEN_WORDS = r"""
() => {
  const broken = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const word = /[\p{L}\p{M}\p{N}]{2,}/gu;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || el.closest("script, style, template, noscript")) continue;
    for (const m of node.data.matchAll(word)) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const lines = new Set([...range.getClientRects()].filter((r) => r.width > 0)
        .map((r) => Math.round(r.bottom)));
      const where = `<${el.tagName.toLowerCase()} class="${el.className}">`;
      if (lines.size > 1) broken.push(`${m[0]} in ${where}`);
    }
  }
  return broken;
}
"""

#: Elements whose computed style lets a word break anywhere.
BREAK_ANYWHERE = """
() => [document.body, ...document.body.querySelectorAll("*")]
  .filter((el) => { const s = getComputedStyle(el);
    return s.overflowWrap === "anywhere" || s.wordBreak === "break-all"; })
  .map((el) => el.tagName.toLowerCase() + "." + el.className)
"""

#: Each chart's text labels: the size they are drawn at in CSS px, and their boxes.
CHART_LABELS = """
(id) => {
  const svg = document.getElementById(id);
  const box = svg.getBoundingClientRect();
  const scale = box.width / svg.viewBox.baseVal.width;
  return {
    svg: {left: box.left, right: box.right},
    labels: [...svg.querySelectorAll("text")].map((t) => {
      const r = t.getBoundingClientRect();
      return {text: t.textContent, px: parseFloat(getComputedStyle(t).fontSize) * scale,
              left: r.left, right: r.right, top: r.top, bottom: r.bottom};
    }),
  };
}
"""


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def screen(browser, live_server: LiveServer, viewport: str):  # type: ignore[no-untyped-def]
    ctx = browser.new_context(
        viewport=VIEWPORTS[viewport], base_url=live_server.url, locale="vi-VN"
    )
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    login(page, "province")
    yield page
    ctx.close()


def _pages(live_server: LiveServer, page) -> list[str]:  # type: ignore[no-untyped-def]
    """PAGES, then every administration section the province user's /admin/ offers."""
    ((commune,),) = live_server.sql(
        "SELECT id FROM unit WHERE kind = 'commune' ORDER BY id LIMIT 1"
    )
    ((branch,),) = live_server.sql(  # the branch with the longest timeline
        "SELECT branch_id FROM evaluation GROUP BY branch_id"
        " ORDER BY COUNT(*) DESC, branch_id LIMIT 1"
    )
    page.goto("/admin/")
    sections = page.eval_on_selector_all("#admin a.tile", "els => els.map(a => a.pathname)")
    assert len(sections) >= 3, sections
    return [p.format(commune=commune, branch=branch) for p in PAGES] + sections


def test_no_word_is_broken_mid_word(screen, live_server: LiveServer, viewport: str) -> None:  # type: ignore[no-untyped-def]
    page = screen
    width = VIEWPORTS[viewport]["width"]
    for path in _pages(live_server, page):
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        assert page.evaluate(BREAK_ANYWHERE) == [], path
        assert page.evaluate(BROKEN_WORDS) == [], path
        assert page.evaluate("document.documentElement.scrollWidth") <= width, path


def _overlap(a: dict, b: dict) -> bool:
    return (
        min(a["right"], b["right"]) - max(a["left"], b["left"]) > 0.5
        and min(a["bottom"], b["bottom"]) - max(a["top"], b["top"]) > 0.5
    )


def test_chart_labels_are_readable_and_apart(screen, viewport: str) -> None:  # type: ignore[no-untyped-def]
    page = screen
    page.goto("/dashboard/where")
    for chart in ("trend-chart", "rates-chart"):
        drawn = page.evaluate(CHART_LABELS, chart)
        labels = drawn["labels"]
        assert len(labels) >= (12 if chart == "trend-chart" else 2), chart
        for label in labels:
            assert label["px"] >= 12, (chart, label)
            assert drawn["svg"]["left"] - 1 <= label["left"], (chart, label)
            assert label["right"] <= drawn["svg"]["right"] + 1, (chart, label)
        for i, a in enumerate(labels):
            for b in labels[i + 1 :]:
                assert not _overlap(a, b), (chart, a, b)
    # Every month's figures are also in a table (what a screen reader reads).
    assert page.locator("#trend-table tbody tr").count() == 12
    assert page.locator("#trend-chart").get_attribute("role") == "img"


@pytest.mark.parametrize("viewport", ["phone"])  # the compact rows are the phone's
def test_the_flagged_list_is_compact_on_a_phone(screen, viewport: str) -> None:  # type: ignore[no-untyped-def]
    page = screen
    page.goto("/dashboard?state=all")
    rows = page.locator("#flagged-list tbody tr")
    count = rows.count()
    assert count >= 10
    height = page.locator("#flagged-list").bounding_box()["height"]
    screen_height = VIEWPORTS["phone"]["height"]
    assert height / count * 25 <= 4 * screen_height, f"{height / count:.0f} px a row"
    # Each row still says its name, its state and (in one line) why.
    for i in range(count):
        row = rows.nth(i)
        assert row.locator("td.lead a").is_visible()
        assert row.locator(".state").is_visible()
        why = row.locator(".col-why .reasons")
        if why.count():
            line = page.evaluate("parseFloat(getComputedStyle(document.body).lineHeight) || 25")
            assert why.bounding_box()["height"] <= 1.5 * line


#: The province's other tables, compact on a phone like the flagged list (issue 16, item 11):
#: (page, table, the cells every row shows on its first line).
COMPACT_TABLES = [
    ("/dashboard/where", "rates-table", ("td.lead a", "td.key")),
    ("/visits/ledger", "ledger", ("td.lead a",)),
    ("/units/{province}", "children", ("td.lead a",)),
    ("/units/{commune}", "children", ("td.lead a",)),
]


@pytest.mark.parametrize("viewport", ["phone"])  # the compact rows are the phone's
@pytest.mark.parametrize(("path", "table", "first_line"), COMPACT_TABLES)
def test_the_province_tables_are_compact_on_a_phone(  # type: ignore[no-untyped-def]
    screen, live_server: LiveServer, viewport: str, path: str, table: str, first_line: tuple
) -> None:
    """A compact row per unit (25 rows within 4 screens), not a card of labelled lines: the name
    (and the figure to scan by) on one line, the other figures in one small line under it."""
    page = screen
    ((province,),) = live_server.sql("SELECT id FROM unit WHERE kind = 'province' LIMIT 1")
    ((commune,),) = live_server.sql(
        "SELECT id FROM unit WHERE kind = 'commune' ORDER BY id LIMIT 1"
    )
    page.goto(path.format(province=province, commune=commune))
    rows = page.locator(f"#{table} tbody tr")
    count = rows.count()
    assert count >= 2, (path, table)
    height = page.locator(f"#{table} tbody").bounding_box()["height"]
    screen_height = VIEWPORTS["phone"]["height"]
    assert height / count * 25 <= 4 * screen_height, (
        f"{path} #{table}: {height / count:.0f} px a row"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS["phone"]["width"]
    line = page.evaluate("parseFloat(getComputedStyle(document.body).lineHeight) || 25")
    for i in range(count):
        row = rows.nth(i)
        boxes = [row.locator(cell).first.bounding_box() for cell in first_line]
        for box in boxes:
            assert box is not None and box["height"] > 0, (path, table, i)
        # The name and the key figure (if any) share the first line.
        assert max(b["y"] for b in boxes) - min(b["y"] for b in boxes) < line, (path, table, i)
        # Every other figure is still shown, with the word that says what it counts.
        for cell in row.locator("td[data-short]").all():
            if cell.is_visible():
                shown = cell.evaluate("(td) => getComputedStyle(td, '::after').content")
                assert shown.strip('"').strip() == cell.get_attribute("data-short"), (path, table)


@pytest.mark.parametrize("viewport", ["laptop"])  # the wide column is the laptop's
def test_a_laptop_uses_its_width(screen, live_server: LiveServer, viewport: str) -> None:  # type: ignore[no-untyped-def]
    page = screen
    inner = """() => { const m = document.getElementById("main"); const s = getComputedStyle(m);
      return m.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight); }"""
    for path in _pages(live_server, page):
        page.goto(path)
        assert page.evaluate(inner) >= 1200, path
        # Prose keeps a readable line: no paragraph outside a table wider than ~60 em.
        widest = page.evaluate(
            """() => Math.max(0, ...[...document.querySelectorAll("#main p")]
              .filter((p) => !p.closest("table, .toolbar"))
              .map((p) => p.getBoundingClientRect().width))"""
        )
        assert widest <= 60 * 17, path
    page.goto("/dashboard?state=all")
    assert page.locator("#flagged-list").bounding_box()["width"] >= 1200
    page.goto("/dashboard/where")
    assert page.locator("#rates-table").bounding_box()["width"] >= 1200
