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

from tests.browser.conftest import LiveServer, login

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
  const read = Element.prototype.getBoundingClientRect;
  Element.prototype.getBoundingClientRect = function () {
    if (inDcl) window.__watch.layoutReads.push(this.tagName + "." + this.className);
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
