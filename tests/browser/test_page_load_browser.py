"""What Lighthouse found holding the first load back (issue 16, item 17), kept from coming back.

`make bench` runs Lighthouse itself (bench/lighthouse.py); these are the cheap checks of the
two defects it found in our scripts, on the 360x740 phone profile:

- menu.js read the bar's size while DOMContentLoaded ran, which forces a layout of the whole
  page before the browser would do it (Lighthouse's "forced reflow", 140 ms on the checklist);
- the home page's "ready for the field" line was dated with ``toLocaleString()``, whose first
  call loads the locale's data (100 ms of main thread).
"""

from __future__ import annotations

import re

from tests.browser.conftest import PHONE, LiveServer, login

# Counts layout reads made while the deferred scripts and DOMContentLoaded's listeners run,
# and calls of toLocaleString().
WATCH = """
(() => {
  window.__watch = {layoutReads: [], locale: 0};
  // From the end of parsing (the deferred scripts run, then DOMContentLoaded's listeners) to
  // the last listener (bubbling up to the window): a layout read in between forces a layout of
  // the whole page before the browser would have made its first one.
  let inDcl = false;
  document.addEventListener("readystatechange", () => {
    if (document.readyState === "interactive") inDcl = true;
  });
  window.addEventListener("DOMContentLoaded", () => { inDcl = false; });
  // A ResizeObserver reports after the browser's own layout: a read in its callback forces
  // nothing, even when a busy machine lets a frame through between two deferred scripts.
  let inObserver = 0;
  const Observer = window.ResizeObserver;
  window.ResizeObserver = class extends Observer {
    constructor(callback) {
      super((...args) => {
        inObserver += 1;
        try { callback(...args); } finally { inObserver -= 1; }
      });
    }
  };
  const read = Element.prototype.getBoundingClientRect;
  Element.prototype.getBoundingClientRect = function () {
    if (inDcl && !inObserver) window.__watch.layoutReads.push(this.tagName + "." + this.className);
    return read.call(this);
  };
  const localeString = Date.prototype.toLocaleString;
  Date.prototype.toLocaleString = function (...args) {
    window.__watch.locale += 1;
    return localeString.apply(this, args);
  };
})();
"""


def _branch(live_server: LiveServer) -> int:
    return live_server.sql("SELECT id FROM unit WHERE kind = 'branch' AND active ORDER BY id")[0][0]


def test_the_bar_is_measured_after_layout_not_during_it(page, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    page.context.add_init_script(WATCH)
    login(page, "cadre")
    page.goto(f"/evaluate/{_branch(live_server)}")
    page.wait_for_function(
        "getComputedStyle(document.documentElement).getPropertyValue('--bar') !== ''"
    )
    assert page.evaluate("window.__watch.layoutReads") == []
    # --bar still holds the bar's real height (the progress line pins itself under it).
    bar = page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--bar')")
    height = page.evaluate(
        "Math.ceil(document.querySelector('header.top').getBoundingClientRect().height)"
    )
    assert bar.strip() == f"{height}px"


def test_the_field_line_is_dated_without_locale_data(page, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    page.context.add_init_script(WATCH)
    login(page, "cadre")
    page.goto("/")
    page.wait_for_function("/v\\d/.test(document.getElementById('field-ready').textContent)")
    text = page.locator("#field-ready").text_content() or ""
    # vi: "05/12/2026 12:27", as the server's |date writes a moment (CosoFormat.dateTime).
    assert re.search(r"\b\d{2}/\d{2}/\d{4} \d{2}:\d{2}\b", text), text
    assert page.evaluate("window.__watch.locale") == 0


#: Every layout shift of the page so far that no input caused (what Lighthouse's CLS adds up),
#: with the elements that moved.
SHIFTS = """
() => new Promise((resolve) => {
  const seen = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.hadRecentInput) continue;
      const moved = (e.sources || []).map((s) => s.node
        ? (s.node.id ? "#" + s.node.id : s.node.nodeName + "." + (s.node.className || "")) : "?");
      seen.push({value: e.value, moved});
    }
  }).observe({type: "layout-shift", buffered: true});
  setTimeout(() => resolve(seen), 100);
})
"""


def _settled(page) -> None:  # type: ignore[no-untyped-def]
    """What the scripts fill in after the load is there: the field line, the outbox lists."""
    page.wait_for_load_state("load")
    if page.locator("#field-ready").count():
        page.wait_for_function(
            "/v\\d|chưa được chuẩn bị/.test(document.getElementById('field-ready').textContent)"
        )
    if page.locator("#outbox-list").count():
        page.wait_for_function(
            "!document.querySelector('#outbox-list .reading, #sent-list .reading')"
        )
    page.wait_for_function(
        "document.getElementById('outbox-count') === null"
        " || document.getElementById('outbox-count').textContent !== ''"
    )


def test_nothing_moves_once_drawn(browser, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    """Issue 16, item 17: no layout shift on the cadre's and the secretary's pages as their
    scripts fill in the field line, the outbox badge and lists, or a notice; Lighthouse counted
    the field line pushing the home page down (CLS 0.06) and the outbox lists the foot."""
    branch = _branch(live_server)
    evaluation = live_server.sql("SELECT max(id) FROM evaluation")[0][0]
    pages = {
        "cadre": ["/", "/outbox", f"/evaluate/{branch}", f"/evaluations/{evaluation}", "/visits"],
        "secretary": ["/", "/feedback", "/feedback/actions"],
    }
    for username, paths in pages.items():
        context = browser.new_context(viewport=PHONE, base_url=live_server.url, locale="vi-VN")
        context.set_default_timeout(20_000)
        try:
            page = context.new_page()
            login(page, username)
            for path in paths:
                page.goto(path)
                _settled(page)
                shifts = page.evaluate(SHIFTS)
                assert shifts == [], (username, path, shifts)
        finally:
            context.close()
