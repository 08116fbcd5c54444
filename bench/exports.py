"""6. Every answer exportable: a province's year of evaluations and answers, streamed.

``seed-demo --branches 3300 --months 56`` (≈ 150,000 evaluations, ≈ 3 M answers; the
dashboard benchmark's 3,000 branches give 136,000). Each export — the province's answers
of the last 12 months as CSV and as XLSX, and its evaluations as XLSX — runs in a
**subprocess of its own**: the real app, signed in as ``province`` through Flask's test
client, the response read chunk by chunk and thrown away (as a socket would send it). The
subprocess reports the seconds from the request to the last byte, and its peak memory two
ways: the growth of its peak resident set (``resource.getrusage``, ``ru_maxrss`` after the
export minus before it, the app loaded and warmed) and, in a second run with
``tracemalloc`` on, the peak of Python's own allocations during the export. A file held
whole (or a result fetched whole) would grow with the rows; a streamed one stays at a chunk.

SQLite by default, as the dashboard benchmark (seeding PostgreSQL takes about twice as
long); ``COSO_BENCH_EXPORTS=sqlite,postgresql`` adds PostgreSQL, where ``yield_per`` reads
through a server-side cursor.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.common import (
    PG_BASE,
    ROOT,
    SECRET,
    Figure,
    Report,
    drop_database,
    postgres_available,
    section,
    server_env,
    stopwatch,
)
from tests.support import fresh_database, pg_url

BRANCHES = int(os.environ.get("BENCH_EXPORT_BRANCHES", "3300"))
MONTHS = 56  # ≈ 150,000 evaluations at 3,300 branches (136,000 at 3,000)
RUNS = int(os.environ.get("BENCH_EXPORT_RUNS", "2"))
#: Targets: a province's year of answers (≈ 700,000 rows) within a few minutes' download,
#: and memory that does not grow with the rows.
TARGET_SECONDS = {"answers.csv": 90.0, "answers.xlsx": 180.0, "evaluations.xlsx": 30.0}
TARGET_RSS_MB = 100.0
TARGET_TRACED_MB = 50.0
LABEL = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def seed(url: str, tmp: Path) -> float:
    """Migrate and load the province; seconds taken (no time limit: a busy machine is slow)."""
    env = server_env(url, tmp)
    with stopwatch() as elapsed:
        for args in (
            ("db", "upgrade"),
            ("seed-demo", "--force", "--branches", str(BRANCHES), "--months", str(MONTHS)),
        ):
            subprocess.run(
                [sys.executable, "-m", "flask", "--app", "app", *args],
                cwd=ROOT,
                env=env,
                capture_output=True,
                check=True,
            )
    return elapsed()


# ------------------------------------------------------------ the subprocess


def _measure(database: str, path: str, trace: bool) -> dict[str, Any]:
    """Run one export in this process; its time, bytes, rows and memory."""
    import gc
    import resource

    from coso import create_app

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database,
            "SECRET_KEY": SECRET,
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    response = client.post(
        "/login",
        data={"username": "province", "password": "coso-demo", "csrf_token": token.group(1)},
    )
    assert response.status_code in (302, 303)
    # Warm up: the export's modules imported, its queries planned once (a tiny period).
    warm = client.get(
        re.sub(r"from=[^&]+", "from=2000-01-01", re.sub(r"to=[^&]+", "to=2000-01-02", path))
    )
    assert warm.status_code == 200, warm.status_code
    warm.close()
    gc.collect()
    if trace:
        import tracemalloc

        tracemalloc.start()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    response = client.get(path, buffered=False)
    assert response.status_code == 200, response.status_code
    size = lines = 0
    for chunk in response.iter_encoded():
        size += len(chunk)
        lines += chunk.count(b"\n")
    response.close()
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out: dict[str, Any] = {
        "peak_mb": after / 1024,
        "seconds": seconds,
        "bytes": size,
        "lines": lines,
        "rss_mb": (after - before) / 1024,
    }
    if trace:
        import tracemalloc

        out["traced_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return out


def measure(database: str, path: str, trace: bool = False) -> dict[str, Any]:
    """:func:`_measure` in a fresh Python process (its peak memory is the export's alone)."""
    result = subprocess.run(
        [sys.executable, "-m", "bench.exports", "--measure", database, path, "1" if trace else "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "SECRET_KEY": SECRET},
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-2000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------ the benchmark


def run_backend(backend: str, report: Report) -> None:
    label = LABEL[backend]
    with tempfile.TemporaryDirectory(prefix=f"coso-bench-exports-{backend}-") as tmp:
        url = fresh_database(backend, Path(tmp), PG_BASE, "exports")
        database = pg_url(url) if "postgres" in url else url
        try:
            seconds = seed(url, Path(tmp))
            import sqlalchemy as sa

            engine = sa.create_engine(database)
            with engine.connect() as conn:
                province = conn.scalar(sa.text("SELECT id FROM unit WHERE kind = 'province'"))
                evaluations = conn.scalar(sa.text("SELECT count(*) FROM evaluation"))
                newest = conn.scalar(sa.text("SELECT max(meeting_date) FROM evaluation"))
            engine.dispose()
            newest = date.fromisoformat(str(newest)[:10])
            first = newest - timedelta(days=364)
            print(
                f"  {label}: seeded {BRANCHES:,} branches, {evaluations:,} evaluations in "
                f"{seconds:.0f} s; exporting {first:%d/%m/%Y} – {newest:%d/%m/%Y}",
                flush=True,
            )
            period = f"from={first.isoformat()}&to={newest.isoformat()}"
            for name, target in TARGET_SECONDS.items():
                path = f"/exports/{province}/{name}?{period}"
                timed = [measure(database, path) for _ in range(RUNS)]
                traced = measure(database, path, trace=True)
                rows = timed[0]["lines"] - 1 if name.endswith(".csv") else None
                note = f"{timed[0]['bytes'] / 2**20:.1f} MB" + (f", {rows:,} rows" if rows else "")
                report.add(
                    Figure(
                        "exports",
                        f"{label}: {name} (a year), time",
                        [t["seconds"] for t in timed],
                        "s",
                        target=target,
                        note=note,
                    )
                )
                report.add(
                    Figure(
                        "exports",
                        f"{label}: {name}, peak RSS growth",
                        [t["rss_mb"] for t in timed],
                        "MB",
                        target=TARGET_RSS_MB,
                    )
                )
                report.add(
                    Figure(
                        "exports",
                        f"{label}: {name}, peak RSS of the process",
                        [t["peak_mb"] for t in timed],
                        "MB",
                    )
                )
                report.add(
                    Figure(
                        "exports",
                        f"{label}: {name}, tracemalloc peak",
                        [traced["traced_mb"]],
                        "MB",
                        target=TARGET_TRACED_MB,
                    )
                )
                print(f"    {name}: {note}", flush=True)
        finally:
            drop_database(url)


def run(report: Report) -> None:
    wanted = os.environ.get("COSO_BENCH_EXPORTS", "sqlite").split(",")
    section(
        f"exports: {BRANCHES:,} branches × {MONTHS} months; a year of the province's "
        f"evaluations and answers, {RUNS} runs each in a subprocess (+1 with tracemalloc)"
    )
    for backend in (b.strip() for b in wanted):
        if backend == "postgresql":
            why = postgres_available()
            if why:
                report.add(Figure("exports", "PostgreSQL", [], "", skipped=why))
                continue
        run_backend(backend, report)


if __name__ == "__main__" and len(sys.argv) == 5 and sys.argv[1] == "--measure":
    print(json.dumps(_measure(sys.argv[2], sys.argv[3], sys.argv[4] == "1")))
