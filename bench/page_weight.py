"""3. Page weight: the cadre's checklist page in real Chromium, first load and offline repeat.

A fresh profile (empty HTTP cache, no service worker) signed in as the demo
cadre opens one branch's checklist (``/evaluate/<id>``). Every response that
came over the network is counted with Playwright's ``request.sizes()``:
response headers plus the body as received (compressed). Reported:

- the page's own first load (the document and every subresource it pulled);
- the HTML document alone (compressed body);
- as information, the whole first visit once the service worker has
  installed and precached its shell (it re-reads hashed assets through the
  HTTP cache, and fetches five shell pages);
- the repeat visit offline (the page was opened online once more, under the
  service worker, then ``context.set_offline(True)`` and open it again): bytes from the
  network (responses the service worker or the caches served count 0), and the
  checklist must render.

The baseline is the same first load's decoded size (what it would weigh
without compression). Bytes do not depend on load; each figure is still the
median of ``RUNS`` fresh profiles. Also checked: every static asset URL carries
a content hash and a year-long cache.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from bench.browser import chromium, served, signed_in_context, wait_until
from bench.common import Figure, Report, chromium_missing, section

RUNS = 3
TARGET_TOTAL_KB = 60.0
TARGET_HTML_KB = 14.0
YEAR = 365 * 24 * 3600


class Counter:
    """Responses of a context, as they finish."""

    def __init__(self, context: Any) -> None:
        self.requests: list[Any] = []
        self.failed: list[Any] = []
        context.on("requestfinished", lambda request: self.requests.append(request))
        context.on("requestfailed", lambda request: self.failed.append(request))

    def reset(self) -> None:
        self.requests.clear()
        self.failed.clear()

    def tally(self, page_only: bool = False) -> dict[str, Any]:
        """Bytes over the wire (headers + encoded body) and decoded, of network responses."""
        wire = decoded = html = 0
        rows = []
        for request in self.requests:
            if page_only and request.service_worker is not None:
                continue
            response = request.response()
            if response is None or response.from_service_worker:
                continue
            sizes = request.sizes()
            body = sizes["responseBodySize"]
            if body <= 0 and sizes["responseHeadersSize"] <= 0:
                continue  # memory or disk cache: nothing came over the wire
            size = sizes["responseHeadersSize"] + body
            wire += size
            try:
                decoded += len(response.body()) + sizes["responseHeadersSize"]
            except Exception:  # the body of a redirect or a worker's fetch is not kept
                decoded += size
            if request.resource_type == "document" and request.service_worker is None:
                html += body
            rows.append((request.url, size, response.headers))
        return {"wire": wire, "decoded": decoded, "html": html, "rows": rows}


def one_run(browser: Any, server: Any, branch_id: int) -> dict[str, float]:
    context = signed_in_context(browser, server, "cadre")
    try:
        counter = Counter(context)
        page = context.new_page()
        path = f"/evaluate/{branch_id}"
        page.goto(path, wait_until="load")
        page.wait_for_selector("#checklist:not([hidden])")
        page.wait_for_load_state("networkidle")
        first = counter.tally(page_only=True)
        for url, _, headers in first["rows"]:
            if "/static/" in url:
                control = headers.get("cache-control", "")
                assert f"max-age={YEAR}" in control, f"{url}: Cache-Control {control!r}"
                assert "?v=" in url or any(c.isdigit() for c in url.rsplit("/", 1)[1]), url
        # The service worker takes control and precaches its shell.
        wait_until(page, "navigator.serviceWorker && navigator.serviceWorker.controller !== null")
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(500)
        visit = counter.tally()
        # A second visit online, now through the worker (which keeps the page), then offline.
        page.goto(path, wait_until="load")
        page.wait_for_selector("#checklist:not([hidden])")
        context.set_offline(True)
        counter.reset()
        page.goto(path, wait_until="load")
        page.wait_for_selector("#checklist:not([hidden])")
        page.wait_for_timeout(300)
        offline = counter.tally()
        return {
            "total": first["wire"] / 1024,
            "html": first["html"] / 1024,
            "decoded": first["decoded"] / 1024,
            "visit": visit["wire"] / 1024,
            "offline": offline["wire"] / 1024,
            "requests": len(first["rows"]),
        }
    finally:
        context.close()


def run(report: Report) -> None:
    section(f"page weight: the checklist page in Chromium, {RUNS} fresh profiles")
    missing = chromium_missing()
    if missing:
        for name in ("first load, total", "first load, HTML", "repeat visit offline"):
            report.add(Figure("page weight", name, [], "KB", skipped=missing))
        return
    with (
        tempfile.TemporaryDirectory(prefix="coso-bench-weight-") as tmp,
        served(Path(tmp), "weight") as server,
        chromium(Path(tmp)) as browser,
    ):
        branch = server.sql("SELECT min(id) FROM unit WHERE kind = 'branch' AND active")[0][0]
        runs = [one_run(browser, server, branch) for _ in range(RUNS)]
    decoded = sorted(r["decoded"] for r in runs)[len(runs) // 2]
    print(f"  {int(runs[0]['requests'])} responses over the network on first load", flush=True)
    report.add(
        Figure(
            "page weight",
            "first load, total (compressed)",
            [r["total"] for r in runs],
            "KB",
            target=TARGET_TOTAL_KB,
            baseline=decoded,
            baseline_name="uncompressed",
        )
    )
    report.add(
        Figure(
            "page weight",
            "first load, HTML (compressed)",
            [r["html"] for r in runs],
            "KB",
            target=TARGET_HTML_KB,
        )
    )
    report.add(
        Figure(
            "page weight",
            "first visit incl. service-worker precache",
            [r["visit"] for r in runs],
            "KB",
        )
    )
    report.add(
        Figure(
            "page weight",
            "repeat visit offline, from the network",
            [r["offline"] for r in runs],
            "KB",
            target=0.0,
        )
    )
