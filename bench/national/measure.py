"""The national pages timed at the server, on the generated database (``generate``).

In process through Flask's test client, as ``bench/dashboard.py``: the real app (routing,
sign-in, queries, templates, compression; no network), each user signed in with its own
client, the app's long-lived objects frozen out of the garbage collector's way. After
``WARMUP`` requests per page, ``ROUNDS`` rounds of ``SAMPLES`` requests per page,
interleaved; p50 and p95 per round, the median of the rounds. The app's day is pinned
(``COSO_TODAY``) to the day the data was generated as of, so a cached database reads the
same however old it is.

A page whose p95 misses its target has the statements of one of its requests captured, and
the slowest ones run again under ``EXPLAIN (ANALYZE, BUFFERS)``, printed and written to
``$TMPDIR/coso-bench-national-explain.txt``.
"""

from __future__ import annotations

import gc
import gzip
import logging
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.common import SECRET, percentile

WARMUP = int(os.environ.get("BENCH_NATIONAL_WARMUP", "1"))
ROUNDS = int(os.environ.get("BENCH_NATIONAL_ROUNDS", "3"))
SAMPLES = int(os.environ.get("BENCH_NATIONAL_SAMPLES", "5"))
EXPLAIN_FILE = Path(tempfile.gettempdir()) / "coso-bench-national-explain.txt"


@dataclass
class Page:
    """One measured page: who asks, what, and the p95 it is held to (ms)."""

    name: str
    username: str
    url: str
    target: float | None
    gzip: bool = True
    rounds: list[tuple[float, float]] = field(default_factory=list)  # (p50, p95) per round


def make_app(url: str, as_of: str) -> Any:
    from coso import create_app

    # Thousands of requests: their access lines would bury the figures.
    logging.getLogger("coso.access").setLevel(logging.WARNING)
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": SECRET,
            "RATELIMIT_STORAGE_URI": "memory://",
            "COSO_TODAY": as_of,
        }
    )


def route_exists(app: Any, rule: str) -> bool:
    return any(r.rule == rule for r in app.url_map.iter_rules())


def time_pages(clients: dict[str, Any], pages: list[Page]) -> None:
    """Fill each page's rounds (interleaved, so that a load spike hits every page alike)."""

    def once(page: Page) -> float:
        headers = {"Accept-Encoding": "gzip"} if page.gzip else {}
        start = time.perf_counter()
        response = clients[page.username].get(page.url, headers=headers)
        response.get_data()
        elapsed = (time.perf_counter() - start) * 1000
        assert response.status_code == 200, (page.url, page.username, response.status_code)
        return elapsed

    for page in pages:
        for _ in range(WARMUP):
            once(page)
    for _ in range(ROUNDS):
        times: dict[str, list[float]] = {page.name: [] for page in pages}
        for _ in range(SAMPLES):
            for page in pages:
                times[page.name].append(once(page))
        for page in pages:
            values = times[page.name]
            page.rounds.append((statistics.median(values), percentile(values, 0.95)))


def body_sizes(client: Any, url: str) -> dict[str, int]:
    """The body of ``url``: as JSON, gzipped at level 6 (a reverse proxy's), and as the app
    itself sends it to a browser asking for each encoding (``br``: Chromium over HTTPS)."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    body = response.get_data()
    sizes = {"json": len(body), "gzip 6": len(gzip.compress(body, compresslevel=6))}
    for encoding in ("br", "zstd", "gzip"):
        sent = client.get(url, headers={"Accept-Encoding": encoding})
        assert sent.headers.get("Content-Encoding") == encoding, (url, encoding)
        sizes[f"sent {encoding}"] = len(sent.get_data())
    return sizes


# ------------------------------------------------------------------ EXPLAIN


@contextmanager
def captured(engine: sa.Engine) -> Iterator[list[tuple[float, str, Any]]]:
    """The statements run on ``engine`` inside the block: (ms, SQL, parameters)."""
    found: list[tuple[float, str, Any]] = []
    started: list[float] = []

    def before(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        started.append(time.perf_counter())

    def after(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        found.append(((time.perf_counter() - started.pop()) * 1000, statement, params))

    sa.event.listen(engine, "before_cursor_execute", before)
    sa.event.listen(engine, "after_cursor_execute", after)
    try:
        yield found
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
        sa.event.remove(engine, "after_cursor_execute", after)


def explain_page(app: Any, client: Any, page: Page, label: str, top: int = 3) -> str:
    """The slowest statements of one request of ``page``, each with its EXPLAIN."""
    from coso.extensions import db

    with app.app_context():
        engine = db.engine
    with captured(engine) as statements:
        client.get(page.url, headers={"Accept-Encoding": "gzip"})
    total = sum(ms for ms, *_ in statements)
    lines = [
        f"==== {label}: {page.name} ({page.username} GET {page.url}) — "
        f"{len(statements)} statements, {total:.1f} ms in the database ===="
    ]
    slowest = sorted(statements, key=lambda s: -s[0])[:top]
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        for ms, statement, params in slowest:
            lines.append(f"\n-- {ms:.1f} ms:\n{statement}\n-- parameters: {params!r}")
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            with raw.cursor() as cur:
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
                lines.extend(row[0] for row in cur.fetchall())
            raw.rollback()
    text = "\n".join(lines)
    with EXPLAIN_FILE.open("a") as out:
        out.write(text + "\n\n")
    return text


def freeze() -> None:
    """As each gunicorn worker does once the app is loaded (gunicorn.conf.py)."""
    gc.collect()
    gc.freeze()
