"""POST /api/v1/sync: per-item outcomes, whole-request errors, idempotency and races."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.exc import OperationalError

from coso.evaluations import service
from coso.extensions import db
from coso.models import BranchStatus, Evaluation, EvaluationAnswer, Visit
from tests.builders import payload, small_province, with_checklist
from tests.conftest import AuthActions


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    with app.app_context():
        data = with_checklist(small_province())
        return {
            "branches": [b.id for b in data["branches"]],
            "template": data["template"].id,
            "guidance": data["guidance"].id,
        }


@pytest.fixture
def cadre(client: FlaskClient, auth: AuthActions, world: dict) -> FlaskClient:
    auth.login("cadre")
    return client


def post(client: FlaskClient, body: Any, token: str | None = None, **kwargs: Any):  # type: ignore[no-untyped-def]
    if token is None:
        token = client.get("/api/v1/session").get_json()["csrf_token"]
    return client.post("/api/v1/sync", json=body, headers={"X-CSRFToken": token}, **kwargs)


def item(world: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    values = overrides.pop("values", {})
    base = payload(world["branches"][0], world["template"], world["guidance"], values=values)
    base.update(overrides)
    return base


def count(model: Any) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_created_then_duplicate(app: Flask, cadre: FlaskClient, world: dict) -> None:
    one = item(world)
    first = post(cadre, {"evaluations": [one]}).get_json()["results"][0]
    assert first["status"] == "created"
    assert first["outcome"]["compliant"] is True
    assert first["outcome"]["score"] == 100.0
    again = post(cadre, {"evaluations": [one]}).get_json()["results"][0]
    assert again["status"] == "duplicate"
    assert again["id"] == first["id"]
    assert again["outcome"] == first["outcome"]
    with app.app_context():
        assert count(Evaluation) == 1
        assert count(EvaluationAnswer) == 21
        assert count(Visit) == 1


def test_changed_replay_is_a_conflict(app: Flask, cadre: FlaskClient, world: dict) -> None:
    one = item(world)
    post(cadre, {"evaluations": [one]})
    changed = dict(one, members_present=5)
    result = post(cadre, {"evaluations": [changed]}).get_json()["results"][0]
    assert result["status"] == "conflict"
    with app.app_context():
        stored = db.session.scalar(sa.select(Evaluation))
        assert stored.members_present == 18


def test_non_compliant_outcome_and_branch_state(
    app: Flask, cadre: FlaskClient, world: dict
) -> None:
    bad = item(world, values={"P10": "fail", "C2": "partial"}, members_present=8)
    result = post(cadre, {"evaluations": [bad]}).get_json()["results"][0]
    assert result["status"] == "created"
    outcome = result["outcome"]
    assert outcome["compliant"] is False
    rules = {reason["rule"] for reason in outcome["reasons"]}
    assert {"critical", "attendance"} <= rules
    with app.app_context():
        status = db.session.get(BranchStatus, world["branches"][0])
        assert status.state == "flagged"
        assert status.evaluation_id == result["id"]


def test_one_bad_item_never_fails_the_others(app: Flask, cadre: FlaskClient, world: dict) -> None:
    good1, good2 = item(world), item(world, branch_id=world["branches"][1])
    bad = item(world, members_present=30)  # more present than on the roll
    results = post(cadre, {"evaluations": [good1, bad, good2]}).get_json()["results"]
    assert [r["status"] for r in results] == ["created", "rejected", "created"]
    assert "members_present" in results[1]["errors"]
    assert results[1]["id"] is None
    with app.app_context():
        assert count(Evaluation) == 2


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"uuid": "not-a-uuid"}, "uuid"),
        ({"branch_id": 999999}, "branch_id"),
        ({"branch_id": "17"}, "branch_id"),
        ({"template_id": 999999}, "template_id"),
        ({"meeting_date": (date.today() + timedelta(days=3)).isoformat()}, "meeting_date"),
        ({"meeting_date": "2001-01-01"}, "meeting_date"),
        ({"meeting_date": "yesterday"}, "meeting_date"),
        ({"meeting_type": "party"}, "meeting_type"),
        ({"mode": "carrier-pigeon"}, "mode"),
        ({"members_total": 0}, "members_total"),
        ({"members_total": -4}, "members_total"),
        ({"members_present": -1}, "members_present"),
        ({"members_total": 10**9}, "members_total"),
        ({"topics_covered": ["T9"]}, "topics_covered"),
        ({"notes": "x" * 4001}, "notes"),
        ({"guidance_id": 999999}, "guidance_id"),
        ({"answers": []}, "answers"),
        ({"answers": "all good"}, "answers"),
        ({"supersedes": "6f1c1c62-1111-4b4b-9a9a-000000000000"}, "supersedes"),
    ],
)
def test_rejected_items_store_nothing(
    app: Flask, cadre: FlaskClient, world: dict, overrides: dict, field: str
) -> None:
    result = post(cadre, {"evaluations": [item(world, **overrides)]}).get_json()["results"][0]
    assert result["status"] == "rejected"
    assert field in result["errors"], result["errors"]
    with app.app_context():
        assert count(Evaluation) == 0
        assert count(Visit) == 0


def test_answers_must_match_the_template_exactly(cadre: FlaskClient, world: dict) -> None:
    base = item(world)
    missing = dict(base, answers=base["answers"][1:])
    extra = dict(base, answers=[*base["answers"], {"item": "Z9", "value": "pass"}])
    computed = dict(base, answers=[*base["answers"], {"item": "P4", "value": "pass"}])
    twice = dict(base, answers=[*base["answers"], base["answers"][0]])
    results = post(cadre, {"evaluations": [missing, extra, computed, twice]}).get_json()["results"]
    assert [r["status"] for r in results] == ["rejected"] * 4
    assert "P1" in results[0]["errors"]["answers"]
    assert "Z9" in results[1]["errors"]["answers"]
    assert "P4" in results[2]["errors"]["answers"]
    assert "P1" in results[3]["errors"]["answers"]


def test_errors_are_in_vietnamese(cadre: FlaskClient, world: dict) -> None:
    result = post(cadre, {"evaluations": [item(world, members_present=99)]}).get_json()
    message = result["results"][0]["errors"]["members_present"][0]
    assert "vượt" in message or "không" in message.lower()


def test_branch_outside_scope_is_rejected(
    client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    auth.login("cadre_b")  # home: the second commune
    result = post(client, {"evaluations": [item(world)]}).get_json()["results"][0]
    assert result["status"] == "rejected"
    assert "branch_id" in result["errors"]


@pytest.mark.parametrize(
    "body",
    [[], {"evaluations": []}, {"evaluations": "x"}, {"nothing": 1}, {"evaluations": [{}] * 101}],
)
def test_malformed_requests_are_400(cadre: FlaskClient, world: dict, body: Any) -> None:
    response = post(cadre, body)
    assert response.status_code == 400
    assert response.is_json


def test_not_json_is_400(cadre: FlaskClient, world: dict) -> None:
    token = cadre.get("/api/v1/session").get_json()["csrf_token"]
    response = cadre.post(
        "/api/v1/sync",
        data="{not json",
        headers={"X-CSRFToken": token},
        content_type="application/json",
    )
    assert response.status_code == 400
    deep = "[" * 100_000 + "]" * 100_000
    response = cadre.post(
        "/api/v1/sync", data=deep, headers={"X-CSRFToken": token}, content_type="application/json"
    )
    assert response.status_code in (400, 413)


def test_anonymous_is_401_before_csrf(client: FlaskClient, world: dict) -> None:
    response = client.post("/api/v1/sync", json={"evaluations": []})
    assert response.status_code == 401
    assert response.is_json


def test_bad_csrf_is_403(cadre: FlaskClient, world: dict) -> None:
    response = post(cadre, {"evaluations": [item(world)]}, token="forged")
    assert response.status_code == 403
    assert response.is_json


def test_role_that_may_not_submit_is_403(
    client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    auth.login("secretary")
    assert post(client, {"evaluations": [item(world)]}).status_code == 403


def test_body_over_the_limit_is_413(app: Flask, cadre: FlaskClient, world: dict) -> None:
    big = item(world, notes="x" * (app.config["MAX_CONTENT_LENGTH"] + 10))
    response = post(cadre, {"evaluations": [big]})
    assert response.status_code == 413
    assert response.is_json


def test_older_meeting_never_overwrites_newer(app: Flask, cadre: FlaskClient, world: dict) -> None:
    today = date.today()
    newer = item(world, meeting_date=today.isoformat())
    older = item(
        world,
        meeting_date=(today - timedelta(days=40)).isoformat(),
        values={"P1": "fail"},
        guidance_id=None,
        topics_covered=[],
    )
    post(cadre, {"evaluations": [newer]})
    post(cadre, {"evaluations": [older]})
    with app.app_context():
        status = db.session.get(BranchStatus, world["branches"][0])
        assert status.state == "ok"
        assert status.last_meeting_date == today


def test_correction_supersedes_within_window(app: Flask, cadre: FlaskClient, world: dict) -> None:
    original = item(world, values={"C8": "fail"})
    first = post(cadre, {"evaluations": [original]}).get_json()["results"][0]
    assert first["outcome"]["compliant"] is False
    fixed = item(world, supersedes=original["uuid"])
    second = post(cadre, {"evaluations": [fixed]}).get_json()["results"][0]
    assert second["status"] == "created"
    with app.app_context():
        old = db.session.get(Evaluation, first["id"])
        assert old.superseded_by.id == second["id"]
        assert db.session.get(BranchStatus, world["branches"][0]).state == "ok"
        # The correction replaced the visit day; it did not add one.
        assert count(Visit) == 1
    again = item(world, supersedes=original["uuid"])
    result = post(cadre, {"evaluations": [again]}).get_json()["results"][0]
    assert result["status"] == "rejected"
    assert "supersedes" in result["errors"]


def test_someone_elses_evaluation_cannot_be_corrected(
    client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    auth.login("cadre")
    original = item(world, branch_id=world["branches"][2])
    post(client, {"evaluations": [original]})
    auth.logout()
    auth.login("cadre_b")
    fix = item(world, branch_id=world["branches"][2], supersedes=original["uuid"])
    result = post(client, {"evaluations": [fix]}).get_json()["results"][0]
    assert result["status"] == "rejected"


def test_same_uuid_by_another_cadre_is_a_conflict(
    client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    one = item(world, branch_id=world["branches"][2])
    auth.login("cadre")
    post(client, {"evaluations": [one]})
    auth.logout()
    auth.login("cadre_b")
    result = post(client, {"evaluations": [one]}).get_json()["results"][0]
    assert result["status"] == "conflict"


def test_session_answers_user_and_token(cadre: FlaskClient, world: dict) -> None:
    body = cadre.get("/api/v1/session").get_json()
    assert body["user"]["username"] == "cadre"
    assert body["user"]["roles"] == ["cadre"]
    assert body["csrf_token"]


def test_racing_requests_store_one_row(app: Flask, world: dict) -> None:
    """Two clients send the same UUID at the same moment: one created, one duplicate."""
    one = item(world)
    clients = []
    for _ in range(2):
        c = app.test_client()
        AuthActions(c).login("cadre")
        token = c.get("/api/v1/session").get_json()["csrf_token"]
        clients.append((c, token))
    barrier = threading.Barrier(2)
    statuses: list[str] = []

    def send(c: FlaskClient, token: str) -> None:
        barrier.wait()
        response = c.post(
            "/api/v1/sync", json={"evaluations": [one]}, headers={"X-CSRFToken": token}
        )
        statuses.append(response.get_json()["results"][0]["status"])

    threads = [threading.Thread(target=send, args=pair) for pair in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == ["created", "duplicate"]
    with app.app_context():
        assert count(Evaluation) == 1


def test_sync_is_rate_limited_per_user(app: Flask, cadre: FlaskClient, world: dict) -> None:
    app.config["SYNC_LIMIT"] = "2 per minute"
    for _ in range(2):
        assert post(cadre, {"evaluations": [item(world)]}).status_code == 200
    response = post(cadre, {"evaluations": [item(world)]})
    assert response.status_code == 429
    assert response.is_json
    assert int(response.headers["Retry-After"]) > 0


def _operational(message: str) -> OperationalError:
    return OperationalError("INSERT ...", {}, Exception(message))


def test_a_busy_database_answers_503_with_retry_after(
    app: Flask, cadre: FlaskClient, world: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite's busy timeout (or a PostgreSQL deadlock) is contention, not a fault: the
    outbox must wait and resend, and nothing of the batch is stored."""

    def busy(*args: Any, **kwargs: Any) -> Any:
        raise _operational("database is locked")

    monkeypatch.setattr(service, "submit_batch", busy)
    response = post(cadre, {"evaluations": [item(world)]})
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert response.get_json()["error"] == "busy"
    assert response.get_json()["message"]  # in the user's language
    with app.app_context():
        assert count(Evaluation) == 0


def test_other_database_errors_stay_500(
    cadre: FlaskClient, world: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise _operational("no such table: evaluation")

    monkeypatch.setattr(service, "submit_batch", broken)
    response = post(cadre, {"evaluations": [item(world)]})
    assert response.status_code == 500
    assert response.get_json()["error"] == "server_error"


def test_one_batch_many_evaluations_of_one_branch(
    app: Flask, cadre: FlaskClient, world: dict
) -> None:
    """A batch holding a branch's meetings out of order decides its flag by the newest."""
    today = date.today()
    fail = {"P1": "fail"}

    def on(days: int, values: dict[str, str]) -> dict[str, Any]:
        meeting = str(today - timedelta(days=days))
        return item(world, meeting_date=meeting, values=values, guidance_id=None, topics_covered=[])

    items = [on(20, {}), on(2, fail), on(10, fail)]
    results = post(cadre, {"evaluations": items}).get_json()["results"]
    assert [r["status"] for r in results] == ["created"] * 3
    with app.app_context():
        row = db.session.get(BranchStatus, world["branches"][0])
        assert row is not None
        assert row.evaluation_id == results[1]["id"]
        assert (row.state, row.streak) == ("repeat", 2)
        assert row.since == today - timedelta(days=10)
        assert row.score == results[1]["outcome"]["score"]
        per_evaluation = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(EvaluationAnswer)
            .where(EvaluationAnswer.evaluation_id == results[0]["id"])
        )
        assert per_evaluation > len(items[0]["answers"])  # computed items are stored too
        assert count(EvaluationAnswer) == 3 * per_evaluation
        assert count(Visit) == 3


def test_the_same_uuid_twice_in_one_batch(app: Flask, cadre: FlaskClient, world: dict) -> None:
    one = item(world)
    changed = dict(one, notes="other content")
    results = post(cadre, {"evaluations": [one, one, changed]}).get_json()["results"]
    assert [r["status"] for r in results] == ["created", "duplicate", "conflict"]
    assert results[0]["id"] == results[1]["id"]
    with app.app_context():
        assert count(Evaluation) == 1


def test_two_corrections_of_one_evaluation_in_one_batch(
    app: Flask, cadre: FlaskClient, world: dict
) -> None:
    original = item(world)
    assert post(cadre, {"evaluations": [original]}).get_json()["results"][0]["status"] == "created"
    first = item(world, supersedes=original["uuid"], meeting_date=original["meeting_date"])
    second = item(world, supersedes=original["uuid"], meeting_date=original["meeting_date"])
    results = post(cadre, {"evaluations": [first, second]}).get_json()["results"]
    assert [r["status"] for r in results] == ["created", "rejected"]
    assert "supersedes" in results[1]["errors"]
    with app.app_context():
        assert count(Evaluation) == 2


def test_a_batch_that_stores_nothing_never_waits_for_the_write_lock(
    app: Flask, cadre: FlaskClient, world: dict
) -> None:
    """Signing in, reading and validating take no write lock; only storing does (SQLite)."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("sqlite"):
        pytest.skip("the write lock is SQLite's")
    import sqlite3
    import time

    token = cadre.get("/api/v1/session").get_json()["csrf_token"]
    other = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process is writing, for a long time
        start = time.monotonic()
        response = post(cadre, {"evaluations": [item(world, branch_id=999_999)]}, token)
        assert response.status_code == 200
        assert response.get_json()["results"][0]["status"] == "rejected"
        assert time.monotonic() - start < 5
    finally:
        other.execute("ROLLBACK")
        other.close()
