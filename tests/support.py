"""A real app server for browser tests and benchmarks: gunicorn on a free port, its own database."""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]

#: The phone the browser tests and benchmarks emulate, and how Debian's Chromium is launched
#: here (no sandbox as root, nothing that would reach the internet).
PHONE = {"width": 360, "height": 740}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
]


def pg_url(url: str) -> str:
    """A PostgreSQL URL with the psycopg 3 driver named."""
    return re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql+psycopg://", url)


def worker_url(url: str, worker: str) -> str:
    """``url`` with the xdist worker's name added to its database's name (``coso_ci_gw0``)."""
    if not url or not worker:
        return url
    base, _, query = url.partition("?")
    return f"{base}_{worker}" + (f"?{query}" if query else "")


def ensure_database(url: str) -> None:
    """Create the database ``url`` names unless it exists (from the server's ``postgres``)."""
    target = pg_url(url)
    name = target.rsplit("/", 1)[1].split("?")[0]
    engine = sa.create_engine(target.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        exists = conn.execute(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        ).scalar()
        if not exists:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


def without_waiting_for_the_disk(engine: sa.Engine) -> None:
    """A test database needs no durability: its commits stop waiting for the disk.

    PostgreSQL's ``synchronous_commit = off`` for every later connection to the database
    (the tests' and their servers'): nothing a test can see changes, the suite gets quicker.
    """
    with engine.connect() as conn:
        name = conn.execute(sa.text("SELECT current_database()")).scalar_one()
        conn.execute(sa.text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
        conn.commit()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fresh_database(backend: str, tmp: Path, pg_base: str, suffix: str) -> str:
    """An empty database: a SQLite file in ``tmp``, or ``<pg database>_<suffix>`` recreated."""
    if backend == "sqlite":
        return f"sqlite:///{tmp / (suffix + '.sqlite')}"
    base = pg_url(pg_base)
    name = base.rsplit("/", 1)[1].split("?")[0] + "_" + suffix
    engine = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        conn.execute(sa.text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    engine.dispose()
    return base.rsplit("/", 1)[0] + "/" + name


@dataclass
class LiveServer:
    """A gunicorn running the real app; can be stopped and started again on the same port."""

    url: str
    port: int
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = field(default=None)

    def flask(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "app", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def start(self, workers: int = 1, threads: int = 8, extra: tuple[str, ...] = ()) -> None:
        gunicorn = [sys.executable, "-m", "gunicorn", "app:app", "--bind", f"127.0.0.1:{self.port}"]
        gunicorn += [
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--worker-class",
            "gthread",
        ]
        gunicorn += ["--no-control-socket", "--graceful-timeout", "2", "--log-level", "warning"]
        # The workers' metrics (gunicorn.conf.py) beside the log: a killed server leaves
        # nothing in /tmp.
        env = {"PROMETHEUS_MULTIPROC_DIR": str(self.log.parent / f"prometheus-{self.port}")}
        gunicorn += list(extra)
        with self.log.open("ab") as log:
            # Its own session, so that kill() can take the master and its workers at once.
            self.proc = subprocess.Popen(
                gunicorn,
                cwd=ROOT,
                env={**env, **self.env},
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start:\n" + self.log.read_text())

    def connection(self, timeout: float = 60) -> http.client.HTTPConnection:
        """A connection straight to this process (tests/topology.py has one through Caddy)."""
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def kill(self) -> None:
        """SIGKILL the master and its workers at once: a crash, no graceful shutdown."""
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):  # already gone
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            self.proc = None

    def sql(self, statement: str) -> list[tuple]:
        """Read the server's database directly (what the server really holds)."""
        engine = sa.create_engine(
            pg_url(self.env["DATABASE_URL"])
            if "postgres" in self.env["DATABASE_URL"]
            else self.env["DATABASE_URL"]
        )
        try:
            with engine.connect() as conn:
                return [tuple(row) for row in conn.execute(sa.text(statement))]
        finally:
            engine.dispose()
