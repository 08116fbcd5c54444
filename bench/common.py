"""What every benchmark shares: figures with their targets, timing helpers, the summary table.

A :class:`Figure` is one measured number (the median over several runs), the
limit it is held to, and the baseline measured in the same run that makes it
comparable across machines (absolute times on a shared 2-core box are noisy;
ratios to a same-run baseline much less so).
"""

from __future__ import annotations

import math
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # ``python bench/...`` as well as ``python -m bench``
    sys.path.insert(0, str(ROOT))

CHROMIUM = os.environ.get("COSO_CHROMIUM", "/usr/bin/chromium")
#: PostgreSQL for the benchmarks; each benchmark makes its own ``coso_bench_<name>`` database.
PG_BASE = os.environ.get("COSO_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/coso_bench")
SECRET = "bench-secret-not-for-production"
DEMO_PASSWORD = "coso-demo"


@dataclass
class Figure:
    """One measured figure: the median of its runs, against its target and its baseline."""

    bench: str
    name: str
    runs: list[float]
    unit: str
    target: float | None = None
    higher_is_better: bool = False
    baseline: float | None = None
    baseline_name: str = ""
    note: str = ""
    skipped: str = ""  # why the figure could not be measured
    decimals: int = 1

    @property
    def value(self) -> float:
        return statistics.median(self.runs) if self.runs else float("nan")

    @property
    def met(self) -> bool | None:
        if self.skipped or self.target is None or not self.runs:
            return None
        return self.value >= self.target if self.higher_is_better else self.value <= self.target

    @property
    def target_ratio(self) -> float | None:
        """value / target: ≥ 1 passes when higher is better, ≤ 1 when lower is better."""
        if self.target in (None, 0) or not self.runs:
            return None
        return self.value / self.target

    @property
    def baseline_ratio(self) -> float | None:
        if not self.baseline or not self.runs:
            return None
        return self.value / self.baseline

    def fmt(self, number: float | None) -> str:
        if number is None:
            return "–"
        return f"{number:,.{self.decimals}f}"

    def target_text(self) -> str:
        if self.target is None:
            return "(info)"
        return ("≥ " if self.higher_is_better else "≤ ") + f"{self.fmt(self.target)} {self.unit}"

    def verdict(self) -> str:
        if self.skipped:
            return "NOT RUN"
        return {True: "met", False: "MISSED", None: "–"}[self.met]

    def runs_text(self) -> str:
        return ", ".join(self.fmt(run) for run in self.runs)


@dataclass
class Report:
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        print(describe(figure), flush=True)
        return figure


def describe(fig: Figure) -> str:
    """One line as soon as a figure is measured: value, runs, target, ratios, verdict."""
    if fig.skipped:
        return f"  [{fig.bench}] {fig.name}: not run — {fig.skipped}"
    parts = [f"  [{fig.bench}] {fig.name}: {fig.fmt(fig.value)} {fig.unit}"]
    if len(fig.runs) > 1:
        parts.append(f"(median of {len(fig.runs)}: {fig.runs_text()})")
    parts.append(f"target {fig.target_text()}")
    if fig.target_ratio is not None:
        parts.append(f"= {fig.target_ratio:.2f}× target")
    if fig.baseline_ratio is not None:
        parts.append(
            f"; {fig.baseline_ratio:.2f}× {fig.baseline_name} ({fig.fmt(fig.baseline)} {fig.unit})"
        )
    if fig.note:
        parts.append(f"[{fig.note}]")
    parts.append(f"→ {fig.verdict()}")
    return " ".join(parts)


def summary_table(figures: Sequence[Figure]) -> str:
    """The table ``make bench`` ends with (also valid Markdown)."""
    head = ("benchmark", "figure", "median", "target", "× target", "× baseline (baseline)", "")
    rows = [head]
    for f in figures:
        if f.skipped:
            rows.append((f.bench, f.name, "not run", f.target_text(), "–", f.skipped, "NOT RUN"))
            continue
        base = "–"
        if f.baseline_ratio is not None:
            base = f"{f.baseline_ratio:.2f} ({f.fmt(f.baseline)} {f.unit} {f.baseline_name})"
        rows.append(
            (
                f.bench,
                f.name,
                f"{f.fmt(f.value)} {f.unit}",
                f.target_text(),
                f"{f.target_ratio:.2f}" if f.target_ratio is not None else "–",
                base,
                f.verdict(),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = []
    for n, row in enumerate(rows):
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
        if n == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


# ------------------------------------------------------------------ timing


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (``share`` in 0..1)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered) - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


@contextmanager
def stopwatch() -> Iterator[Callable[[], float]]:
    """``with stopwatch() as elapsed: ...; elapsed()`` — seconds, monotonic."""
    start = time.perf_counter()
    end: list[float] = []
    yield lambda: (end[0] if end else time.perf_counter()) - start
    end.append(time.perf_counter())


def cpu_baseline(rounds: int = 5) -> float:
    """Milliseconds to score 2,000 default-checklist evaluations in pure Python (median).

    Printed in the header so figures taken on different machines (or on one
    machine under different load) can be put side by side.
    """
    from coso.checklists.rules import DEFAULT_ITEMS
    from coso.judging import scoring

    items = [
        scoring.ItemSpec(i["code"], i["section"], i["weight"], i["critical"], i["kind"])
        for i in DEFAULT_ITEMS
    ]
    answers = {i["code"]: scoring.PASS for i in DEFAULT_ITEMS if i["kind"] == "choice"}
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for n in range(2000):
            scoring.score_evaluation(
                items,
                answers,
                members_total=20,
                members_present=10 + n % 10,
                topics_total=0,
                topics_covered=0,
            )
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


# ----------------------------------------------------------------- databases


def postgres_available() -> str:
    """'' when the benchmarks' PostgreSQL answers (its base database created if missing)."""
    from tests.support import pg_url

    base = pg_url(PG_BASE)
    name = base.rsplit("/", 1)[1].split("?")[0]
    server = base.rsplit("/", 1)[0] + "/postgres"
    try:
        engine = sa.create_engine(
            server, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
        )
        with engine.connect() as conn:
            query = sa.text("SELECT 1 FROM pg_database WHERE datname = :n")
            exists = conn.scalar(query, {"n": name})
            if not exists:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
    except Exception as exc:  # any failure means "not available"
        return f"PostgreSQL at {PG_BASE} not reachable ({type(exc).__name__})"
    return ""


def drop_database(url: str) -> None:
    """Drop a benchmark's PostgreSQL database (SQLite files go with their temp directory)."""
    if "postgres" not in url:
        return
    from tests.support import pg_url

    url = pg_url(url)
    name = url.rsplit("/", 1)[1]
    assert name.startswith("coso_bench"), name
    engine = sa.create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def server_env(database_url: str, home: Path, **extra: str) -> dict[str, str]:
    """The environment of a benchmarked app: its own database, no rate limit in the way."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET,
        "COSO_ENV": "development",
        "COSO_SYNC_LIMIT": "1000000 per minute",
        "HOME": str(home),
        **extra,
    }


def chromium_missing() -> str:
    """'' when Debian's Chromium is there; else why the browser benchmarks cannot run."""
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    return ""


def section(title: str) -> None:
    print(f"\n== {title} ==", flush=True)


# ------------------------------------------------------------- an API client


class Client:
    """A phone talking to the API over one keep-alive connection, with its own session cookie."""

    def __init__(self, port: int) -> None:
        import http.client

        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.cookies: dict[str, str] = {}
        self.csrf = ""
        self.errors = 0

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        import gzip

        sent = {"Accept-Encoding": "gzip", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        import http.client

        try:
            self.conn.request(method, path, body=body, headers=sent)
            response = self.conn.getresponse()
        except (ConnectionError, http.client.RemoteDisconnected):
            # gunicorn closed the idle keep-alive connection; the API is idempotent: resend.
            self.conn.close()
            self.conn.request(method, path, body=body, headers=sent)
            response = self.conn.getresponse()
        data = response.read()
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, value = cookie.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value.strip()
        if response.headers.get("Content-Encoding") == "gzip":
            data = gzip.decompress(data)
        return response.status, data

    def login(self, username: str, password: str = DEMO_PASSWORD) -> None:
        import json
        import re
        import urllib.parse

        _, page = self.request("GET", "/login")
        match = re.search(rb'name="csrf_token" value="([^"]+)"', page)
        assert match, "the login page carries a csrf_token"
        form = urllib.parse.urlencode(
            {"username": username, "password": password, "csrf_token": match.group(1).decode()}
        ).encode()
        status, _ = self.request(
            "POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert status in (302, 303), f"login as {username} answered {status}"
        status, data = self.request("GET", "/api/v1/session")
        assert status == 200, status
        self.csrf = json.loads(data)["csrf_token"]

    def get_json(self, path: str) -> object:
        import json

        status, data = self.request("GET", path)
        assert status == 200, (path, status)
        return json.loads(data)

    def sync(self, items: list[dict[str, object]]) -> list[dict[str, object]]:
        """Send a batch; a 5xx or 429 is retried after a pause, as the outbox does.

        Each retried answer is counted in ``self.errors`` (the API is idempotent:
        a resent batch never stores anything twice).
        """
        import json

        body = json.dumps({"device_id": "bench", "evaluations": items}).encode()
        for attempt in range(30):
            status, data = self.request(
                "POST",
                "/api/v1/sync",
                body,
                {"Content-Type": "application/json", "X-CSRFToken": self.csrf},
            )
            if status == 200:
                return json.loads(data)["results"]
            assert status >= 500 or status == 429, (status, data[:300])
            self.errors += 1
            time.sleep(min(2.0, 0.1 * 2**attempt))
        raise RuntimeError(f"the server kept answering {status}")

    def reconnect(self) -> None:
        """A new connection, same session: a phone that comes back on line later.

        gunicorn keeps a keep-alive connection on the worker that accepted it, so which
        worker serves which phone is decided when the phone connects, not per request.
        """
        import http.client

        self.conn.close()
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)

    def close(self) -> None:
        self.conn.close()
