"""2. Province dashboard: the flagged list and the rates page on a generated province.

``seed-demo --branches 3000 --months 56`` loads about 140,000 evaluations
(about 3 million answers). The pages are measured *at the server*: the real app,
in this process, through Flask's test client (routing, login, queries,
templates and compression — everything but the network), logged in as the
demo province user, with the app's long-lived objects frozen out of the garbage
collector's way (``gc.freeze()``, as ``gunicorn.conf.py`` does in each worker).
After a warm-up, ``ROUNDS`` rounds of ``SAMPLES`` requests per page
(interleaved); p50 and p95 are taken per round and the median of the rounds is
reported. The baseline is ``GET /healthz`` (one database round trip)
timed the same way.

Then the same branches get four times the evaluations: three more copies of
every evaluation row, each shifted ``MONTHS`` months further into the past,
inserted with ``INSERT … SELECT`` (new ids and UUIDs). Their answers are not
copied: the list never reads answers, and copying 9.5 million answer rows
would take minutes of the ten ``make bench`` may use. Older meetings decide no
branch's current state, so the branch-status rows stay as seeded. The list is
measured again; its p50 may not grow by more than 20 % (each p50 is taken
relative to the same round's ``/healthz`` p50, so that a change in machine
load between the two measurements does not read as growth).

SQLite and PostgreSQL by default (issue 22, item 3: a regression on either database
shows); ``COSO_BENCH_DASHBOARD=sqlite`` (or ``postgresql``) runs one. Without a reachable
PostgreSQL its figures say *not run*. Seeding PostgreSQL takes about twice as long.
"""

from __future__ import annotations

import gc
import os
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.common import (
    PG_BASE,
    SECRET,
    Figure,
    Report,
    drop_database,
    percentile,
    postgres_available,
    section,
    server_env,
    stopwatch,
)
from tests.support import LiveServer, fresh_database, pg_url

BRANCHES, MONTHS = 3000, 56  # ≈ 140,000 evaluations
ROUNDS, SAMPLES, WARMUP = 3, 20, 10
TARGET_LIST_P95 = 50.0  # ms
TARGET_RATES_P95 = 150.0  # ms
TARGET_GROWTH = 1.20  # list p50 at ×4 evaluations / at ×1
LABEL = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def seed(url: str, tmp: Path) -> float:
    """Migrate and load the province; seconds taken."""
    server = LiveServer(url="", port=0, env=server_env(url, tmp), log=tmp / "seed.log")
    with stopwatch() as elapsed:
        server.flask("db", "upgrade")
        server.flask("seed-demo", "--force", "--branches", str(BRANCHES), "--months", str(MONTHS))
    return elapsed()


def make_app(url: str) -> Any:
    from coso import create_app

    database = pg_url(url) if "postgres" in url else url
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database,
            "SECRET_KEY": SECRET,
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )


def logged_in(app: Any, username: str) -> Any:
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, "the login page carries a csrf_token"
    response = client.post(
        "/login",
        data={"username": username, "password": "coso-demo", "csrf_token": token.group(1)},
    )
    assert response.status_code in (302, 303), response.status_code
    return client


def measure(client: Any, urls: dict[str, str]) -> dict[str, list[tuple[float, float]]]:
    """Per page, per round: (p50, p95) in ms."""

    def once(url: str) -> float:
        start = time.perf_counter()
        response = client.get(url, headers={"Accept-Encoding": "gzip"})
        elapsed = (time.perf_counter() - start) * 1000
        assert response.status_code == 200, (url, response.status_code)
        return elapsed

    for url in urls.values():
        for _ in range(WARMUP):
            once(url)
    out: dict[str, list[tuple[float, float]]] = {name: [] for name in urls}
    for _ in range(ROUNDS):
        times: dict[str, list[float]] = {name: [] for name in urls}
        for _ in range(SAMPLES):
            for name, url in urls.items():
                times[name].append(once(url))
        for name, values in times.items():
            out[name].append((statistics.median(values), percentile(values, 0.95)))
    return out


def multiply_history(url: str, copies: int = 3) -> tuple[int, float]:
    """Add ``copies`` shifted copies of every evaluation row; (rows, seconds)."""
    from coso.models import Evaluation

    database = pg_url(url) if "postgres" in url else url
    engine = sa.create_engine(database)
    ev = Evaluation.__table__
    sqlite = engine.dialect.name == "sqlite"
    try:
        with stopwatch() as elapsed, engine.begin() as conn:
            top = conn.scalar(sa.select(sa.func.max(ev.c.id))) or 0
            original = sa.select(ev).where(ev.c.id <= top).subquery()
            for k in range(1, copies + 1):
                offset = k * top
                days = int(k * MONTHS * 30.44)
                if sqlite:
                    shifted: Any = sa.func.date(original.c.meeting_date, f"-{days} days")
                else:
                    shifted = original.c.meeting_date - sa.literal(days)
                values: list[Any] = []
                for column in ev.c:
                    source = original.c[column.name]
                    if column.name == "id":
                        values.append(source + offset)
                    elif column.name == "uuid":  # 34 characters of the original + 2 of the copy
                        values.append(sa.func.substr(source, 1, 34) + f"x{k}")
                    elif column.name == "meeting_date":
                        values.append(shifted)
                    elif column.name == "supersedes_id":
                        values.append(sa.null())
                    else:
                        values.append(source)
                conn.execute(sa.insert(ev).from_select([c.name for c in ev.c], sa.select(*values)))
            if not sqlite:
                conn.execute(
                    sa.text(
                        "SELECT setval(pg_get_serial_sequence('evaluation', 'id'), "
                        "(SELECT max(id) FROM evaluation))"
                    )
                )
                conn.execute(sa.text("ANALYZE"))
            else:
                conn.execute(sa.text("ANALYZE"))
            total = conn.scalar(sa.select(sa.func.count()).select_from(ev)) or 0
        return total, elapsed()
    finally:
        engine.dispose()


def run_backend(backend: str, report: Report) -> None:
    label = LABEL[backend]
    with tempfile.TemporaryDirectory(prefix=f"coso-bench-dashboard-{backend}-") as tmp:
        url = fresh_database(backend, Path(tmp), PG_BASE, "dashboard")
        try:
            seconds = seed(url, Path(tmp))
            app = make_app(url)
            with app.app_context():
                from coso.extensions import db
                from coso.models import Evaluation, Unit

                evaluations = db.session.scalar(sa.select(sa.func.count(Evaluation.id)))
                commune = db.session.scalar(
                    sa.select(Unit.id).where(Unit.kind == "commune").order_by(Unit.id).limit(1)
                )
                db.session.remove()
            print(
                f"  {label}: seeded {BRANCHES:,} branches, {evaluations:,} evaluations "
                f"in {seconds:.0f} s",
                flush=True,
            )
            client = logged_in(app, "province")
            # As each gunicorn worker does once the app is loaded (gunicorn.conf.py).
            gc.freeze()
            urls = {
                "list": "/dashboard",
                "list, one commune": f"/dashboard?unit={commune}",
                "rates": "/dashboard/where",
                "healthz": "/healthz",
            }
            first = measure(client, urls)
            del urls["rates"]  # its item counts read answers, which the copies leave out
            rows, seconds = multiply_history(url)
            print(f"  {label}: ×4 history: {rows:,} evaluations ({seconds:.0f} s)", flush=True)
            with app.app_context():
                from coso.extensions import db

                db.session.remove()
                db.engine.dispose()
            grown = measure(client, urls)
            with app.app_context():
                db.engine.dispose()
        finally:
            drop_database(url)
    base = statistics.median(p50 for p50, _ in first["healthz"])
    targets = {"list": TARGET_LIST_P95, "list, one commune": TARGET_LIST_P95}
    targets["rates"] = TARGET_RATES_P95

    def add(name: str, runs: list[float], target: float | None, note: str = "") -> None:
        report.add(
            Figure(
                "dashboard",
                f"{label}: {name}",
                runs,
                "ms",
                target=target,
                baseline=base,
                baseline_name="/healthz p50",
                note=note,
            )
        )

    pick: Callable[[list[tuple[float, float]], int], list[float]] = lambda rounds, i: [  # noqa: E731
        r[i] for r in rounds
    ]
    for name, target in targets.items():
        add(f"{name} p50", pick(first[name], 0), None)
        add(f"{name} p95", pick(first[name], 1), target)
    for name in ("list", "list, one commune"):
        add(f"{name} p95 at ×4 evaluations", pick(grown[name], 1), TARGET_LIST_P95)
        # Each round's p50 over the same round's /healthz p50, so that a change of
        # machine load between the two measurements does not read as growth.
        before = statistics.median(
            p / h for p, h in zip(pick(first[name], 0), pick(first["healthz"], 0), strict=True)
        )
        report.add(
            Figure(
                "dashboard",
                f"{label}: {name} p50 growth at ×4 evaluations",
                [
                    p / h / before
                    for p, h in zip(pick(grown[name], 0), pick(grown["healthz"], 0), strict=True)
                ],
                "×",
                target=TARGET_GROWTH,
                decimals=2,
            )
        )


def run(report: Report) -> None:
    backends = os.environ.get("COSO_BENCH_DASHBOARD", "sqlite,postgresql").split(",")
    section(
        f"dashboard: {BRANCHES:,} branches × {MONTHS} months; {ROUNDS} rounds of "
        f"{SAMPLES} requests per page, at the server"
    )
    for backend in backends:
        backend = backend.strip()
        if backend == "postgresql":
            why = postgres_available()
            if why:
                report.add(Figure("dashboard", "PostgreSQL", [], "", skipped=why))
                continue
        run_backend(backend, report)
