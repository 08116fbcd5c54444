"""9. Offline search over a province's field pack (issue 22, item 4): a keystroke to its answer.

A demo province of ``BRANCHES`` branches (``seed-demo --months 1``); the demo cadre prepares
the phone for the field (the field pack of every branch goes to IndexedDB), opens the branch
search ``/evaluate`` and loses the signal (``context.set_offline(True)``): static/js/search.js
then lists and searches the pack on the phone. With the CPU slowed four times
(``Emulation.setCPUThrottlingRate``), a query is typed a character at a time; per keystroke,
the milliseconds from the ``input`` event to the list drawn again (the first mutation that
adds the results, then the next animation frame). Two queries: a commune's name (a few
hundred matches narrowing to dozens) and a branch code.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

from bench.browser import chromium, served, signed_in_context, wait_until
from bench.common import Figure, Report, chromium_missing, section

BRANCHES = 3000
CPU_SLOWDOWN = 4
TARGET_MS = 50.0

KEYSTROKE = """async (ch) => {
    const input = document.getElementById("q");
    const list = document.querySelector("#branch-offline [data-role=list]");
    const drawn = new Promise((resolve) => {
        const seen = new MutationObserver((records) => {
            if (records.some((r) => r.addedNodes.length)) { seen.disconnect(); resolve(); }
        });
        seen.observe(list, { childList: true });
    });
    const start = performance.now();
    input.value += ch;
    input.dispatchEvent(new Event("input", { bubbles: true }));
    await drawn;
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    return [performance.now() - start, list.children.length];
}"""


def run(report: Report) -> None:
    section(f"offline search: {BRANCHES} branches in the field pack, CPU ÷{CPU_SLOWDOWN}")
    missing = chromium_missing()
    if missing:
        report.add(Figure("offline_search", "keystroke → list", [], "ms", skipped=missing))
        return
    with (
        tempfile.TemporaryDirectory(prefix="coso-bench-search-") as tmp,
        served(Path(tmp), "search", branches=BRANCHES) as server,
        chromium(Path(tmp)) as browser,
    ):
        context = signed_in_context(browser, server, "cadre")
        page = context.new_page()
        page.goto("/")
        wait_until(page, "navigator.serviceWorker && navigator.serviceWorker.controller !== null")
        page.click("#prepare-field")
        wait_until(
            page,
            "!document.getElementById('prepare-field').disabled"
            " && /v\\d/.test(document.getElementById('field-ready').textContent)",
            timeout=120,
        )
        size = page.evaluate(
            "CosoOutbox.get('meta', 'fieldpack').then((p) => p.value.branches.length)"
        )
        branch = page.evaluate(
            "CosoOutbox.get('meta', 'fieldpack')"
            ".then((p) => p.value.branches[1234 % p.value.branches.length])"
        )
        page.goto("/evaluate")
        cdp = context.new_cdp_session(page)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
        context.set_offline(True)
        wait_until(page, "!document.getElementById('branch-offline').hidden", timeout=60)
        queries = [(branch["parent_name"] or branch["name"])[:12], branch["code"]]
        times: list[float] = []
        for query in queries:
            page.fill("#q", "")
            for ch in query:
                took, shown = page.evaluate(KEYSTROKE, ch)
                times.append(took)
                print(f"  {query!r} … {ch!r}: {took:.0f} ms, {shown} shown", flush=True)
        context.close()
    print(f"  pack: {size} branches; keystrokes: {len(times)}", flush=True)
    p95 = sorted(times)[max(0, int(len(times) * 0.95) - 1)]
    report.add(
        Figure(
            "offline_search",
            "keystroke → list drawn, p95",
            [p95],
            "ms",
            target=TARGET_MS,
            note=f"median {statistics.median(times):.0f} ms over {len(times)} keystrokes",
        )
    )
