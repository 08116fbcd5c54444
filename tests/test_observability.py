"""/metrics, request ids and JSON logs (issue 23, item 5)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from coso import create_app
from coso.extensions import db
from coso.models import Notification
from coso.notifications import rules, worker
from tests.builders import payload, small_province, with_checklist
from tests.conftest import AuthActions, _config, _empty_tables

TOKEN = "s3cret-scrape-token"
MADE_ID = re.compile(r"^[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}$")


@pytest.fixture
def make_app(_schema: str, tmp_path: Path) -> Iterator[Any]:
    """Apps over the test database with settings of the test's choosing."""
    made: list[Flask] = []

    def make(**settings: Any) -> Flask:
        app = create_app({**_config(_schema), **settings})
        made.append(app)
        return app

    yield make
    for app in made:
        with app.app_context():
            db.session.remove()
            _empty_tables()
            db.engine.dispose()


def samples(client: FlaskClient, **headers: str) -> dict[tuple[str, tuple[Any, ...]], float]:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}", **headers})
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "text/plain"
    found = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: dict[tuple[str, tuple[Any, ...]], float], name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


# ------------------------------------------------------------------ access


def test_metrics_are_refused_without_token_or_allowed_address(make_app: Any) -> None:
    client = make_app(METRICS_TOKEN=TOKEN).test_client()
    assert client.get("/metrics").status_code == 404  # 127.0.0.1 is not allowed by default
    assert client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Basic " + TOKEN}).status_code == 404
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200

    # No token configured: no bearer opens it, however it is spelled.
    closed = make_app().test_client()
    assert closed.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 403
    assert closed.get("/metrics").status_code == 404


def test_allowed_addresses_honour_the_trusted_proxies(make_app: Any) -> None:
    direct = make_app(METRICS_ALLOW="10.0.0.0/8, 192.0.2.7").test_client()
    assert direct.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200
    assert direct.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 200
    assert direct.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.8"}).status_code == 404
    # Without trusted proxies a forged X-Forwarded-For is not believed ...
    forged = {"X-Forwarded-For": "10.1.2.3"}
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    assert direct.get("/metrics", headers=forged, environ_base=outside).status_code == 404
    # ... behind one, the address the proxy saw is the one that counts, both ways.
    proxied = make_app(METRICS_ALLOW="10.0.0.0/8", TRUSTED_PROXIES=1).test_client()
    proxy = {"REMOTE_ADDR": "127.0.0.1"}
    assert proxied.get("/metrics", headers=forged, environ_base=proxy).status_code == 200
    phone = {"X-Forwarded-For": "203.0.113.9"}
    assert (
        proxied.get("/metrics", headers=phone, environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code
        == 404
    )


def test_a_bad_allow_list_stops_the_start(make_app: Any) -> None:
    with pytest.raises(RuntimeError, match="COSO_METRICS_ALLOW"):
        make_app(METRICS_ALLOW="10.0.0.0/8, localhost")


# ------------------------------------------------------------------ counters


def test_counters_move_with_a_sync_and_a_wrong_password(make_app: Any) -> None:
    app = make_app(METRICS_TOKEN=TOKEN)
    with app.app_context():
        data = with_checklist(small_province())
        branch, template, guidance = (
            data["branches"][0].id,
            data["template"].id,
            data["guidance"].id,
        )
    client = app.test_client()
    auth = AuthActions(client)
    before = samples(client)

    assert auth.login("cadre", "wrong-password").status_code == 200
    auth.login("cadre")
    token = auth.csrf_token()
    one = payload(branch, template, guidance)
    batches = [
        [one, payload(999_999, template, guidance)],  # created, rejected
        [one, dict(one, members_present=5)],  # duplicate, conflict
    ]
    for batch in batches:
        response = client.post(
            "/api/v1/sync", json={"evaluations": batch}, headers={"X-CSRFToken": token}
        )
        assert response.status_code == 200
    after = samples(client)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    for result in ("created", "duplicate", "conflict", "rejected"):
        assert moved("coso_sync_items_total", result=result) == 1, result
    sync = {"endpoint": "api.sync", "method": "POST"}
    assert moved("coso_http_requests_total", status="200", **sync) == 2
    assert moved("coso_http_request_duration_seconds_count", **sync) == 2
    assert moved("coso_http_request_duration_seconds_bucket", le="+Inf", **sync) == 2
    assert moved("coso_login_throttle_events_total", event="failed") == 1
    assert value(after, "coso_db_connections_open") >= 1
    assert ("coso_db_connections_in_use", ()) in after


def test_a_throttled_sign_in_is_counted(make_app: Any) -> None:
    app = make_app(METRICS_TOKEN=TOKEN, LOGIN_FAIL_LIMITS="2 per hour")
    with app.app_context():
        small_province()
    client = app.test_client()
    auth = AuthActions(client)
    before = samples(client)
    statuses = [auth.login("cadre", "wrong-password").status_code for _ in range(3)]
    assert statuses[-1] == 429
    after = samples(client)
    throttled = {"event": "throttled"}
    assert (
        value(after, "coso_login_throttle_events_total", **throttled)
        - value(before, "coso_login_throttle_events_total", **throttled)
        == 1
    )


def test_the_notification_queue_moves_with_a_sync_and_the_worker(make_app: Any) -> None:
    app = make_app(METRICS_TOKEN=TOKEN, COSO_BASE_URL="https://coso.test")
    with app.app_context():
        data = with_checklist(small_province())
        branch, template, guidance, secretary = (
            data["branches"][0].id,
            data["template"].id,
            data["guidance"].id,
            data["users"]["secretary"].id,
        )
    client = app.test_client()
    auth = AuthActions(client)
    before = samples(client)
    assert value(before, "coso_notification_queue_depth", state="pending") == 0
    assert value(before, "coso_notification_queue_depth", state="dead") == 0
    assert value(before, "coso_notification_queue_age_seconds") == 0

    auth.login("cadre")
    response = client.post(
        "/api/v1/sync",
        json={"evaluations": [payload(branch, template, guidance)]},
        headers={"X-CSRFToken": auth.csrf_token()},
    )
    assert response.get_json()["results"][0]["status"] == "created"
    queued = samples(client)
    # The branch's and the commune's secretaries each have a notice waiting for the worker.
    assert value(queued, "coso_notification_queue_depth", state="pending") == 2
    assert value(queued, "coso_notification_queue_depth", state="dead") == 0
    assert 0 <= value(queued, "coso_notification_queue_age_seconds") < 60

    with app.app_context():  # a notice given up long ago counts apart, and not in the age
        db.session.add(
            Notification(
                user_id=secretary,
                kind=rules.NEW_EVALUATION,
                key="evaluation:dead",
                state=rules.DEAD,
                created_at=datetime.now(UTC) - timedelta(days=3),
            )
        )
        db.session.commit()
    with app.test_request_context(base_url="https://coso.test"):
        assert worker.run_once(scan=False).delivered == 2
        db.session.remove()
    after = samples(client)
    assert value(after, "coso_notification_queue_depth", state="pending") == 0
    assert value(after, "coso_notification_queue_depth", state="dead") == 1
    assert value(after, "coso_notification_queue_age_seconds") == 0


# ------------------------------------------------------------------ request ids and logs


def _json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_a_request_id_in_a_log_line_finds_the_request(
    make_app: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    app = make_app(LOG_FORMAT="json")
    with app.app_context():
        data = small_province()
        cadre_id = data["users"]["cadre"].id
    client = app.test_client()
    AuthActions(client).login("cadre")
    capsys.readouterr()

    response = client.get("/", headers={"X-Request-ID": "phone-42.a1"})
    assert response.headers["X-Request-ID"] == "phone-42.a1"
    lines = [
        x for x in _json_lines(capsys.readouterr().err) if x.get("request_id") == "phone-42.a1"
    ]
    assert len(lines) == 1, lines
    line = lines[0]
    assert line["logger"] == "coso.access"
    assert line["endpoint"] == "home.index"
    assert line["method"] == "GET" and line["path"] == "/"
    assert line["status"] == 200
    assert line["user_id"] == cadre_id
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0

    # An id a client cannot be trusted with (spaces, a newline, too long) is replaced.
    for hostile in ("a b", "x" * 129, "id;forged=1", "é"):
        made = client.get("/healthz", headers={"X-Request-ID": hostile}).headers["X-Request-ID"]
        assert MADE_ID.match(made), made
    signed_out = make_app(LOG_FORMAT="json").test_client()
    made = signed_out.get("/login").headers["X-Request-ID"]
    line = next(x for x in _json_lines(capsys.readouterr().err) if x.get("request_id") == made)
    assert "user_id" not in line and line["status"] == 200


def test_readable_lines_in_development(make_app: Any, capsys: pytest.CaptureFixture[str]) -> None:
    client = make_app(LOG_FORMAT="text").test_client()
    capsys.readouterr()
    client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    err = capsys.readouterr().err
    assert re.search(r"INFO coso\.access \[abc-123\] GET /healthz 200 [\d.]+ ms", err), err
    with pytest.raises(RuntimeError, match="COSO_LOG_FORMAT"):
        make_app(LOG_FORMAT="xml")


def test_the_error_page_shows_the_request_id(
    make_app: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    app = make_app(LOG_FORMAT="json", PROPAGATE_EXCEPTIONS=False)

    def boom() -> str:
        raise ValueError("a bug")

    app.add_url_rule("/boom", "boom", boom)
    client = app.test_client()
    missing = client.get("/no-such-page", headers={"X-Request-ID": "lost-1"})
    assert missing.status_code == 404
    page = missing.get_data(as_text=True)
    assert "lost-1" in page and "Mã tra cứu khi cần hỗ trợ" in page

    capsys.readouterr()
    failed = client.get("/boom")
    assert failed.status_code == 500
    said = failed.headers["X-Request-ID"]
    assert MADE_ID.match(said) and said in failed.get_data(as_text=True)
    mine = [x for x in _json_lines(capsys.readouterr().err) if x.get("request_id") == said]
    # The traceback and the access line both carry the id the page showed.
    assert any("ValueError: a bug" in x.get("exception", "") for x in mine), mine
    assert any(x.get("status") == 500 and x["endpoint"] == "boom" for x in mine), mine


# ------------------------------------------------------------------ under gunicorn


@pytest.mark.slow
def test_metrics_and_json_logs_under_gunicorn_with_two_workers(tmp_path: Path) -> None:
    """Each worker writes its figures into PROMETHEUS_MULTIPROC_DIR (gunicorn.conf.py); a
    scrape answered by either worker counts every worker's requests."""
    import os
    import urllib.request

    from tests.support import LiveServer, free_port

    metrics_dir = tmp_path / "prometheus"
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'live.sqlite'}",
        "SECRET_KEY": "live-test-secret",
        "COSO_ENV": "development",
        "COSO_LOG_FORMAT": "json",
        "COSO_METRICS_TOKEN": TOKEN,
        "HOME": str(tmp_path),
    }
    env.pop("REDIS_URL", None)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    server = LiveServer(f"http://127.0.0.1:{port}", port, env, tmp_path / "gunicorn.log")
    server.flask("db", "upgrade")
    server.env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}  # gunicorn's alone

    def get(path: str, **headers: str) -> tuple[int, str, dict[str, str]]:
        request = urllib.request.Request(server.url + path, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode(), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(), dict(error.headers)

    def healthz_count() -> float:
        status, text, _ = get("/metrics", Authorization=f"Bearer {TOKEN}")
        assert status == 200
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == "coso_http_requests_total" and sample.labels == {
                    "endpoint": "health.healthz",
                    "method": "GET",
                    "status": "200",
                }:
                    return sample.value
        return 0.0

    server.start(workers=2, threads=2)
    try:
        assert get("/metrics")[0] == 404
        before = healthz_count()
        for n in range(30):
            status, _, headers = get("/healthz", **{"X-Request-ID": f"live-{n}"})
            assert status == 200 and headers["X-Request-ID"] == f"live-{n}"
        assert healthz_count() - before == 30
        # One gauge file per worker. On a busy machine one worker may still be loading the app
        # while the other serves every request so far (seen in CI): ask until both have served.
        deadline = time.monotonic() + 30
        while len(list(metrics_dir.glob("gauge_livesum_*.db"))) < 2:
            assert time.monotonic() < deadline, "the second worker never served a request"
            assert get("/healthz")[0] == 200
            time.sleep(0.05)
        assert len(list(metrics_dir.glob("gauge_livesum_*.db"))) == 2
        # The queue is read from the database once per scrape, not summed over the workers.
        text = get("/metrics", Authorization=f"Bearer {TOKEN}")[1]
        queue = [
            (sample.name, sample.labels, sample.value)
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name.startswith("coso_notification_queue_")
        ]
        assert sorted(queue, key=str) == sorted(
            [
                ("coso_notification_queue_depth", {"state": "pending"}, 0.0),
                ("coso_notification_queue_depth", {"state": "dead"}, 0.0),
                ("coso_notification_queue_age_seconds", {}, 0.0),
            ],
            key=str,
        )
    finally:
        server.stop()
    lines = _json_lines(server.log.read_text())
    found = [x for x in lines if x.get("request_id") == "live-7"]
    assert len(found) == 1 and found[0]["endpoint"] == "health.healthz", found
