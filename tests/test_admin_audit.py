"""The audit log page: every kind of event shows, filters, CSV export, and scope."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from coso import audit
from coso.extensions import db
from coso.models import AuditEvent, Unit, User
from tests.admin_support import post
from tests.builders import make_user, payload, small_province, with_checklist
from tests.conftest import AuthActions


@pytest.fixture
def world(app: Flask, client: FlaskClient, auth: AuthActions) -> dict[str, Any]:
    """A province where a cadre evaluated and corrected, and a wrong password was tried."""
    with app.app_context():
        data = with_checklist(small_province())
        make_user("xa_admin", "admin", data["communes"][1])
        db.session.commit()
        ids = {
            "province": data["province"].id,
            "c1": data["communes"][0].id,
            "c2": data["communes"][1].id,
            "b11": data["branches"][0].id,
            "b21": data["branches"][2].id,
            "template": data["template"].id,
            "guidance": data["guidance"].id,
        }
    auth.login("cadre", "wrong-password")
    auth.login("=cmd|' /C calc'!A0", "x")  # a username built to attack a spreadsheet
    auth.login("cadre")
    first = payload(ids["b11"], ids["template"], ids["guidance"])
    correction = payload(
        ids["b11"],
        ids["template"],
        ids["guidance"],
        supersedes=first["uuid"],
        uuid=str(uuid.uuid4()),
    )
    other = payload(ids["b21"], ids["template"], ids["guidance"])
    token = client.get("/api/v1/session").get_json()["csrf_token"]
    for item in (first, correction, other):
        result = client.post(
            "/api/v1/sync", json={"evaluations": [item]}, headers={"X-CSRFToken": token}
        ).get_json()["results"][0]
        assert result["status"] == "created", result
    auth.logout()
    auth.login("admin")
    post(
        client,
        f"/admin/units/{ids['c1']}/edit",
        {"code": "XA-A", "name": "Đoàn xã An Bình Mới", "kind": "commune"},
    )
    return ids


def actions(page: str) -> list[str]:
    import re

    return re.findall(r'<strong class="action" data-action="([^"]+)"', page)


def test_every_kind_of_event_is_listed(client: FlaskClient, world: dict) -> None:
    page = client.get("/admin/audit").get_data(as_text=True)
    found = actions(page)
    for action in (
        "login",
        "login.failed",
        "logout",
        "evaluation.create",
        "evaluation.correct",
        "unit.update",
    ):
        assert action in found, action
    assert found[0] == "unit.update"  # newest first
    assert "Đoàn xã An Bình Mới" in page  # before/after of the change


@pytest.mark.parametrize(
    ("query", "expected", "absent"),
    [
        (
            "user=cadre",
            {"login", "logout", "evaluation.create", "evaluation.correct"},
            {"unit.update"},
        ),
        ("kind=evaluation", {"evaluation.create", "evaluation.correct"}, {"login", "unit.update"}),
        ("kind=login", {"login", "login.failed", "logout"}, {"evaluation.create"}),
        ("kind=unit", {"unit.update"}, {"login"}),
        ("unit=XA-B", {"evaluation.create"}, {"evaluation.correct", "unit.update"}),
        ("unit=XA-A", {"evaluation.create", "evaluation.correct", "unit.update"}, {"login"}),
    ],
)
def test_filters(client: FlaskClient, world: dict, query: str, expected: set, absent: set) -> None:
    response = client.get(f"/admin/audit?{query}")
    assert response.status_code == 200
    found = set(actions(response.get_data(as_text=True)))
    assert expected <= found and not (absent & found)


def test_date_filter_uses_local_days(app: Flask, client: FlaskClient, world: dict) -> None:
    with app.app_context():
        event = audit.record("settings.update", unit_id=world["province"], before={}, after={})
        # 23:30 UTC on 1 March is 06:30 on 2 March in Vietnam.
        event.at = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
        db.session.commit()
    on_the_second = client.get("/admin/audit?date_from=2026-03-02&date_to=2026-03-02")
    assert actions(on_the_second.get_data(as_text=True)) == ["settings.update"]
    assert actions(client.get("/admin/audit?date_to=2026-03-01").get_data(as_text=True)) == []
    today = date.today().isoformat()
    assert "login" in actions(client.get(f"/admin/audit?date_from={today}").get_data(as_text=True))


@pytest.mark.parametrize(
    "query",
    [
        "date_from=2026-03-05&date_to=2026-03-01",
        "kind=nonsense",
        "date_from=yesterday",
        "unit=NOPE",
    ],
)
def test_bad_filters_say_why(client: FlaskClient, world: dict, query: str) -> None:
    response = client.get(f"/admin/audit?{query}")
    assert response.status_code == 422
    assert 'class="error"' in response.get_data(as_text=True)


def test_htmx_gets_the_list_only(client: FlaskClient, world: dict) -> None:
    response = client.get("/admin/audit?kind=unit", headers={"HX-Request": "true"})
    text = response.get_data(as_text=True)
    assert (
        "<html" not in text and 'id="events"' in text and "HX-Request" in response.headers["Vary"]
    )


def test_paging(app: Flask, client: FlaskClient, world: dict) -> None:
    with app.app_context():
        for i in range(60):
            audit.record("guidance.update", unit_id=world["province"], n=i)
        db.session.commit()
    first = client.get("/admin/audit?kind=guidance").get_data(as_text=True)
    assert len(actions(first)) == 50 and "page=2" in first
    second = client.get("/admin/audit?kind=guidance&page=2").get_data(as_text=True)
    assert len(actions(second)) == 10


def test_csv_export(client: FlaskClient, world: dict) -> None:
    response = client.get("/admin/audit.csv?kind=login")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == [
        "Thời điểm",
        "Người dùng",
        "Sự kiện",
        "Mã sự kiện",
        "Đối tượng",
        "Mã đối tượng",
        "Đơn vị",
        "Địa chỉ IP",
        "Chi tiết",
    ]
    assert {row[3] for row in rows[1:]} == {"login", "login.failed", "logout"}
    assert {row[2] for row in rows[1:]} == {
        "Đăng nhập",
        "Đăng nhập không thành công",
        "Đăng xuất",
    }
    attack = [row for row in rows[1:] if "calc" in row[8]]
    assert attack and not any(cell.startswith("=") for row in rows for cell in row)
    everything = client.get("/admin/audit.csv").get_data().decode("utf-8-sig")
    assert "unit.update" in everything and "An Bình Mới" in everything
    assert client.get("/admin/audit.csv?date_from=bad").status_code == 422


def test_events_and_details_read_in_the_users_language(
    app: Flask, client: FlaskClient, world: dict
) -> None:
    """Codes like ``unit.update`` and raw JSON once stood where a person reads words."""
    page = client.get("/admin/audit?kind=unit").get_data(as_text=True)
    assert (
        '<strong class="action" data-action="unit.update" title="unit.update">Sửa đơn vị</strong>'
        in page
    )
    assert "<td>Tên</td><td>Đoàn xã An Bình</td><td>Đoàn xã An Bình Mới</td>" in page
    text = client.get("/admin/audit.csv?kind=unit").get_data().decode("utf-8-sig")
    (row,) = [r for r in csv.reader(io.StringIO(text))][1:]
    assert row[2] == "Sửa đơn vị"
    assert row[8] == "Tên: Đoàn xã An Bình → Đoàn xã An Bình Mới"
    with app.app_context():
        admin = db.session.query(User).filter_by(username="admin").one()
        admin.locale = "en"
        db.session.commit()
    page = client.get("/admin/audit?kind=unit").get_data(as_text=True)
    assert ">Unit changed</strong>" in page and "<td>Name</td>" in page
    text = client.get("/admin/audit.csv?kind=unit").get_data().decode("utf-8-sig")
    header, row = list(csv.reader(io.StringIO(text)))
    assert header[:3] == ["Time", "User", "Event"] and row[2] == "Unit changed"
    assert row[8] == "Name: Đoàn xã An Bình → Đoàn xã An Bình Mới"


def test_every_recorded_event_has_a_name() -> None:
    """A new audit action without words would show as its code: name it in coso/admin/words."""
    import pathlib
    import re

    from coso.admin.words import EVENT_NAMES

    source = "\n".join(p.read_text() for p in pathlib.Path("coso").rglob("*.py"))
    recorded = set(re.findall(r'"((?:[a-z]+)\.[a-z_]+|login|logout)"', source))
    prefixes = {name.split(".")[0] for name in EVENT_NAMES}
    recorded = {a for a in recorded if a.split(".")[0] in prefixes and not a.endswith(".id")}
    # Endpoints, not events.
    recorded -= {"feedback.action", "feedback.replies", "feedback.show", "notifications.index"}
    assert recorded <= set(EVENT_NAMES), recorded - set(EVENT_NAMES)


def test_a_commune_administrator_sees_only_its_commune(
    client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    auth.logout()
    auth.login("xa_admin")
    found = set(actions(client.get("/admin/audit").get_data(as_text=True)))
    assert "evaluation.create" in found  # b21 is in XA-B
    assert "evaluation.correct" not in found and "unit.update" not in found
    assert "login.failed" not in found
    assert client.get("/admin/audit?unit=XA-A").status_code == 422
    text = client.get("/admin/audit.csv").get_data().decode("utf-8-sig")
    assert "evaluation.correct" not in text and "unit.update" not in text


@pytest.mark.parametrize("username", ["province", "cadre", "secretary", "commune"])
def test_only_administrators_read_the_log(
    client: FlaskClient, auth: AuthActions, world: dict, username: str
) -> None:
    auth.logout()
    auth.login(username)
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/admin/audit.csv").status_code == 403


def test_every_admin_change_is_recorded_with_who_and_when(
    app: Flask, client: FlaskClient, world: dict
) -> None:
    with app.app_context():
        event = db.session.query(AuditEvent).filter_by(action="unit.update").one()
        assert event.user.username == "admin"
        assert event.unit_id == world["c1"] and event.object_type == "Unit"
        assert datetime.now(UTC) - event.at < timedelta(minutes=5)
        assert event.details == {
            "before": {"name": "Đoàn xã An Bình"},
            "after": {"name": "Đoàn xã An Bình Mới"},
        }
        assert db.session.get(Unit, world["c1"]).name == "Đoàn xã An Bình Mới"
