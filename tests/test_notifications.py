"""Notifications (issue 21, items 1 and 2): the outbox is written with the change, the worker
delivers it in-app and by email to a real SMTP server (aiosmtpd) once — through failures,
retries and two workers on PostgreSQL — digests gather a day, unsubscribe needs no login.
"""

from __future__ import annotations

import asyncio
import email
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email import policy
from email.message import Message
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient

from coso import clock
from coso.evaluations import service as evaluations
from coso.extensions import db
from coso.models import (
    CorrectiveAction,
    Notification,
    NotificationContact,
    NotificationDelivery,
    NotificationDigest,
    NotificationPreference,
    PlanCadre,
    UnitSettings,
    User,
    VisitPlan,
)
from coso.notifications import channels, rules, service, worker
from tests.builders import payload, small_province, with_checklist
from tests.conftest import AuthActions
from tests.support import ROOT, free_port

BASE = "http://coso.test"
HX = {"HX-Request": "true"}


# ------------------------------------------------------------------ a real SMTP server


class Inbox:
    """An aiosmtpd handler that keeps what it accepts; it can refuse the first tries, or
    hold a message a while (so that two workers overlap, or one can be killed mid-way)."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.refuse = 0
        self.delay = 0.0
        self.lock = threading.Lock()
        self.receiving = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.receiving.set()
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            if self.refuse > 0:
                self.refuse -= 1
                return "451 4.3.0 Try again later"
            self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if address in m["To"]]


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def world(app: Flask, smtp: tuple[Inbox, int]) -> dict[str, Any]:
    """The small province; the secretary and the commune secretary have addresses; mail on."""
    app.config.update(COSO_SMTP_URL=f"smtp://127.0.0.1:{smtp[1]}", COSO_BASE_URL=BASE)
    with app.app_context():
        data = with_checklist(small_province())
        for name in ("secretary", "commune", "cadre"):
            user = data["users"][name]
            db.session.add(NotificationContact(user_id=user.id, email=f"{name}@example.vn"))
        db.session.commit()
        return {
            "branch": data["branches"][0].id,
            "other_branch": data["branches"][2].id,
            "template": data["template"].id,
            "guidance": data["guidance"].id,
            "users": {name: user.id for name, user in data["users"].items()},
        }


def _sync(client: FlaskClient, auth: AuthActions, world: dict[str, Any], n: int = 1) -> None:
    """The cadre syncs ``n`` evaluations of the branch through the real API."""
    auth.login("cadre")
    items = [
        payload(world["branch"], world["template"], world["guidance"], values={"P10": "fail"})
        for _ in range(n)
    ]
    response = client.post(
        "/api/v1/sync",
        json={"evaluations": items},
        headers={"X-CSRFToken": auth.csrf_token()},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert all(r["status"] == "created" for r in response.get_json()["results"])
    auth.logout()


def _work(app: Flask) -> worker.Stats:
    with app.test_request_context(base_url=BASE):
        stats = worker.run_once()
        db.session.remove()
    return stats


def _count(app: Flask, model: Any, *where: Any) -> int:
    with app.app_context():
        return int(
            db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0
        )


# ------------------------------------------------------------------ rules


@pytest.mark.parametrize(
    ("attempts", "seconds"), [(0, 0), (1, 30), (2, 60), (3, 120), (12, 6 * 3600), (99, 6 * 3600)]
)
def test_backoff_doubles_up_to_a_cap(attempts: int, seconds: int) -> None:
    assert rules.backoff(attempts).total_seconds() == seconds


@pytest.mark.parametrize(
    ("due", "soon", "late"),
    [(0, True, False), (3, True, False), (4, False, False), (-1, False, True)],
)
def test_due_soon_and_overdue(due: int, soon: bool, late: bool) -> None:
    today = date(2026, 3, 10)
    day = today + timedelta(days=due)
    assert rules.due_soon(day, today) is soon
    assert rules.overdue(day, today) is late


def test_the_worker_clock_keeps_the_pinned_day() -> None:
    real = datetime(2026, 12, 6, 3, 4, 5, tzinfo=UTC)
    assert clock.now_on(date(2026, 3, 10), real) == datetime(2026, 3, 10, 3, 4, 5, tzinfo=UTC)
    assert clock.now_on(date(2026, 12, 6), real) == real


def test_the_clock_reads_the_day_in_vietnam() -> None:
    """20:30 UTC on 6 December is 03:30 on 7 December in Hà Nội: today is the 7th there."""
    vn = ZoneInfo("Asia/Ho_Chi_Minh")
    real = datetime(2026, 12, 6, 20, 30, tzinfo=UTC)
    assert clock.now_on(date(2026, 12, 7), real, vn) == real
    # Pinned to the 1st: the same wall-clock time (03:30 in Hà Nội) on that day.
    assert clock.now_on(date(2026, 12, 1), real, vn) == datetime(2026, 11, 30, 20, 30, tzinfo=UTC)


def test_today_is_the_apps_day_not_the_servers(app: Flask) -> None:
    with app.app_context():
        app.config["COSO_TODAY"] = None
        assert clock.today() == datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
        app.config["BABEL_DEFAULT_TIMEZONE"] = "Pacific/Kiritimati"  # UTC+14
        assert clock.today() == datetime.now(ZoneInfo("Pacific/Kiritimati")).date()


# ------------------------------------------------------------------ delivery


def test_a_synced_evaluation_reaches_its_secretary_in_app_and_by_email_once(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any], smtp: Any
) -> None:
    inbox, _port = smtp
    _sync(client, auth, world)
    # Written with the evaluation, before any worker ran: one per secretary, none to the cadre.
    with app.app_context():
        rows = db.session.scalars(sa.select(Notification)).all()
        assert sorted(r.user_id for r in rows) == sorted(
            [world["users"]["secretary"], world["users"]["commune"]]
        )
        assert {r.kind for r in rows} == {rules.NEW_EVALUATION}
    stats = _work(app)
    assert stats.delivered == 2
    assert len(inbox.to("secretary@example.vn")) == 1
    assert len(inbox.to("commune@example.vn")) == 1
    mail = inbox.to("secretary@example.vn")[0]
    assert mail["List-Unsubscribe"].startswith(f"<{BASE}/notifications/unsubscribe?token=")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    body = mail.get_payload(decode=True).decode()
    assert "Chi đoàn ấp 1" in body and f"{BASE}/feedback/" in body
    assert "Xin chào" in body  # Vietnamese by default
    # Again: nothing new is sent.
    assert _work(app).delivered == 0
    assert len(inbox.messages) == 2
    # In-app: the secretary's bell counts it, the centre lists it with its link.
    auth.login("secretary")
    page = client.get("/notifications").get_data(as_text=True)
    assert 'id="bell-count"' in page and "Chi đoàn ấp 1" in page
    assert re.search(r'href="/feedback/\d+"', page)


def test_a_refused_delivery_is_retried_with_backoff_and_sent_once(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any], smtp: Any
) -> None:
    inbox, _port = smtp
    inbox.refuse = 2  # the first two tries (one per recipient) are refused
    _sync(client, auth, world)
    first = _work(app)
    assert first.retried == 2 and first.delivered == 0 and inbox.messages == []
    with app.app_context():
        for row in db.session.scalars(sa.select(Notification)):
            assert row.attempts == 1 and row.state == rules.PENDING and "451" in row.last_error
            assert row.next_attempt_at > datetime.now(UTC) + timedelta(seconds=20)
            # In-app was delivered at the first try and is not asked again.
            assert (
                _count(app, NotificationDelivery, NotificationDelivery.notification_id == row.id)
                == 1
            )
    assert _work(app).delivered == 0  # the backoff holds
    with app.app_context():
        db.session.execute(sa.update(Notification).values(next_attempt_at=datetime.now(UTC)))
        db.session.commit()
    assert _work(app).delivered == 2
    assert len(inbox.to("secretary@example.vn")) == 1 and len(inbox.to("commune@example.vn")) == 1
    assert _count(app, NotificationDelivery, NotificationDelivery.channel == "in_app") == 2


def test_a_rolled_back_change_leaves_no_notice(
    app: Flask, world: dict[str, Any], smtp: Any
) -> None:
    inbox, _port = smtp
    with app.test_request_context():
        cadre = db.session.get(User, world["users"]["cadre"])
        item = payload(world["branch"], world["template"], world["guidance"])
        results = evaluations.submit_batch([item], cadre)
        assert results[0].status == "created"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 2
        db.session.rollback()
    assert _count(app, Notification) == 0
    _work(app)
    assert inbox.messages == []


def test_a_worker_killed_mid_delivery_is_followed_by_one_mail(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any], smtp: Any
) -> None:
    """The worker process dies while the SMTP server holds its message; a new one sends it."""
    inbox, port = smtp
    _sync(client, auth, world)
    with app.app_context():
        db.session.execute(  # one recipient, so the kill lands on its only mail
            sa.delete(Notification).where(Notification.user_id == world["users"]["commune"])
        )
        db.session.commit()
    inbox.delay = 30.0
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": "test-secret",
        "COSO_SMTP_URL": f"smtp://127.0.0.1:{port}",
        "COSO_BASE_URL": BASE,
    }
    command = [sys.executable, "-m", "flask", "--app", "app", "notifications", "run", "--once"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    # Killed while the server holds the message (before it answers 250).
    assert inbox.receiving.wait(30), "the worker reached the SMTP server"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)
    assert inbox.messages == []
    # In-app commits with the mail's try: nothing is half-recorded.
    assert _count(app, NotificationDelivery) == 0
    inbox.delay = 0
    _work(app)
    assert len(inbox.to("secretary@example.vn")) == 1
    _work(app)
    assert len(inbox.messages) == 1


@pytest.mark.skipif(
    not os.environ.get("COSO_TEST_DATABASE_URL"), reason="several workers need PostgreSQL"
)
def test_two_workers_share_the_queue_and_send_each_mail_once(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any], smtp: Any
) -> None:
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SKIP LOCKED is PostgreSQL's")
    inbox, _port = smtp
    inbox.delay = 0.15
    _sync(client, auth, world, n=5)  # 10 notifications
    results: list[worker.Stats] = []

    def one() -> None:
        results.append(_work(app))

    threads = [threading.Thread(target=one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(s.delivered for s in results) == 10
    assert all(s.delivered > 0 for s in results), "both workers took a share"
    ids = [m["Message-ID"] for m in inbox.messages]
    assert len(ids) == 10 and len(set(ids)) == 10
    assert _count(app, NotificationDelivery, NotificationDelivery.channel == "email") == 10


# ------------------------------------------------------------------ the scan


def test_the_scan_writes_time_events_once(app: Flask, world: dict[str, Any]) -> None:
    today = date(2026, 3, 10)
    app.config["COSO_TODAY"] = today.isoformat()
    with app.test_request_context():
        users = world["users"]
        cadre = db.session.get(User, users["cadre"])
        db.session.add(
            UnitSettings(
                unit_id=db.session.get(User, users["admin"]).unit_id, values={"unack_days": 3}
            )
        )
        result = evaluations.submit_batch(
            [payload(world["branch"], world["template"], world["guidance"])], cadre
        )[0]
        db.session.execute(sa.delete(Notification))
        from coso.models import Evaluation

        db.session.get(Evaluation, result.id).received_at = datetime(2026, 3, 6, 8, tzinfo=UTC)
        for due in (
            today + timedelta(days=2),
            today - timedelta(days=1),
            today + timedelta(days=9),
        ):
            db.session.add(
                CorrectiveAction(
                    branch_id=world["branch"],
                    evaluation_id=result.id,
                    description="Lập sổ",
                    owner="Bí thư",
                    due_date=due,
                    status="open",
                    created_by_id=users["secretary"],
                )
            )
        plan = VisitPlan(
            unit_id=world["branch"],
            form="meeting",
            start_date=today + timedelta(days=1),
            end_date=today + timedelta(days=1),
            created_by_id=users["province"],
            status="planned",
        )
        plan.cadres = [PlanCadre(user_id=users["cadre"])]
        db.session.add(plan)
        db.session.commit()
        first = service.scan(today)
        db.session.commit()
        again = service.scan(today)
        db.session.commit()
        kinds = sorted((n.kind, n.user_id) for n in db.session.scalars(sa.select(Notification)))
    assert again == 0 and first == len(kinds)
    assert (rules.ACTION_DUE, users["secretary"]) in kinds
    assert (rules.ACTION_OVERDUE, users["secretary"]) in kinds
    assert (rules.UNACKNOWLEDGED, users["secretary"]) in kinds
    assert (rules.UNACKNOWLEDGED, users["commune"]) in kinds
    assert (rules.VISIT_TOMORROW, users["cadre"]) in kinds
    assert [k for k in kinds if k[0] == rules.ACTION_DUE] == [
        (rules.ACTION_DUE, users["secretary"])
    ]


def test_a_reply_and_a_plan_notify_in_their_transaction(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    _sync(client, auth, world)
    with app.app_context():
        evaluation_id = db.session.scalar(sa.text("SELECT max(id) FROM evaluation"))
    auth.login("secretary")
    response = client.post(
        f"/feedback/{evaluation_id}/reply",
        data={"reply": "Chi đoàn đã nhận và sẽ sửa.", "csrf_token": auth.csrf_token()},
    )
    assert response.status_code in (200, 302, 303)
    assert (
        _count(
            app,
            Notification,
            Notification.kind == rules.REPLY,
            Notification.user_id == world["users"]["cadre"],
        )
        == 1
    )
    with app.test_request_context():
        from coso.plans import service as plans

        province = db.session.get(User, world["users"]["province"])
        cadre = db.session.get(User, world["users"]["cadre"])
        from coso.models import Unit

        day = date.today() + timedelta(days=7)
        plans.create(
            province,
            {
                "unit": db.session.get(Unit, world["branch"]),
                "form": "meeting",
                "start_date": day,
                "end_date": day,
                "cadres": [cadre],
            },
        )
        db.session.commit()
    assert (
        _count(
            app,
            Notification,
            Notification.kind == rules.VISIT_ASSIGNED,
            Notification.user_id == world["users"]["cadre"],
        )
        == 1
    )


# ------------------------------------------------------------------ digests


@pytest.fixture
def midday(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real clock at noon in Vietnam (05:00 UTC), whatever the hour the tests run at.

    A pinned day (``COSO_TODAY``) keeps the real time of day, and a digest covers a UTC day
    (``rules.day_bounds``): from midnight to 07:00 in Vietnam the UTC day is still the one
    before, so the notices of a pinned day would fall in the previous day's digest.
    """
    real = datetime

    class Midday(real):
        @classmethod
        def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
            noon = real.now(UTC).replace(hour=5, minute=0, second=0, microsecond=0)
            return noon.astimezone(tz) if tz is not None else noon.replace(tzinfo=None)

    monkeypatch.setattr(clock, "datetime", Midday)


def test_a_daily_digest_gathers_a_day_for_who_chose_it(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    world: dict[str, Any],
    smtp: Any,
    midday: None,
) -> None:
    inbox, _port = smtp
    with app.app_context():
        db.session.add(
            NotificationPreference(
                user_id=world["users"]["secretary"], kind=rules.NEW_EVALUATION, mode=rules.DIGEST
            )
        )
        db.session.commit()
    app.config["COSO_TODAY"] = "2026-03-10"
    _sync(client, auth, world, n=2)
    _work(app)
    assert inbox.to("secretary@example.vn") == []  # waiting for the digest
    assert len(inbox.to("commune@example.vn")) == 2  # the commune's choice: at once
    app.config["COSO_TODAY"] = "2026-03-11"
    _sync(client, auth, world, n=1)  # the 11th's: for tomorrow's digest
    _work(app)
    digests = inbox.to("secretary@example.vn")
    assert len(digests) == 1
    body = digests[0].get_payload(decode=True).decode()
    assert "10/03/2026" in digests[0]["Subject"] or "10/03/2026" in body
    assert body.count(f"{BASE}/feedback/") == 2
    assert "token=" in body
    _work(app)
    assert len(inbox.to("secretary@example.vn")) == 1  # one a day
    assert _count(app, NotificationDigest) == 1
    app.config["COSO_TODAY"] = "2026-03-12"
    _work(app)
    second = inbox.to("secretary@example.vn")
    assert len(second) == 2 and second[1].get_payload(decode=True).decode().count("/feedback/") == 1


# ------------------------------------------------------------------ unsubscribe


def test_unsubscribe_needs_no_login_and_touches_only_that_user_and_kind(
    app: Flask, client: FlaskClient, world: dict[str, Any]
) -> None:
    users = world["users"]
    with app.test_request_context():
        token = channels.unsubscribe_token(users["secretary"], [rules.NEW_EVALUATION])
        other = channels.unsubscribe_token(users["commune"], [rules.REPLY])
    page = client.get(f"/notifications/unsubscribe?token={token}")
    assert page.status_code == 200 and "unsubscribe-done" not in page.get_data(as_text=True)
    assert _count(app, NotificationPreference) == 0  # a GET changes nothing (link scanners)
    # One click from a mail reader: a POST with no session and no CSRF token.
    done = client.post(
        "/notifications/unsubscribe", data={"token": token, "List-Unsubscribe": "One-Click"}
    )
    assert done.status_code == 200 and "unsubscribe-done" in done.get_data(as_text=True)
    with app.app_context():
        rows = db.session.scalars(sa.select(NotificationPreference)).all()
        assert [(r.user_id, r.kind, r.mode) for r in rows] == [
            (users["secretary"], rules.NEW_EVALUATION, rules.OFF)
        ]
    # A token altered to name another user or kind is refused.
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert client.post("/notifications/unsubscribe", data={"token": forged}).status_code == 400
    assert client.post("/notifications/unsubscribe", data={"token": other + "x"}).status_code == 400
    with app.test_request_context():
        app.config["SECRET_KEY"] = "another-key"
        foreign = channels.unsubscribe_token(users["commune"], [rules.REPLY])
        app.config["SECRET_KEY"] = "test-secret"
    assert client.post("/notifications/unsubscribe", data={"token": foreign}).status_code == 400
    assert _count(app, NotificationPreference) == 1


# ------------------------------------------------------------------ the centre and choices


def test_the_centre_marks_read_only_my_own(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    _sync(client, auth, world)
    _work(app)
    with app.app_context():
        mine = db.session.scalar(
            sa.select(Notification.id).where(Notification.user_id == world["users"]["secretary"])
        )
        theirs = db.session.scalar(
            sa.select(Notification.id).where(Notification.user_id == world["users"]["commune"])
        )
    auth.login("secretary")
    token = auth.csrf_token()
    assert 'id="bell-count"' in client.get("/").get_data(as_text=True)
    # Another's notice: nothing happens to it.
    client.post("/notifications/read", data={"id": theirs, "csrf_token": token})
    assert _count(app, Notification, Notification.read_at.is_not(None)) == 0
    fragment = client.post(
        "/notifications/read", data={"id": mine, "csrf_token": token}, headers=HX
    )
    text = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and text.lstrip().startswith('<div id="notices-list">')
    assert 'hx-swap-oob="true"' in text and 'id="bell-count"' not in text
    assert _count(app, Notification, Notification.read_at.is_not(None)) == 1
    assert 'id="bell-count"' not in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize(
    "field,value",
    [
        ("email", "not-an-address"),
        ("email", "a@b"),
        ("email", "x" * 250 + "@example.vn"),
        ("email", "lan@exa mple.vn"),
        ("email", "lan\x00@example.vn"),
        ("email", "<script>@example.vn"),
        ("mode_evaluation", "sometimes"),
        ("mode_evaluation", ""),
        ("mode_reply", "' OR 1=1 --"),
        ("mode_reply", "off\x00"),
    ],
)
def test_hostile_preferences_are_refused_and_nothing_is_stored(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    world: dict[str, Any],
    field: str,
    value: str,
) -> None:
    auth.login("secretary")
    form = {f"mode_{kind}": rules.IMMEDIATE for kind in rules.KINDS}
    form.update({"email": "lan@example.vn", "csrf_token": auth.csrf_token()})
    form[field] = value
    response = client.post("/notifications/preferences", data=form)
    if "\x00" in value:  # refused before any view by the app's guard (coso.errors)
        assert response.status_code == 400
    else:
        assert response.status_code == 422
        assert 'class="field-error"' in response.get_data(as_text=True)
    assert _count(app, NotificationPreference) == 0
    with app.app_context():
        assert db.session.get(NotificationContact, world["users"]["secretary"]).email == (
            "secretary@example.vn"
        )


@pytest.mark.parametrize("value", ["abc", "-1", "0", "99999999999999", "1.5", "\x00"])
def test_hostile_mark_read_is_refused_calmly(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any], value: str
) -> None:
    auth.login("secretary")
    response = client.post(
        "/notifications/read", data={"id": value, "csrf_token": auth.csrf_token()}
    )
    assert response.status_code == (400 if "\x00" in value else 303)
    assert _count(app, Notification, Notification.read_at.is_not(None)) == 0


def test_preferences_save_and_say_when_email_is_off(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    auth.login("cadre")
    page = client.get("/notifications/preferences").get_data(as_text=True)
    assert 'id="email-off"' not in page
    form = {f"mode_{kind}": rules.DIGEST for kind in rules.KINDS}
    form.update({"email": " lan@example.vn ", "csrf_token": auth.csrf_token()})
    assert client.post("/notifications/preferences", data=form).status_code == 303
    with app.app_context():
        assert (
            db.session.get(NotificationContact, world["users"]["cadre"]).email == "lan@example.vn"
        )
        modes = {p.kind: p.mode for p in db.session.scalars(sa.select(NotificationPreference))}
        assert modes == {kind: rules.DIGEST for kind in rules.KINDS}
    app.config["COSO_SMTP_URL"] = ""
    assert 'id="email-off"' in client.get("/notifications/preferences").get_data(as_text=True)


def test_the_long_running_worker_delivers_and_stops_when_told(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any], smtp: Any
) -> None:
    inbox, _port = smtp
    _sync(client, auth, world)
    stop = threading.Event()

    def loop() -> None:
        with app.app_context():
            worker.run_forever(0.05, 10, stop)

    thread = threading.Thread(target=loop)
    thread.start()
    deadline = time.monotonic() + 20
    while len(inbox.messages) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join(10)
    assert not thread.is_alive()
    assert len(inbox.messages) == 2
