"""1. Ingest: ``POST /api/v1/sync`` batches of 50 under gunicorn (2 workers), against the ceiling.

The real app runs under gunicorn (2 workers, gthread) on a freshly migrated
database holding a demo province of ``BRANCHES`` branches (2,000). ``CLIENTS`` phones, each
logged in with its own session, send batches of 50 evaluations of the default
checklist (21 answers each) as fast as the server answers; evaluations/s is
how many were stored (every result must be ``created``) over the wall time of
the run. The ceiling is the same rows — evaluations, their answers and their
visit days — bulk-inserted straight into the same database with SQLAlchemy Core
(the app's own bulk statements, one transaction), timed in the same run. Each figure is the
median of ``RUNS`` runs.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import threading
import time
import uuid as uuidlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.common import (
    PG_BASE,
    Client,
    Figure,
    Report,
    drop_database,
    postgres_available,
    section,
    server_env,
)
from tests.support import LiveServer, free_port, fresh_database, pg_url

BATCH = 50
PER_RUN = 1000  # evaluations per run: 20 batches
RUNS = 3
CLIENTS = 4
#: A province at domain.md's planned scale (1,500-3,000 branches); BENCH_BRANCHES changes it.
BRANCHES = int(os.environ.get("BENCH_BRANCHES", "2000"))
TARGET_SQLITE = 1_000.0  # evaluations/s
#: Of each database's own ceiling: SQLite 25 %, PostgreSQL 60 % (issue 22, item 5).
TARGET_SHARE = {"sqlite": 0.25, "postgresql": 0.60}
_VALUES = ("pass",) * 7 + ("partial", "fail", "na")


@contextmanager
def served(backend: str, tmp: Path) -> Iterator[LiveServer]:
    """gunicorn with 2 workers on a fresh database holding the demo province."""
    url = fresh_database(backend, tmp, PG_BASE, "ingest")
    port = free_port()
    server = LiveServer(
        url=f"http://127.0.0.1:{port}",
        port=port,
        env=server_env(url, tmp),
        log=tmp / f"gunicorn-{backend}.log",
    )
    try:
        server.flask("db", "upgrade")
        server.flask("seed-demo", "--branches", str(BRANCHES), "--months", "1")
        server.start(workers=2)
        yield server
    except BaseException:
        if server.log.exists():
            print(server.log.read_text()[-3000:], file=sys.stderr)
        raise
    finally:
        server.stop()
        drop_database(url)


def build_items(branch_ids: list[int], template_id: int, n: int, rng: random.Random) -> list[Any]:
    """``n`` valid sync items over the branches: a training day's meetings, mixed answers."""
    from coso.checklists.rules import DEFAULT_ITEMS

    choice = [item["code"] for item in DEFAULT_ITEMS if item["kind"] == "choice"]
    now = datetime.now(UTC)
    items = []
    for _ in range(n):
        total = rng.randint(10, 40)
        items.append(
            {
                "uuid": str(uuidlib.UUID(int=rng.getrandbits(128), version=4)),
                "branch_id": rng.choice(branch_ids),
                "template_id": template_id,
                "guidance_id": None,
                "meeting_date": (date.today() - timedelta(days=rng.randint(0, 1))).isoformat(),
                "meeting_type": "regular",
                "mode": "in_person",
                "members_total": total,
                "members_present": rng.randint(total // 2, total),
                "answers": [{"item": code, "value": rng.choice(_VALUES)} for code in choice],
                "topics_covered": [],
                "notes": "Buổi sinh hoạt sôi nổi." if rng.random() < 0.3 else None,
                "good_practice": None,
                "recommend_practice": False,
                "supersedes": None,
                "started_at": (now - timedelta(hours=2)).isoformat(),
                "submitted_at": now.isoformat(),
            }
        )
    return items


def send_all(clients: list[Client], items: list[Any]) -> float:
    """Send ``items`` in batches of 50 from every client at once; seconds until the last answer."""
    batches = [items[i : i + BATCH] for i in range(0, len(items), BATCH)]
    lock = threading.Lock()
    failures: list[str] = []

    def worker(client: Client) -> None:
        while True:
            with lock:
                if not batches:
                    return
                batch = batches.pop()
            results = client.sync(batch)
            bad = [r for r in results if r["status"] != "created"]
            if bad:
                with lock:
                    failures.append(str(bad[0])[:300])

    start = time.perf_counter()
    with ThreadPoolExecutor(len(clients)) as pool:
        for future in [pool.submit(worker, c) for c in clients]:
            future.result()
    elapsed = time.perf_counter() - start
    assert not failures, f"{len(failures)} batches had items not created: {failures[0]}"
    return elapsed


def bulk_insert(database_url: str, items: list[Any], cadre_id: int) -> float:
    """The ceiling: the same rows inserted in one transaction (seconds), the way the app's fastest
    path inserts them: on PostgreSQL one ``unnest`` statement per table (evaluations, answers,
    visit days: :func:`coso.extensions.insert_all`), on SQLite a multi-row INSERT .. RETURNING
    of the evaluations and executemany of the rest.

    Scores are computed before the clock starts; what is timed is the database
    taking the evaluation, answer and visit rows.
    """
    from coso.checklists.rules import DEFAULT_ITEMS
    from coso.extensions import insert_all, insert_new
    from coso.judging import scoring
    from coso.models import Evaluation, EvaluationAnswer, Visit

    specs = [
        scoring.ItemSpec(i["code"], i["section"], i["weight"], i["critical"], i["kind"])
        for i in DEFAULT_ITEMS
    ]
    now = datetime.now(UTC)
    rows, answers = [], []
    for item in items:
        outcome = scoring.score_evaluation(
            specs,
            {a["item"]: a["value"] for a in item["answers"]},
            members_total=item["members_total"],
            members_present=item["members_present"],
            topics_total=0,
            topics_covered=0,
        )
        rows.append(
            {
                "uuid": str(uuidlib.uuid4()),
                "content_hash": "0" * 64,
                "branch_id": item["branch_id"],
                "cadre_id": cadre_id,
                "template_id": item["template_id"],
                "guidance_id": None,
                "meeting_date": date.fromisoformat(item["meeting_date"]),
                "meeting_type": item["meeting_type"],
                "mode": item["mode"],
                "members_total": item["members_total"],
                "members_present": item["members_present"],
                "topics_covered": [],
                "notes": item["notes"],
                "good_practice": None,
                "recommend_practice": False,
                "device_id": "bench-ceiling",
                "started_at": now,
                "submitted_at": now,
                "received_at": now,
                **outcome.columns(),
            }
        )
        answers.append(dict(outcome.effective))
    url = pg_url(database_url) if "postgres" in database_url else database_url
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))  # connected before the clock starts
            conn.commit()
            start = time.perf_counter()
            with conn.begin():
                table = Evaluation.__table__  # as the sync inserts them
                by_uuid = dict(insert_new(conn, table, rows, table.c.uuid, table.c.id))
                ids = [by_uuid[row["uuid"]] for row in rows]
                insert_all(
                    conn,
                    EvaluationAnswer.__table__,
                    [
                        {"evaluation_id": ev_id, "item_code": code, "value": value, "note": None}
                        for ev_id, effective in zip(ids, answers, strict=True)
                        for code, value in effective.items()
                    ],
                )
                insert_all(
                    conn,
                    Visit.__table__,
                    [
                        {
                            "user_id": cadre_id,
                            "unit_id": row["branch_id"],
                            "form": "meeting",
                            "start_date": row["meeting_date"],
                            "end_date": row["meeting_date"],
                            "days": 1,
                            "evaluation_id": ev_id,
                            "created_at": now,
                        }
                        for ev_id, row in zip(ids, rows, strict=True)
                    ],
                )
            return time.perf_counter() - start
    finally:
        engine.dispose()


def run_backend(backend: str, report: Report) -> None:
    label = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[backend]
    with (
        tempfile.TemporaryDirectory(prefix=f"coso-bench-ingest-{backend}-") as tmp,
        served(backend, Path(tmp)) as server,
    ):
        rng = random.Random(8)
        clients = [Client(server.port) for _ in range(CLIENTS)]
        for client in clients:
            client.login("cadre")
        pack: Any = clients[0].get_json("/api/v1/field-pack")
        branch_ids = [b["id"] for b in pack["branches"]]
        template_id = pack["templates"][0]["id"]
        cadre_id = pack["user"]["id"]
        # Warm-up: both workers import, connect and compile their queries.
        send_all(clients, build_items(branch_ids, template_id, 2 * BATCH, rng))
        rates, ceilings = [], []
        before = server.sql("SELECT count(*) FROM evaluation")[0][0]
        for _ in range(RUNS):
            items = build_items(branch_ids, template_id, PER_RUN, rng)
            # Each run, the phones connect anew: gunicorn hands each connection to one
            # worker for its life, and one split decided at log-in would decide every run.
            for client in clients:
                client.reconnect()
            rates.append(PER_RUN / send_all(clients, items))
            ceilings.append(PER_RUN / bulk_insert(server.env["DATABASE_URL"], items, cadre_id))
        errors = sum(client.errors for client in clients)
        stored = server.sql("SELECT count(*) FROM evaluation")[0][0] - before
        assert stored == 2 * RUNS * PER_RUN, f"expected {2 * RUNS * PER_RUN} new rows, {stored}"
        for client in clients:
            client.close()
    ceiling = sorted(ceilings)[len(ceilings) // 2]
    report.add(
        Figure(
            "ingest",
            f"{label}: bulk-insert ceiling",
            ceilings,
            "eval/s",
            decimals=0,
            note="evaluation + 21 answers + visit rows, one transaction, the app's bulk statements",
        )
    )
    report.add(
        Figure(
            "ingest",
            f"{label}: sync under gunicorn",
            rates,
            "eval/s",
            target=TARGET_SQLITE if backend == "sqlite" else None,
            higher_is_better=True,
            baseline=ceiling,
            baseline_name="ceiling",
            decimals=0,
        )
    )
    report.add(
        Figure(
            "ingest",
            f"{label}: batches answered 5xx/429 (then resent)",
            [float(errors)],
            "",
            target=0.0,
            decimals=0,
        )
    )
    report.add(
        Figure(
            "ingest",
            f"{label}: share of the ceiling",
            [rate / ceiling * 100 for rate in rates],
            "%",
            target=TARGET_SHARE[backend] * 100,
            higher_is_better=True,
        )
    )


def run(report: Report) -> None:
    section(f"ingest: {CLIENTS} clients, batches of {BATCH}, {RUNS} runs of {PER_RUN} evaluations")
    run_backend("sqlite", report)
    why = postgres_available()
    if why:
        for name in ("sync under gunicorn", "share of the ceiling"):
            report.add(Figure("ingest", f"PostgreSQL: {name}", [], "", skipped=why))
        return
    run_backend("postgresql", report)
