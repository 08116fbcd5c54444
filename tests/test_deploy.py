"""Zero lost on deploy (issue 23, item 2): a release rolled out under a sync storm.

The production topology of tests/topology.py (Caddy from deploy/Caddyfile, two gunicorn
processes with deploy/coso.env, PostgreSQL, Redis). The chaos clients of
tests/test_chaos_sync.py (replays, changed content, other phones' evaluations, requests
dropped before the answer) send their evaluations to Caddy over HTTPS while the operator
does what README "Deploying a new release" says:

1. ``HUP`` to both gunicorn masters (new workers, the listening socket kept);
2. a migration that adds a column, applied while both processes serve;
3. a restart of one process, then of the other (SIGTERM: in-flight requests finish;
   Caddy sends the phones to the process that is up).

The migration is a throwaway revision written into a copy of migrations/ in the test's
temporary directory (``flask db upgrade --directory``), on the test's database only: it is
not a revision of coso's. It adds a nullable column, as a release's "expand" step does —
the running code, which does not know the column, keeps inserting.

Then: every evaluation stored exactly once with the content first confirmed (the chaos
checks), every answer a 200 except 503s with Retry-After — what Caddy answers (its
``handle_errors``) when a process reset a connection as it stopped — which the clients wait
out and send again, as the outbox does. No other 5xx, no connection failed. About 1-2 minutes
on the 2-core machine, most of it the seed and the paced storm.
"""

from __future__ import annotations

import random
import shutil
import signal
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from coso import create_app
from coso.checklists.rules import DEFAULT_ITEMS
from tests import test_chaos_sync as chaos
from tests.support import LiveServer
from tests.topology import Topology, running, start_app

pytestmark = pytest.mark.slow

SENDS = 4_000  # evaluations sent in all, replays included
#: While the rollout runs, a phone waits this long after each answered batch: twenty phones
#: then send about eight batches (some 80 evaluations) a second, and still have batches
#: to send when the rollout ends; afterwards they send the rest as fast as they can.
PAUSE = 2.5
#: After a process is back (its /healthz answers), a moment under load before the next step.
SETTLE = 2.0
PROBE = "deploy_probe_0001"
PROBE_REVISION = '''"""A throwaway column: a release's "expand" migration (tests/test_deploy.py)."""

import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Wait at most 5 s for the table's lock instead of queueing every insert behind it.
    op.execute("SET lock_timeout = '5s'")
    op.add_column("evaluation", sa.Column("deploy_probe", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("evaluation", "deploy_probe")
'''


def _probe_migrations(tmp: Path, topology: Topology) -> Path:
    """A copy of migrations/ with one more revision on top of the current head."""
    directory = tmp / "migrations"
    shutil.copytree(Path(__file__).resolve().parents[1] / "migrations", directory)
    ((head,),) = topology.sql("SELECT version_num FROM alembic_version")
    (directory / "versions" / f"{PROBE}.py").write_text(
        PROBE_REVISION.format(revision=PROBE, head=head)
    )
    return directory


def _healthy(server: LiveServer) -> bool:
    try:
        with urllib.request.urlopen(server.url + "/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _reload(server: LiveServer) -> None:
    """``systemctl reload``: HUP to the master, which starts new workers and retires the old."""
    assert server.proc is not None
    pids = _worker_pids(server)
    server.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        now = _worker_pids(server)
        if now and not (now & pids) and _healthy(server):
            return
        time.sleep(0.2)
    raise AssertionError(f"the workers of {server.port} were not replaced after HUP")


def _worker_pids(server: LiveServer) -> set[int]:
    assert server.proc is not None
    children = Path(f"/proc/{server.proc.pid}/task/{server.proc.pid}/children")
    return {int(pid) for pid in children.read_text().split()} if children.exists() else set()


class PacedShared(chaos.Shared):
    """The chaos clients' shared state; each phone pauses after an answer while deploying."""

    def __init__(self) -> None:
        super().__init__()
        self.deployed = threading.Event()

    def progress(self, n: int) -> None:
        super().progress(n)
        self.deployed.wait(PAUSE)  # returns at once when the rollout is over


def _deploy(
    topology: Topology, tmp: Path, shared: chaos.Shared, storming: Callable[[], bool]
) -> list[str]:
    """The rollout, each step once the storm has reached its share of the sends."""
    steps: list[str] = []

    def at(share: float) -> None:
        chaos._wait_while(lambda: shared.answered < SENDS * share and storming(), shared)

    at(0.05)
    for server in topology.servers:
        _reload(server)
    steps.append(f"HUP at {shared.answered}")
    time.sleep(1)
    directory = _probe_migrations(tmp, topology)
    topology.flask("db", "upgrade", "--directory", str(directory))
    steps.append(f"migrated at {shared.answered}")
    for n in (0, 1):
        server = topology.servers[n]
        server.stop()  # SIGTERM: what it is answering it finishes
        start_app(server)
        steps.append(f"process {n} restarted at {shared.answered}")
        time.sleep(SETTLE)
    return steps


def test_zero_lost_on_rolling_deploy(tmp_path: Path) -> None:
    started = time.monotonic()
    chaos.CHOICE_ITEMS[:] = [item["code"] for item in DEFAULT_ITEMS if item["kind"] == "choice"]
    with running(tmp_path, "deploy", COSO_SYNC_LIMIT="100000 per minute") as topology:
        world = chaos._seed(create_app, topology.env["DATABASE_URL"], topology.servers)
        world.servers = [topology]  # type: ignore[list-item]  # the phones reach Caddy only
        shared = PacedShared()
        clients = [
            chaos.Client(username, random.Random(f"deploy-{username}"), patient=True)
            for username in world.users
        ]
        try:
            for client in clients:
                chaos._login(client, topology)  # type: ignore[arg-type]
            plans = [chaos._plan(client.rng, SENDS // chaos.CLIENTS) for client in clients]
            threads = [
                threading.Thread(
                    target=chaos._run_client, args=(c, world, plan, shared), daemon=True
                )
                for c, plan in zip(clients, plans, strict=True)
            ]
            for thread in threads:
                thread.start()

            def storming() -> bool:
                return any(thread.is_alive() for thread in threads)

            steps = _deploy(topology, tmp_path, shared, storming)
            # The rollout ended while the phones were still sending.
            assert storming(), f"the storm ended before the rollout: {steps}"
            shared.deployed.set()
            chaos._wait_while(storming, shared)
        finally:
            shared.deployed.set()
            shared.stop.set()
        chaos._check(world, clients)
        waited = sum(len(c.waited) for c in clients)
        errors = sum(c.connection_errors for c in clients)
        assert errors == 0, f"{errors} connections failed through the proxy"
        columns = topology.sql(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'evaluation' AND column_name = 'deploy_probe'"
        )
        assert columns == [("deploy_probe",)]
        assert topology.sql("SELECT version_num FROM alembic_version") == [(PROBE,)]
    print(
        f"deploy under storm: {'; '.join(steps)}; {waited} answers 503 + Retry-After "
        f"(waited out); {time.monotonic() - started:.1f} s"
    )
