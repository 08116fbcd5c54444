"""Chaos sync: many phones, replays, dropped connections and a crashed app process.

Twenty clients send 5,000 evaluations in batches to real gunicorn processes —
two over one PostgreSQL, or one over SQLite. 30 % of what they send are
replays (some with changed content, a few of another phone's evaluations),
one request in ten is dropped by the client before the answer is read (the
batch is sent again later), and one app process is SIGKILLed midway and
started again. At the end the database must hold exactly the unique
evaluations, each with the content first confirmed; every client's confirmed
UUIDs must be exactly what is stored for it; no request may have answered 5xx.

The batches mix the kinds of item (issue 18, item 5): about one new item in six is a
visit other than a branch meeting, and one in ten a new version of the written report
of one of the phone's visits the server already confirmed. Every visit is stored once
with the content first confirmed, and each report holds its latest confirmed version.

Photos (issue 20): about one evaluation in twenty-five gets one to three small JPEG/PNG photos,
of the evaluation as a whole or of an item (now and then the same picture on both), sent
to ``PUT /api/v1/photos/<uuid>/<sha256>`` as chaotically as the batches: some before their
evaluation's batch, most after; replayed; answers lost (sometimes sent again at once, to
race the lost one); some cut off mid-body; some meeting the killed process. All server
processes share one media directory. At the end every photo is stored once, on its
evaluation and item, by its phone, with its original and thumbnail on disk; nothing more.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import json
import os
import random
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest

from coso.evaluations.service import content_hash
from coso.visits.rules import REPORT_CONTENT, VISIT_CONTENT, sync_hash
from tests.conftest import PG_URL
from tests.support import LiveServer, free_port, fresh_database, pg_url

pytestmark = pytest.mark.slow

CLIENTS = 20
SENDS = 5_000  # evaluations sent in all, replays included
REPLAY_SHARE = 0.30
CHANGED_SHARE = 0.15  # of the replays: same UUID, other content
FOREIGN_SHARE = 0.10  # of the replays: another phone's evaluation (another account)
DROP_SHARE = 0.10  # requests the client abandons before reading the answer
MAX_BATCH = 20
BRANCHES = 200
LATE_SHARE = 0.15  # new evaluations of an older meeting (a phone that was offline for days)
KILL_AT = 0.4  # share of the sends answered when one process is killed
DOWN_SECONDS = 3.0
STALL_SECONDS = 60  # no batch answered for this long: the servers are stuck
PASSWORD = "chaos-Sync-pw-2026"
CHOICE_ITEMS: list[str] = []  # filled from coso.checklists.rules at set-up
VISIT_SHARE = 0.15  # of the new items: a visit (kind "visit")
REPORT_SHARE = 0.10  # of the new items: the next version of a confirmed visit's report
VISIT_FORMS = ("inspection", "coorganise", "field_study", "research")
PHOTO_SHARE = 0.04  # of the new evaluations (when the phones take photos): 1-3 photos each
PHOTO_ITEMS = ("", "", "P10", "P10", "C2")  # "" is the evaluation as a whole
TWICE_SHARE = 0.10  # of the photos: the same picture also on another item (two rows, one file)
EARLY_SHARE = 0.25  # of the photos: sent before their evaluation's batch is first sent
UPLOAD_TURN = 0.5  # chance that a phone with photos waiting sends one before its next batch
PHOTO_REPLAY = 0.20  # an answered photo is sent again later (the outbox was not sure)
CUT_SHARE = 0.03  # uploads whose connection drops mid-body
RACE_SHARE = 0.5  # of the lost answers: the photo sent again at once (racing the lost one)


@dataclass
class World:
    servers: list[LiveServer]
    branches: list[int]
    template_id: int
    users: dict[str, int]  # username -> id
    baseline: int  # evaluations stored by the demo seed
    media: Path | None = None  # the media directory all the processes share


@dataclass(frozen=True)
class Photo:
    """One photo a phone means to send: its address and its bytes."""

    evaluation: str
    item: str  # "" for the evaluation as a whole
    body: bytes
    content_type: str

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.evaluation, self.item, self.sha256)


@dataclass
class Client:
    """One phone: its account, its cookie, what the server confirmed to it."""

    username: str
    rng: random.Random
    cookie: str = ""
    csrf: str = ""
    confirmed: dict[str, list[str]] = field(default_factory=dict)  # uuid -> hashes confirmed
    ids: dict[str, int] = field(default_factory=dict)  # uuid -> id answered
    conflicts: list[tuple[str, str, int | None]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # every HTTP status received
    unexpected: list[str] = field(default_factory=list)
    own: list[dict[str, Any]] = field(default_factory=list)  # its evaluations, in order
    sent_uuids: set[str] = field(default_factory=set)
    kinds: dict[str, str] = field(default_factory=dict)  # uuid -> kind, of what it sent
    versions: dict[str, int] = field(default_factory=dict)  # visit uuid -> last report version
    reports: list[tuple[str, int, str, str]] = field(default_factory=list)
    """(visit uuid, version, digest, status) of every answered report version"""
    answered_uuids: set[str] = field(default_factory=set)
    drops: int = 0
    connection_errors: int = 0
    #: Whether a 429/503 with Retry-After is waited out and sent again, as the outbox does
    #: (tests/test_deploy.py, behind the proxy); here any answer but 200 is unexpected.
    patient: bool = False
    waited: list[int] = field(default_factory=list)  # such answers, waited out
    #: Whether its evaluations get photos (issue 20; off for tests/test_deploy.py).
    photos: bool = False
    uploads: deque[Photo] = field(default_factory=deque)  # photos waiting to be sent
    early: list[Photo] = field(default_factory=list)  # to go before their evaluation's batch
    meant: dict[tuple[str, str, str], Photo] = field(default_factory=dict)  # all it took
    photo_answers: list[tuple[tuple[str, str, str], str, int]] = field(default_factory=list)
    """(key, status, id) of every answered upload"""
    photo_drops: int = 0
    photo_cuts: int = 0
    photo_errors: int = 0  # uploads that met no server (the killed one)


class Shared:
    """What all clients share: the pool of sent items and the progress counters."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pool: list[dict[str, Any]] = []
        self.answered = 0
        self.uploaded = 0  # photo uploads answered (progress too, not counted in ``answered``)
        self.stop = threading.Event()  # set when the test gives up: clients end at once
        #: Ports of servers being started again: left alone until they answer their health
        #: check (else twenty clients queue ahead of it and it never answers in time).
        self.starting: set[int] = set()

    def add(self, item: dict[str, Any]) -> None:
        with self.lock:
            self.pool.append(item)

    def pick(self, rng: random.Random) -> dict[str, Any] | None:
        with self.lock:
            return dict(rng.choice(self.pool)) if self.pool else None

    def progress(self, n: int) -> None:
        with self.lock:
            self.answered += n

    def photo_answered(self) -> None:
        with self.lock:
            self.uploaded += 1


def _new_item(rng: random.Random, world: World) -> dict[str, Any]:
    """A fresh evaluation; most are of today's meeting, some of an older one (sent late)."""
    now = datetime.now(UTC)
    total = rng.randint(8, 40)
    values = ["pass"] * 6 + ["partial", "fail", "na"]
    days_late = rng.randint(1, 60) if rng.random() < LATE_SHARE else 0
    return {
        "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "branch_id": rng.choice(world.branches),
        "template_id": world.template_id,
        "guidance_id": None,
        "meeting_date": (date.today() - timedelta(days=days_late)).isoformat(),
        "meeting_type": rng.choice(["regular", "theme", "topic", "extraordinary"]),
        "mode": rng.choice(["in_person", "online"]),
        "members_total": total,
        "members_present": rng.randint(total // 3, total),
        "answers": [{"item": code, "value": rng.choice(values)} for code in CHOICE_ITEMS],
        "topics_covered": [],
        "notes": rng.choice([None, "Sinh hoạt đúng giờ.", "Thiếu biên bản."]),
        "good_practice": None,
        "recommend_practice": False,
        "supersedes": None,
        "started_at": (now - timedelta(minutes=90)).isoformat(),
        "submitted_at": now.isoformat(),
    }


def _new_visit(rng: random.Random, world: World) -> dict[str, Any]:
    """A fresh visit of one or two days in the last three weeks."""
    start = date.today() - timedelta(days=rng.randint(1, 20))
    return {
        "kind": "visit",
        "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "unit_id": rng.choice(world.branches),
        "form": rng.choice(VISIT_FORMS),
        "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=rng.randint(0, 1))).isoformat(),
        "submitted_at": datetime.now(UTC).isoformat(),
    }


def _next_report(client: Client) -> dict[str, Any] | None:
    """The next version of the report of one of the client's visits the server confirmed."""
    visits = [key for key in client.confirmed if client.kinds.get(key) == "visit"]
    if not visits:
        return None
    visit = client.rng.choice(sorted(visits))
    version = client.versions.get(visit, 0) + 1
    client.versions[visit] = version
    return {
        "kind": "visit_report",
        "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, visit)),
        "visit_uuid": visit,
        "version": version,
        "report": f"Báo cáo bản {version} ({client.rng.getrandbits(32)})",
    }


def digest(item: dict[str, Any]) -> str:
    """What the server fingerprints of an item, by its kind."""
    kind = item.get("kind")
    if kind == "visit":
        return sync_hash(item, VISIT_CONTENT)
    if kind == "visit_report":
        return sync_hash(item, REPORT_CONTENT)
    return content_hash(item)


def _plan(rng: random.Random, sends: int) -> deque[list[Any]]:
    """The client's batches of operations: new evaluations, replays of its own, a few of others'.

    An operation is ``(kind, index)`` with kind new, same, changed (same UUID, other
    content) or foreign (another phone's evaluation); it becomes an item when its batch
    is first sent, so that what is submitted later is also submitted later.
    """
    ops: list[tuple[str, int]] = []
    made = 0
    for _ in range(sends):
        if made and rng.random() < REPLAY_SHARE:
            roll = rng.random()
            if roll < FOREIGN_SHARE:
                kind = "foreign"
            elif roll < FOREIGN_SHARE + CHANGED_SHARE:
                kind = "changed"
            else:
                kind = "same"
            ops.append((kind, rng.randrange(made)))
        else:
            ops.append(("new", made))
            made += 1
    batches: deque[list[Any]] = deque()
    while ops:
        size = rng.randint(1, MAX_BATCH)
        batches.append(ops[:size])
        ops = ops[size:]
    return batches


def _materialize(
    client: Client, world: World, shared: Shared, ops: list[tuple[str, int]]
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for kind, index in ops:
        if kind == "new":
            roll = client.rng.random()
            report = _next_report(client) if roll < REPORT_SHARE else None
            if report is not None:  # never replayed on purpose: re-sent only after a drop
                items.append(report)
                continue
            if roll < REPORT_SHARE + VISIT_SHARE:
                item = _new_visit(client.rng, world)
            else:
                item = _new_item(client.rng, world)
                if client.photos and client.rng.random() < PHOTO_SHARE:
                    _take_photos(client, item["uuid"])
            client.own.append(item)
            shared.add(item)
        elif kind == "foreign" and (foreign := shared.pick(client.rng)) is not None:
            item = foreign
        else:
            # (a report version took some "new" slots: the index may run past the list)
            item = dict(client.own[index % len(client.own)])
            if kind == "changed" and item.get("kind") == "visit":
                item["form"] = next(f for f in VISIT_FORMS if f != item["form"])
            elif kind == "changed":
                item["notes"] = f"changed {client.rng.getrandbits(32)}"
                item["members_present"] = max(0, item["members_present"] - 1)
        items.append(item)
    return items


def _picture(rng: random.Random) -> tuple[bytes, str]:
    """A small photo of noise (a few KB): distinct bytes, so distinct hashes."""
    from PIL import Image

    size = (rng.randint(12, 40), rng.randint(12, 40))
    image = Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))
    out = io.BytesIO()
    if rng.random() < 0.7:
        image.save(out, "JPEG", quality=rng.randint(60, 95))
        return out.getvalue(), "image/jpeg"
    image.save(out, "PNG")
    return out.getvalue(), "image/png"


def _take_photos(client: Client, evaluation: str) -> None:
    """One to three photos of a new evaluation; a few go out before its batch, most after."""
    for _ in range(client.rng.randint(1, 3)):
        body, content_type = _picture(client.rng)
        items = [client.rng.choice(PHOTO_ITEMS)]
        if client.rng.random() < TWICE_SHARE:
            items.append(next(code for code in ("", "P10") if code != items[0]))
        for item in items:
            photo = Photo(evaluation, item, body, content_type)
            if photo.key in client.meant:
                continue  # the same picture twice on one item is one photo
            client.meant[photo.key] = photo
            if client.rng.random() < EARLY_SHARE:
                client.early.append(photo)  # sent before the batch (_run_client)
            else:
                client.uploads.append(photo)


def _cookies(response: http.client.HTTPResponse, jar: dict[str, str]) -> None:
    for header in response.headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        jar[name.strip()] = rest.split(";", 1)[0]


def _request(
    server: LiveServer,
    method: str,
    path: str,
    jar: dict[str, str],
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    conn = server.connection()
    try:
        cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
        conn.request(method, path, body=body, headers={**(headers or {}), "Cookie": cookie})
        response = conn.getresponse()
        data = response.read()
        _cookies(response, jar)
        return response.status, data
    finally:
        conn.close()


def _login(client: Client, server: LiveServer) -> None:
    jar: dict[str, str] = {}
    status, page = _request(server, "GET", "/login", jar)
    assert status == 200
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token, "the login form carries a csrf_token"
    form = f"username={client.username}&password={PASSWORD}&csrf_token={token.group(1).decode()}"
    status, _ = _request(
        server,
        "POST",
        "/login",
        jar,
        form.encode(),
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status in (302, 303), f"login of {client.username} answered {status}"
    status, data = _request(server, "GET", "/api/v1/session", jar)
    assert status == 200, f"session of {client.username} answered {status}"
    client.csrf = json.loads(data)["csrf_token"]
    client.cookie = "; ".join(f"{k}={v}" for k, v in jar.items())


ANSWERED, DROPPED, FAILED = "answered", "dropped", "failed"


def _send(client: Client, server: LiveServer, batch: list[dict[str, Any]]) -> str:
    """POST one batch: answered, dropped by the client, or failed (no server, 5xx, 429)."""
    body = json.dumps({"device_id": f"chaos-{client.username}", "evaluations": batch}).encode()
    headers = {
        "Content-Type": "application/json",
        "X-CSRFToken": client.csrf,
        "Cookie": client.cookie,
    }
    for item in batch:
        client.sent_uuids.add(item["uuid"])
        client.kinds.setdefault(item["uuid"], item.get("kind", "evaluation"))
    conn = server.connection()
    try:
        conn.request("POST", "/api/v1/sync", body=body, headers=headers)
        if client.rng.random() < DROP_SHARE:
            client.drops += 1  # the phone loses signal before the answer arrives
            return DROPPED
        response = conn.getresponse()
        data = response.read()
    except (OSError, http.client.HTTPException):
        client.connection_errors += 1
        return FAILED
    finally:
        conn.close()
    if client.patient and response.status in (429, 503) and response.getheader("Retry-After"):
        client.waited.append(response.status)
        return FAILED
    client.statuses.append(response.status)
    if response.status != 200:
        client.unexpected.append(f"HTTP {response.status}: {data[:300]!r}")
        return FAILED if response.status >= 500 or response.status == 429 else ANSWERED
    results = json.loads(data)["results"]
    if [r["uuid"] for r in results] != [item["uuid"] for item in batch]:
        client.unexpected.append(f"results out of order or missing: {results[:3]}")
        return ANSWERED
    for item, result in zip(batch, results, strict=True):
        key = item["uuid"]
        client.answered_uuids.add(key)
        if item.get("kind") == "visit_report":
            client.reports.append(
                (item["visit_uuid"], item["version"], digest(item), result["status"])
            )
            if result["status"] not in ("created", "duplicate", "conflict"):
                client.unexpected.append(f"report {key}: {result['status']} {result['errors']}")
            continue
        if result["status"] in ("created", "duplicate"):
            client.confirmed.setdefault(key, []).append(digest(item))
            previous = client.ids.setdefault(key, result["id"])
            if previous != result["id"]:
                client.unexpected.append(f"{key}: id {previous} then {result['id']}")
        elif result["status"] == "conflict":
            client.conflicts.append((key, digest(item), result["id"]))
        else:
            client.unexpected.append(f"{key}: {result['status']} {result['errors']}")
    return ANSWERED


def _upload(client: Client, server: LiveServer, photo: Photo) -> str:
    """PUT one photo: answered, dropped (answer lost, or body cut off), or failed."""
    query = f"?item={photo.item}" if photo.item else ""
    path = f"/api/v1/photos/{photo.evaluation}/{photo.sha256}{query}"
    headers = {
        "Content-Type": photo.content_type,
        "Content-Length": str(len(photo.body)),
        "X-CSRFToken": client.csrf,
        "Cookie": client.cookie,
    }
    roll = client.rng.random()
    conn = server.connection()
    try:
        conn.putrequest("PUT", path, skip_accept_encoding=True)
        for name, value in headers.items():
            conn.putheader(name, value)
        conn.endheaders()
        if roll < CUT_SHARE:  # the signal goes while the photo is on its way
            conn.send(photo.body[: len(photo.body) // 2])
            client.photo_cuts += 1
            return DROPPED
        conn.send(photo.body)
        if roll < CUT_SHARE + DROP_SHARE:
            client.photo_drops += 1  # sent whole, the answer never arrives
            return DROPPED
        response = conn.getresponse()
        data = response.read()
    except (OSError, http.client.HTTPException):
        client.photo_errors += 1
        return FAILED
    finally:
        conn.close()
    if response.status not in (200, 201):
        client.unexpected.append(f"photo {photo.key}: HTTP {response.status}: {data[:300]!r}")
        return FAILED if response.status >= 500 or response.status == 429 else ANSWERED
    answer = json.loads(data)
    expected = "created" if response.status == 201 else "duplicate"
    if (answer["status"], answer["sha256"], answer["item"] or "") != (
        expected,
        photo.sha256,
        photo.item,
    ):
        client.unexpected.append(f"photo {photo.key}: {response.status} {answer}")
    client.photo_answers.append((photo.key, answer["status"], answer["id"]))
    return ANSWERED


def _send_photo(client: Client, up: list[LiveServer], shared: Shared) -> str:
    """Send the next waiting photo; a lost answer is sometimes sent again at once."""
    photo = client.uploads.popleft()
    server = client.rng.choice(up)
    outcome = _upload(client, server, photo)
    if outcome == DROPPED and client.rng.random() < RACE_SHARE:
        # The outbox tries again at once, on the other process if there is one, while the
        # first may still be storing the lost one: the two race for the same row and file.
        others = [other for other in up if other is not server] or up
        outcome = _upload(client, client.rng.choice(others), photo)
    if outcome == ANSWERED:
        shared.photo_answered()
        if client.rng.random() < PHOTO_REPLAY:
            client.uploads.append(photo)  # it will go again: a replay
    else:
        client.uploads.append(photo)
    return outcome


def _run_client(client: Client, world: World, batches: deque[list[Any]], shared: Shared) -> None:
    servers = world.servers
    backoff = 0.1
    while (batches or client.uploads) and not shared.stop.is_set():
        up = [server for server in servers if server.port not in shared.starting]
        if not up:
            time.sleep(0.1)
            continue
        if client.uploads and (not batches or client.rng.random() < UPLOAD_TURN):
            outcome = _send_photo(client, up, shared)
        else:
            batch = batches.popleft()
            if isinstance(batch[0], tuple):  # first sent now
                batch = _materialize(client, world, shared, batch)
                # Some of its evaluations' photos go now, before the evaluations themselves.
                for photo in client.early:
                    client.uploads.appendleft(photo)
                    _send_photo(client, up, shared)
                client.early.clear()
            outcome = _send(client, client.rng.choice(up), batch)
            if outcome == ANSWERED:
                shared.progress(len(batch))
            else:
                batches.append(batch)  # sent again later: a replay of what may be stored
        if outcome == ANSWERED:
            backoff = 0.1
        elif outcome == FAILED:
            time.sleep(backoff * (0.5 + client.rng.random()))
            backoff = min(backoff * 2, 1.0)


def _world(backend: str, tmp: Path, processes: int) -> World:
    from coso import create_app
    from coso.checklists.rules import DEFAULT_ITEMS

    CHOICE_ITEMS[:] = [item["code"] for item in DEFAULT_ITEMS if item["kind"] == "choice"]
    database = fresh_database(backend, tmp, PG_URL, "chaos")
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "SECRET_KEY": "chaos-test-secret",  # the same on every process, as in production
        "COSO_ENV": "development",
        "COSO_SYNC_LIMIT": "100000 per minute",
        "HOME": str(tmp),
        "COSO_MEDIA_DIR": str(tmp / "media"),  # one directory for every process
    }
    env.pop("REDIS_URL", None)
    servers = []
    for n in range(processes):
        port = free_port()
        servers.append(
            LiveServer(
                url=f"http://127.0.0.1:{port}", port=port, env=env, log=tmp / f"gunicorn-{n}.log"
            )
        )
    servers[0].flask("db", "upgrade")
    world = _seed(create_app, database, servers)
    world.media = tmp / "media"
    return world


def _seed(create_app: Any, database: str, servers: list[LiveServer]) -> World:
    """The demo province (what ``seed-demo`` loads) and twenty cadres, one per phone.

    Loaded in this process rather than by the CLI, which saves starting Python twice.
    """
    import sqlalchemy as sa

    from coso import demo
    from coso.extensions import db
    from coso.models import ChecklistTemplate, Evaluation, Unit, User

    url = pg_url(database) if "postgres" in database else database
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context():
        demo.seed(branches=BRANCHES, months=1, communes=None, random_seed=2026, wipe=False)
        province = db.session.scalar(sa.select(Unit).where(Unit.kind == "province"))
        users = []
        for n in range(CLIENTS):
            user = User(username=f"chaos{n:02d}", display_name=f"Chaos {n}", unit=province)
            user.role_list = ["cadre"]
            user.set_password(PASSWORD)
            db.session.add(user)
            users.append(user)
        db.session.flush()
        ids = {user.username: user.id for user in users}
        db.session.commit()
        branches = list(db.session.scalars(sa.select(Unit.id).where(Unit.kind == "branch")))
        template_id = db.session.scalar(
            sa.select(ChecklistTemplate.id)
            .where(ChecklistTemplate.status == "published")
            .order_by(ChecklistTemplate.version.desc())
        )
        baseline = db.session.scalar(sa.select(sa.func.count()).select_from(Evaluation))
        db.session.remove()
        db.engine.dispose()
    assert template_id is not None and baseline is not None
    return World(servers, branches, template_id, ids, baseline)


def run_chaos(backend: str, tmp: Path, processes: int) -> None:
    started = time.monotonic()
    world = _world(backend, tmp, processes)
    shared = Shared()
    try:
        failures: list[BaseException] = []

        def start(server: LiveServer) -> None:
            try:
                server.start(workers=1, threads=4)
            except BaseException as exc:  # reported below, in the test's own thread
                failures.append(exc)

        starting = [threading.Thread(target=start, args=(server,)) for server in world.servers]
        for thread in starting:
            thread.start()
        for thread in starting:
            thread.join()
        if failures:
            raise failures[0]
        clients = [
            Client(username, random.Random(f"chaos-{backend}-{username}"), photos=True)
            for username in world.users
        ]
        for n, client in enumerate(clients):
            _login(client, world.servers[n % processes])
        plans = [_plan(client.rng, SENDS // CLIENTS) for client in clients]
        threads = [
            threading.Thread(target=_run_client, args=(c, world, plan, shared), daemon=True)
            for c, plan in zip(clients, plans, strict=True)
        ]
        for thread in threads:
            thread.start()
        _kill_and_restart(world.servers[0], shared, threads)
        _wait_while(lambda: any(thread.is_alive() for thread in threads), shared)
        _check(world, clients)
        _check_photos(world, clients)
    finally:
        shared.stop.set()
        for server in world.servers:
            server.stop()
    print(f"chaos on {backend}: {time.monotonic() - started:.1f} s")


def _wait_while(condition: Callable[[], bool], shared: Shared) -> None:
    """Wait while ``condition`` holds, failing when nothing has been answered for a while."""
    last, since = (shared.answered, shared.uploaded), time.monotonic()
    while condition():
        if (shared.answered, shared.uploaded) != last:
            last, since = (shared.answered, shared.uploaded), time.monotonic()
        assert time.monotonic() - since < STALL_SECONDS, "the clients made no progress"
        time.sleep(0.05)


def _kill_and_restart(victim: LiveServer, shared: Shared, threads: list[threading.Thread]) -> None:
    _wait_while(
        lambda: shared.answered < SENDS * KILL_AT and any(t.is_alive() for t in threads), shared
    )
    victim.kill()
    time.sleep(DOWN_SECONDS)  # clients meet a refused connection and back off
    shared.starting.add(victim.port)
    try:
        victim.start(workers=1, threads=4)
    finally:
        shared.starting.discard(victim.port)


def _check(world: World, clients: list[Client]) -> None:
    server = world.servers[0]
    rows = server.sql(
        "SELECT e.uuid, e.content_hash, e.id, u.username FROM evaluation e "
        "JOIN " + ('"user"' if "postgres" in server.env["DATABASE_URL"] else "user") + " u "
        "ON u.id = e.cadre_id WHERE u.username LIKE 'chaos%'"
    )
    user_table = '"user"' if "postgres" in server.env["DATABASE_URL"] else "user"
    rows += server.sql(
        "SELECT v.uuid, v.content_hash, v.id, u.username FROM visit v "
        f"JOIN {user_table} u ON u.id = v.user_id WHERE v.uuid IS NOT NULL"
    )
    stored = {row[0]: row for row in rows}
    (total,) = server.sql("SELECT count(*) FROM evaluation")[0]
    kinds = {key: kind for c in clients for key, kind in c.kinds.items()}
    sent = {key for c in clients for key in c.sent_uuids if kinds[key] != "visit_report"}
    sent_evaluations = {key for key in sent if kinds[key] == "evaluation"}

    problems = [p for c in clients for p in c.unexpected]
    assert not problems, f"{len(problems)} unexpected answers, e.g. {problems[:5]}"
    statuses = [s for c in clients for s in c.statuses]
    assert all(s == 200 for s in statuses), sorted(set(statuses))
    # Every batch was answered at last: nothing was left hanging.
    assert set().union(*(c.answered_uuids for c in clients)) == set().union(
        *(c.sent_uuids for c in clients)
    )
    # Exactly the unique evaluations and visits, once each.
    assert set(stored) == sent
    assert total == world.baseline + len(sent_evaluations)
    assert len(rows) == len(stored)
    for client in clients:
        mine = {key for key, row in stored.items() if row[3] == client.username}
        assert set(client.confirmed) == mine, client.username
        for key, hashes in client.confirmed.items():
            # The content first confirmed is what is stored, and nothing else was confirmed.
            assert set(hashes) == {stored[key][1]}, key
            assert client.ids[key] == stored[key][2], key
        for key, digest, answered_id in client.conflicts:
            _uuid, stored_hash, stored_id, owner = stored[key]
            if owner == client.username:
                assert digest != stored_hash, f"{key}: same content answered conflict"
                assert answered_id == stored_id, key
            else:
                assert answered_id is None, f"{key}: another account's evaluation leaked"
    _check_reports(server, clients)
    # Nothing stored twice behind the evaluation either.
    evaluations = [row for key, row in stored.items() if kinds[key] == "evaluation"]
    keys = ", ".join(f"'{row[0]}'" for row in evaluations)
    ids = ", ".join(str(row[2]) for row in evaluations)
    (visits,) = server.sql(f"SELECT count(*) FROM visit WHERE evaluation_id IN ({ids})")[0]
    assert visits == len(evaluations)
    (audits,) = server.sql(
        "SELECT count(*) FROM audit_event WHERE action = 'evaluation.create' "
        f"AND object_id IN ({', '.join(repr(str(row[2])) for row in evaluations)})"
    )[0]
    assert audits == len(evaluations)
    assert keys  # something was stored at all
    assert len(sent) > len(sent_evaluations)  # and visits among it
    # Every branch's status survived the races: recomputing it changes nothing.
    query = (
        "SELECT branch_id, state, since, evaluation_id, last_meeting_date, streak, serious "
        "FROM branch_status ORDER BY branch_id"
    )
    before = server.sql(query)
    server.flask("refresh-flags")
    assert server.sql(query) == before
    drops = sum(c.drops for c in clients)
    errors = sum(c.connection_errors for c in clients)
    print(
        f"{len(sent)} unique evaluations sent, {len(statuses)} answered requests, "
        f"{drops} dropped, {errors} connection errors, "
        f"{sum(len(c.conflicts) for c in clients)} conflicts"
    )


def _check_reports(server: LiveServer, clients: list[Client]) -> None:
    """Each visit's report is its latest confirmed version; only older versions conflicted."""
    stored = {
        row[0]: (row[1], row[2])
        for row in server.sql(
            "SELECT uuid, report_version, report_hash FROM visit WHERE report_uuid IS NOT NULL"
        )
    }
    confirmed: dict[str, tuple[int, str]] = {}
    conflicts: list[tuple[str, int]] = []
    for client in clients:
        for visit, version, digest_, status in client.reports:
            if status in ("created", "duplicate"):
                if version >= confirmed.get(visit, (0, ""))[0]:
                    confirmed[visit] = (version, digest_)
            elif status == "conflict":
                conflicts.append((visit, version))
    assert confirmed, "no report version went through"
    assert {visit: stored[visit] for visit in confirmed} == confirmed
    assert set(stored) == set(confirmed)
    for visit, version in conflicts:
        assert version < stored[visit][0], f"{visit}: version {version} answered conflict"


def _check_photos(world: World, clients: list[Client]) -> None:
    """Every photo meant is stored once, on its evaluation and item, by its phone, with its
    original and thumbnail in the shared media directory; nothing else is stored."""
    from PIL import Image

    server = world.servers[0]
    assert world.media is not None
    user_table = '"user"' if "postgres" in server.env["DATABASE_URL"] else "user"
    rows = server.sql(
        "SELECT p.evaluation_uuid, p.item_code, p.sha256, p.id, u.username, p.content_type, "
        f"p.size, p.width, p.height FROM photo p JOIN {user_table} u ON u.id = p.uploaded_by_id"
    )
    meant = {key: (c.username, photo) for c in clients for key, photo in c.meant.items()}
    assert meant, "no photo was taken"
    keys = [row[:3] for row in rows]
    assert len(keys) == len(set(keys)), "a photo is stored twice"
    stored = {row[:3]: row for row in rows}
    assert not set(meant) - set(stored), f"lost: {sorted(set(meant) - set(stored))[:3]}"
    assert not set(stored) - set(meant), f"extra: {sorted(set(stored) - set(meant))[:3]}"
    sizes: dict[str, tuple[int, int]] = {}
    for key, (username, photo) in meant.items():
        _uuid, _item, sha, _id, owner, content_type, size, width, height = stored[key]
        assert (owner, content_type, size) == (username, photo.content_type, len(photo.body))
        sizes[sha] = (width, height)
    # What each phone was answered: every photo at last, "created" at most once (a lost
    # answer's replay is a duplicate), always the id stored.
    answers = [answer for c in clients for answer in c.photo_answers]
    assert {key for key, _status, _id in answers} == set(meant), "a photo was never answered"
    created = [key for key, status, _id in answers if status == "created"]
    assert len(created) == len(set(created)), "a photo answered created twice"
    assert all(stored[key][3] == id_ for key, _status, id_ in answers)
    # Attached to evaluations the server holds; some arrived before their evaluation.
    when = server.sql(
        "SELECT count(*), sum(CASE WHEN p.uploaded_at < e.received_at THEN 1 ELSE 0 END) "
        "FROM photo p JOIN evaluation e ON e.uuid = p.evaluation_uuid"
    )
    (attached, before) = when[0]
    assert attached == len(meant), "a photo of an evaluation the server does not hold"
    assert 0 < before < attached, f"{before} of {attached} photos before their evaluation"
    # The files: an original and a thumbnail per picture, named by its hash; nothing more
    # (but the temporary file of a write the kill interrupted).
    root = world.media / "photos"
    files = {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}
    partial = {name for name in files if name.split("/")[-1].startswith(".up-")}
    hashes = {sha for _uuid, _item, sha in meant}
    expected = {f"{sha[:2]}/{sha}{end}" for sha in hashes for end in ("", ".thumb.jpg")}
    missing, extra = expected - files, files - partial - expected
    assert not missing and not extra, f"missing {sorted(missing)[:3]}, extra {sorted(extra)[:3]}"
    for sha in hashes:
        original = root / sha[:2] / sha
        assert hashlib.sha256(original.read_bytes()).hexdigest() == sha
        with Image.open(original) as picture, Image.open(f"{original}.thumb.jpg") as thumbnail:
            assert picture.size == sizes[sha], sha
            assert thumbnail.format == "JPEG"
            assert thumbnail.size == sizes[sha], sha  # small pictures are not enlarged
    # No upload failed on the server, not even those whose answer nobody read.
    for process in world.servers:
        log = process.log.read_text(errors="replace")
        failed = re.findall(r"PUT /api/v1/photos/\S+ 5\d\d .*|Exception on /api/v1/photos.*", log)
        assert not failed, f"{process.log.name}: {failed[:3]}"
    # The chaos reached the photos: replays, lost answers, cut bodies, the killed process.
    duplicates = sum(1 for _key, status, _id in answers if status == "duplicate")
    drops = sum(c.photo_drops for c in clients)
    cuts = sum(c.photo_cuts for c in clients)
    errors = sum(c.photo_errors for c in clients)
    assert duplicates and drops and cuts and errors
    print(
        f"{len(meant)} photos ({len(hashes)} pictures, {before} before their evaluation), "
        f"{len(answers)} uploads answered ({duplicates} duplicates), {drops} answers lost, "
        f"{cuts} cut off, {errors} connection errors, {len(partial)} partial files"
    )


def test_chaos_sync_sqlite_one_process(tmp_path: Path) -> None:
    run_chaos("sqlite", tmp_path, processes=1)


@pytest.mark.skipif(not PG_URL, reason="COSO_TEST_DATABASE_URL is not set (CI sets it)")
def test_chaos_sync_postgresql_two_processes(tmp_path: Path) -> None:
    run_chaos("postgresql", tmp_path, processes=2)
