"""4. Queue drain: 200 evaluations queued offline in Chromium, then online, until all are stored.

The demo cadre opens the app (service worker installed, signed in) in a
phone-sized Chromium profile; the browser goes offline
(``context.set_offline(True)``) and 200 valid evaluations are written into the
IndexedDB outbox through the app's own ``CosoOutbox.enqueue`` — what the
checklist's submit button calls (typing 200 forms would measure Playwright).
The badge must read 200. Then the browser goes online; the clock runs from
``set_offline(False)`` until the badge reads 0 *and* the server's database
holds all 200 (read directly). The page's ``online`` trigger drains the queue
in the outbox's own batches. Median of ``RUNS`` runs, each with 200 new
evaluations. The baseline is the same 200 sent straight to the API from Python
in the outbox's batch size, one after the other, timed in the same run.
"""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.browser import chromium, enqueue, served, signed_in_context, wait_until
from bench.common import Client, Figure, Report, chromium_missing, section
from bench.ingest import build_items

RUNS = 3
QUEUED = 200
OUTBOX_BATCH = 25  # static/js/outbox.js BATCH
TARGET_SECONDS = 10.0
BADGE = "document.getElementById('outbox-count').textContent.trim()"


def stored(server: Any, items: list[dict[str, Any]]) -> int:
    quoted = ", ".join(f"'{item['uuid']}'" for item in items)
    return server.sql(f"SELECT count(*) FROM evaluation WHERE uuid IN ({quoted})")[0][0]


def run(report: Report) -> None:
    section(f"queue drain: {QUEUED} evaluations queued offline in Chromium, {RUNS} runs")
    missing = chromium_missing()
    if missing:
        report.add(Figure("drain", f"{QUEUED} queued → 0", [], "s", skipped=missing))
        return
    rng = random.Random(4)
    times: list[float] = []
    direct: list[float] = []
    with (
        tempfile.TemporaryDirectory(prefix="coso-bench-drain-") as tmp,
        served(Path(tmp), "drain") as server,
        chromium(Path(tmp)) as browser,
    ):
        client = Client(server.port)
        client.login("cadre")
        pack: Any = client.get_json("/api/v1/field-pack")
        branches = [b["id"] for b in pack["branches"]]
        names = {b["id"]: b["name"] for b in pack["branches"]}
        template = pack["templates"][0]["id"]
        user_id = pack["user"]["id"]
        context = signed_in_context(browser, server, "cadre")
        page = context.new_page()
        page.goto("/")
        wait_until(page, "navigator.serviceWorker && navigator.serviceWorker.controller !== null")
        for _ in range(RUNS):
            # The baseline: the same amount straight to the API.
            items = build_items(branches, template, QUEUED, rng)
            start = time.perf_counter()
            for i in range(0, QUEUED, OUTBOX_BATCH):
                client.sync(items[i : i + OUTBOX_BATCH])
            direct.append(time.perf_counter() - start)
            # The phone: queue offline, then online.
            items = build_items(branches, template, QUEUED, rng)
            context.set_offline(True)
            enqueue(page, items, names, user_id)
            wait_until(page, f"{BADGE} === '{QUEUED}'", timeout=30)
            assert stored(server, items) == 0, "nothing may reach the server while offline"
            start = time.perf_counter()
            context.set_offline(False)
            wait_until(page, f"{BADGE} === '0'", timeout=120, step_ms=20)
            while stored(server, items) < QUEUED:
                if time.perf_counter() - start > 120:
                    raise TimeoutError("the server never held all the evaluations")
                page.wait_for_timeout(20)
            times.append(time.perf_counter() - start)
            print(f"  drained {QUEUED} in {times[-1]:.2f} s", flush=True)
        context.close()
        client.close()
    report.add(
        Figure(
            "drain",
            f"{QUEUED} queued offline → badge 0, all stored",
            times,
            "s",
            target=TARGET_SECONDS,
            baseline=sorted(direct)[len(direct) // 2],
            baseline_name=f"straight to the API in batches of {OUTBOX_BATCH}",
            decimals=2,
        )
    )
