"""5. Lighthouse (mobile) on every page a cadre or a branch secretary uses.

Lighthouse (pinned in ``bench/package.json``, installed by ``make bench`` into
``bench/node_modules`` with ``npm ci``) drives Debian's Chromium
(``CHROME_PATH``, flags ``--headless=new --no-sandbox --disable-gpu``) against
the demo province served by gunicorn: form factor mobile, its default
throttling (simulated: slow 4G, 4× CPU slowdown), categories performance and
accessibility. Each page is opened by a fresh Chromium with a fresh session,
opened outside the browser through the API client and handed over as a
``Cookie`` in ``--extra-headers`` (so the profile is cold: no HTTP cache, no
service worker).

Printed per page: both scores, and every audit that held a score down.
Targets: performance ≥ 0.95 and accessibility = 1.00 on every page; the summary
line gives the lowest of each against its target. ``COSO_LIGHTHOUSE_RUNS``
(default 3) sets how many times each page is run; each figure is the median.
``COSO_LIGHTHOUSE_KEEP=<folder>`` keeps every JSON report there (open one in
the Lighthouse viewer, or read its ``audits``).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.browser import served
from bench.common import CHROMIUM, Client, Figure, Report, chromium_missing, section

HERE = Path(__file__).resolve().parent
CLI = HERE / "node_modules" / "lighthouse" / "cli" / "index.js"
RUNS = max(1, int(os.environ.get("COSO_LIGHTHOUSE_RUNS", "3")))
KEEP = os.environ.get("COSO_LIGHTHOUSE_KEEP", "")
TARGET_PERFORMANCE = 0.95
TARGET_ACCESSIBILITY = 1.0
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu"
CATEGORIES = ("performance", "accessibility")

#: (who, what, path): the pages a cadre and a branch secretary use.
PAGES = (
    ("cadre", "home", "/"),
    ("cadre", "checklist", "/evaluate/{branch}"),
    ("cadre", "result", "/evaluations/{mine}"),
    ("cadre", "outbox", "/outbox"),
    ("cadre", "visits", "/visits"),
    ("secretary", "home", "/"),
    ("secretary", "feedback list", "/feedback"),
    ("secretary", "feedback item", "/feedback/{theirs}"),
    ("secretary", "actions", "/feedback/actions"),
)


def lighthouse_missing() -> str:
    """'' when Lighthouse can run; else why not."""
    missing = chromium_missing()
    if missing:
        return missing
    if shutil.which("node") is None:
        return "node not found (apt-get install nodejs npm)"
    if not CLI.exists():
        return "Lighthouse not installed (npm ci --prefix bench, as make bench does)"
    return ""


def page_ids(server: Any) -> dict[str, int]:
    """A branch, the newest evaluation of the cadre, the newest one of the secretary's branch."""
    branch = server.sql("SELECT min(id) FROM unit WHERE kind = 'branch' AND active")[0][0]
    mine = server.sql(
        "SELECT max(e.id) FROM evaluation e JOIN user u ON u.id = e.cadre_id "
        "WHERE u.username = 'cadre'"
    )[0][0]
    theirs = server.sql(
        "SELECT max(e.id) FROM evaluation e JOIN user u ON u.unit_id = e.branch_id "
        "WHERE u.username = 'secretary'"
    )[0][0]
    return {"branch": branch, "mine": mine, "theirs": theirs}


def session_cookie(server: Any, username: str) -> str:
    """A ``Cookie`` header value holding a session opened outside the browser."""
    client = Client(server.port)
    client.login(username)
    client.close()
    return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


def lighthouse(url: str, cookie: str, out: Path, home: Path) -> dict[str, Any]:
    """One Lighthouse run (mobile, default simulated throttling); its JSON report (lhr).

    ``cookie`` (a ``Cookie`` header value, may be empty) goes with every request.
    """
    command = [
        "node",
        str(CLI),
        url,
        "--quiet",
        "--output=json",
        f"--output-path={out}",
        f"--only-categories={','.join(CATEGORIES)}",
        "--form-factor=mobile",
        "--throttling-method=simulate",
        f"--chrome-flags={CHROME_FLAGS}",
    ]
    if cookie:
        command.append(f"--extra-headers={json.dumps({'Cookie': cookie})}")
    env = {**os.environ, "CHROME_PATH": CHROMIUM, "HOME": str(home)}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    if result.returncode != 0 or not out.exists():
        failed = f"lighthouse {url} failed ({result.returncode})"
        raise RuntimeError(f"{failed}:\n{result.stderr[-2000:]}")
    report: dict[str, Any] = json.loads(out.read_text())
    if report.get("runtimeError"):
        raise RuntimeError(f"lighthouse {url}: {report['runtimeError']}")
    return report


def failing_audits(report: dict[str, Any], category: str) -> list[str]:
    """The scored audits of a category that did not pass, heaviest first, as short lines."""
    audits = report["audits"]
    rows = []
    for ref in report["categories"][category]["auditRefs"]:
        audit = audits[ref["id"]]
        score = audit.get("score")
        mode = audit.get("scoreDisplayMode")
        if score is None or mode in ("notApplicable", "manual", "informative"):
            continue
        threshold = 0.9 if category == "performance" else 1.0
        if score >= threshold:
            continue
        value = f" ({audit['displayValue']})" if audit.get("displayValue") else ""
        rows.append((ref.get("weight", 0), f"{ref['id']} {score:.2f}{value}: {audit['title']}"))
    return [text for _, text in sorted(rows, key=lambda r: -r[0])]


def metrics(report: dict[str, Any]) -> str:
    """The performance metrics, as Lighthouse displays them."""
    names = ("first-contentful-paint", "largest-contentful-paint", "total-blocking-time")
    names += ("cumulative-layout-shift", "speed-index")
    short = ("FCP", "LCP", "TBT", "CLS", "SI")
    audits = report["audits"]
    return ", ".join(
        f"{s} {audits[n].get('displayValue', '?')}"
        for s, n in zip(short, names, strict=True)
        if n in audits
    )


BARE_PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1"><title>bare</title>'
    "</head><body><main><h1>Bare page</h1><p>No script, no stylesheet.</p></main></body></html>"
)


@contextmanager
def bare_page(folder: Path) -> Iterator[str]:
    """A page with nothing to do, served from 127.0.0.1: the same run's floor."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "index.html").write_text(BARE_PAGE)
    handler = partial(QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def run(report: Report) -> None:
    section(f"lighthouse: mobile, simulated throttling, {len(PAGES)} pages × {RUNS} run(s)")
    missing = lighthouse_missing()
    if missing:
        for category in CATEGORIES:
            report.add(Figure("lighthouse", f"lowest {category}", [], "", skipped=missing))
        return
    targets = {"performance": TARGET_PERFORMANCE, "accessibility": TARGET_ACCESSIBILITY}
    lowest = {category: 1.0 for category in CATEGORIES}
    with tempfile.TemporaryDirectory(prefix="coso-bench-lighthouse-") as tmp:
        keep = Path(KEEP or tmp)
        with bare_page(Path(tmp) / "bare") as url:
            bare = []
            for attempt in range(RUNS):
                lhr = lighthouse(url, "", keep / f"bare-page-{attempt}.json", Path(tmp))
                bare.append(float(lhr["categories"]["performance"]["score"] or 0))
                print(f"  bare page: {metrics(lhr)}; {cpu_note(lhr)}", flush=True)
        floor = statistics.median(bare)
        print(f"  bare page performance (the floor of this run): {floor:.2f}", flush=True)
        with served(Path(tmp), "lighthouse") as server:
            ids = page_ids(server)
            for username, name, path in PAGES:
                url = server.url + path.format(**ids)
                scores: dict[str, list[float]] = {category: [] for category in CATEGORIES}
                runs = []
                for attempt in range(RUNS):
                    out = keep / f"{username}-{name.replace(' ', '-')}-{attempt}.json"
                    lhr = lighthouse(url, session_cookie(server, username), out, Path(tmp))
                    if lhr["finalDisplayedUrl"].rstrip("/").endswith("/login"):
                        raise RuntimeError(f"{url}: not signed in (sent to the login page)")
                    for category in CATEGORIES:
                        scores[category].append(float(lhr["categories"][category]["score"] or 0))
                    runs.append(lhr)
                # The failing audits of the median run (by performance score).
                median = sorted(runs, key=lambda r: r["categories"]["performance"]["score"])
                lhr = median[len(median) // 2]
                index = statistics.median(r["environment"].get("benchmarkIndex", 0) for r in runs)
                print(
                    f"  {username} {name} ({path.format(**ids)}): {metrics(lhr)}; "
                    f"benchmarkIndex {index:.0f}",
                    flush=True,
                )
                for category in CATEGORIES:
                    figure = report.add(
                        Figure(
                            "lighthouse",
                            f"{username} {name}: {category}",
                            scores[category],
                            "",
                            target=targets[category],
                            higher_is_better=True,
                            baseline=floor if category == "performance" else None,
                            baseline_name="bare page",
                            decimals=2,
                        )
                    )
                    lowest[category] = min(lowest[category], figure.value)
                    for line in failing_audits(lhr, category):
                        print(f"      {line}", flush=True)
    print(
        "  lowest: "
        + "; ".join(
            f"{category} {lowest[category]:.2f} / {targets[category]:.2f} = "
            f"{lowest[category] / targets[category]:.2f}× target"
            for category in CATEGORIES
        )
        + f" (bare page {floor:.2f})",
        flush=True,
    )


def cpu_note(lhr: dict[str, Any]) -> str:
    """Lighthouse's own CPU benchmark of this machine (higher is faster; its mobile
    throttling assumes a desktop-class index, roughly 1,000 and up)."""
    return f"benchmarkIndex {lhr['environment'].get('benchmarkIndex', 0):.0f}"
