"""The production shape on this machine, from the files in deploy/: Caddy with its internal CA
in front of gunicorn processes (COSO_ENV=production), one PostgreSQL, one Redis, and the
notification worker (deploy/coso-notifications.service's command, the same environment).

Caddy runs on deploy/Caddyfile itself, and the app processes get deploy/coso.env with only
what a test machine must change (the secret, the database, the Redis db, the ports). The site
is ``coso.test``; nothing resolves it, so clients dial 127.0.0.1 and say ``coso.test`` in SNI
and Host (Chromium through ``--host-resolver-rules``).

Without Caddy, certutil, Redis or PostgreSQL the tests skip, unless ``COSO_REQUIRE_CADDY``
is set (as .ci/run does): then a missing piece fails them.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import PG_URL, WORKER
from tests.support import ROOT, LiveServer, free_port, fresh_database

DEPLOY = ROOT / "deploy"
SITE = "coso.test"
REQUIRE = os.environ.get("COSO_REQUIRE_CADDY", "") not in ("", "0")
#: A Redis database of its own (emptied before and after): the shared counters of the test.
#: Under pytest-xdist each worker takes the next one down (gw0 13, gw1 12, ...).
_WORKER_INDEX = int(WORKER.removeprefix("gw") or 0) if WORKER.startswith("gw") else 0
REDIS_URL = os.environ.get("COSO_TEST_REDIS_URL", f"redis://127.0.0.1:6379/{13 - _WORKER_INDEX}")


def require_pieces() -> None:
    """Skip (or fail, when CI requires the topology) without Caddy, certutil, Redis, PostgreSQL."""
    missing = [tool for tool in ("caddy", "certutil") if shutil.which(tool) is None]
    if not PG_URL:
        missing.append("PostgreSQL (COSO_TEST_DATABASE_URL)")
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except Exception as exc:  # any failure means "no Redis here"
        missing.append(f"Redis at {REDIS_URL} ({exc.__class__.__name__})")
    if missing:
        message = "the production topology needs " + ", ".join(missing)
        if REQUIRE:
            pytest.fail(message + " and COSO_REQUIRE_CADDY is set")
        pytest.skip(message)


def flush_redis() -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    client.close()


def read_env_file(path: Path) -> dict[str, str]:
    """systemd's EnvironmentFile= format: NAME=value lines (quotes around a value dropped)."""
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            values[name.strip()] = value
    return values


class _SiteConnection(http.client.HTTPSConnection):
    """HTTPS to ``coso.test`` at 127.0.0.1, from a chosen loopback address (a phone of its own)."""

    def __init__(self, port: int, context: ssl.SSLContext, source: str, timeout: float) -> None:
        super().__init__(SITE, port, context=context, timeout=timeout)
        self._source = source
        self._context = context

    def connect(self) -> None:
        sock = socket.create_connection(
            ("127.0.0.1", self.port), self.timeout, source_address=(self._source, 0)
        )
        self.sock = self._context.wrap_socket(sock, server_hostname=SITE)

    def request(self, method, url, body=None, headers=None, **kwargs):  # type: ignore[no-untyped-def]
        # A browser's POST names the page it came from: Flask-WTF checks it over HTTPS.
        headers = {"Referer": f"https://{SITE}:{self.port}/", **(headers or {})}
        return super().request(method, url, body=body, headers=headers, **kwargs)


@dataclass
class Topology:
    """Caddy in front of app processes; ``url`` is what a phone opens."""

    tmp: Path
    servers: list[LiveServer]
    port: int
    ca: Path
    caddy: subprocess.Popen[bytes] | None = None
    caddy_log: Path | None = None
    #: The notification worker (``flask --app app notifications run``), when started.
    worker: subprocess.Popen[bytes] | None = None
    context: ssl.SSLContext = field(default_factory=ssl.create_default_context)

    @property
    def url(self) -> str:
        return f"https://{SITE}:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        return self.servers[0].env

    def connection(
        self, timeout: float = 60, source: str = "127.0.0.1"
    ) -> http.client.HTTPSConnection:
        return _SiteConnection(self.port, self.context, source, timeout)

    # What the chaos clients and their checks ask of a "server": the proxy serves, the first
    # app process answers for the database.
    def sql(self, statement: str) -> list[tuple]:
        return self.servers[0].sql(statement)

    def flask(self, *args: str) -> str:
        return self.servers[0].flask(*args)


def app_env(tmp: Path, database: str, **overrides: str) -> dict[str, str]:
    """deploy/coso.env, with what this machine changes."""
    env = {**os.environ, **read_env_file(DEPLOY / "coso.env")}
    env.update(
        {
            "SECRET_KEY": "topology-test-secret",  # the same on every process
            "DATABASE_URL": database,
            "REDIS_URL": REDIS_URL,
            "HOME": str(tmp),
            **overrides,
        }
    )
    assert env["COSO_ENV"] == "production" and env["COSO_TRUSTED_PROXIES"] == "1"
    return env


def app_servers(tmp: Path, env: dict[str, str], processes: int = 2) -> list[LiveServer]:
    servers = []
    for n in range(processes):
        port = free_port()
        servers.append(
            LiveServer(
                url=f"http://127.0.0.1:{port}", port=port, env=env, log=tmp / f"gunicorn-{n}.log"
            )
        )
    return servers


def start_app(server: LiveServer, workers: int = 1, threads: int = 4) -> None:
    """One app process as deploy/coso@.service runs it, with its access log."""
    server.start(
        workers=workers,
        threads=threads,
        extra=("--access-logfile", str(server.log.with_suffix(".access.log"))),
    )


def start_caddy(tmp: Path, servers: list[LiveServer]) -> Topology:
    """Caddy on deploy/Caddyfile with its internal CA; waits until HTTPS answers /healthz."""
    port = free_port()
    home = tmp / "caddy-home"
    home.mkdir(exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "COSO_SITE": SITE,
        "COSO_TLS": "internal",
        "COSO_UPSTREAMS": " ".join(f"127.0.0.1:{server.port}" for server in servers),
        "COSO_HTTPS_PORT": str(port),
        "COSO_HTTP_PORT": str(free_port()),
        "COSO_CADDY_ADMIN": f"127.0.0.1:{free_port()}",
    }
    log = tmp / "caddy.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            ["caddy", "run", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
            cwd=tmp,
            env=env,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
    ca = home / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"
    topology = Topology(tmp=tmp, servers=servers, port=port, ca=ca, caddy=proc, caddy_log=log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("caddy exited:\n" + log.read_text())
        if ca.exists():
            topology.context = ssl.create_default_context(cafile=str(ca))
            with contextlib.suppress(OSError, ssl.SSLError, http.client.HTTPException):
                conn = topology.connection(timeout=3)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    return topology
        time.sleep(0.2)
    stop_caddy(topology)
    raise RuntimeError("caddy did not serve https://coso.test/healthz:\n" + log.read_text())


#: Seconds between the worker's passes: shorter than the unit's default (30 s), so that a
#: test sees a notice delivered soon after its sync.
WORKER_INTERVAL = "1"
WORKER_COMMAND = (sys.executable, "-m", "flask", "--app", "app", "notifications", "run")


def start_worker(tmp: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """``flask --app app notifications run`` as deploy/coso-notifications.service runs it."""
    log = tmp / "notifications.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [*WORKER_COMMAND, "--interval", WORKER_INTERVAL],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
    time.sleep(0.5)
    if proc.poll() is not None:
        raise RuntimeError("the notification worker exited:\n" + log.read_text())
    return proc


def stop_worker(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, as systemd stops it: the notice in hand is finished, then it exits."""
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def stop_caddy(topology: Topology) -> None:
    if topology.caddy is not None:
        topology.caddy.terminate()
        try:
            topology.caddy.wait(timeout=10)
        except subprocess.TimeoutExpired:
            topology.caddy.kill()
            topology.caddy.wait()
        topology.caddy = None


@contextlib.contextmanager
def running(
    tmp: Path, suffix: str, seed: list[str] | None = None, worker: bool = True, **overrides: str
) -> Iterator[Topology]:
    """Database, Redis db, two app processes, the notification worker (unless ``worker`` is
    false) and Caddy; everything stopped afterwards.

    ``seed`` is a ``flask`` command run after the migrations (e.g. ``seed-demo ...``).
    """
    require_pieces()
    flush_redis()
    database = fresh_database("postgresql", tmp, PG_URL, suffix)
    env = app_env(tmp, database, **overrides)
    servers = app_servers(tmp, env)
    servers[0].flask("db", "upgrade")
    if seed:
        servers[0].flask(*seed)
    topology: Topology | None = None
    notifications: subprocess.Popen[bytes] | None = None
    try:
        for server in servers:
            start_app(server)
        if worker:
            notifications = start_worker(tmp, env)
        topology = start_caddy(tmp, servers)
        topology.worker = notifications
        yield topology
    finally:
        if topology is not None:
            stop_caddy(topology)
        if notifications is not None:
            stop_worker(notifications)
        for server in servers:
            server.stop()
        flush_redis()


def trust_in_nss(home: Path, ca: Path) -> None:
    """Make ``ca`` a trusted root in the NSS database Chromium reads ($HOME/.pki/nssdb)."""
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["certutil", "-d", f"sql:{nssdb}", "-N", "--empty-password"], check=True, timeout=30
    )
    subprocess.run(
        ["certutil", "-d", f"sql:{nssdb}", "-A", "-t", "C,,", "-n", "coso test CA", "-i", str(ca)],
        check=True,
        timeout=30,
    )
