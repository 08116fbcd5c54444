"""Monthly guidance: write, copy last month, nearest issuing unit, fixed once used; in scope."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from coso.extensions import db
from coso.guidance.queries import guidance_for
from coso.guidance.rules import period_of, previous_period
from coso.models import AuditEvent, Guidance, GuidanceTopic, Unit
from tests.admin_support import count, events, post
from tests.builders import make_unit, make_user, payload, small_province, with_checklist
from tests.conftest import AuthActions

THIS_MONTH = period_of(date.today())
LAST_MONTH = previous_period(THIS_MONTH)


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    with app.app_context():
        data = small_province()
        make_user("commune_lead", "province", data["communes"][0])
        db.session.commit()
        return {
            "province": data["province"].id,
            "c1": data["communes"][0].id,
            "c2": data["communes"][1].id,
            "branches": [b.id for b in data["branches"]],
        }


def form(**changes: Any) -> dict[str, Any]:
    data = {
        "period": THIS_MONTH,
        "title": "Tháng Thanh niên",
        "material": "Tài liệu sinh hoạt chi đoàn tháng 3",
        "link": "https://tinhdoan.example.vn/tai-lieu/thang-3.pdf",
        "topics-0-code": "",
        "topics-0-title": "Kỷ niệm 26/3, ngày thành lập Đoàn",
        "topics-1-code": "PL",
        "topics-1-title": "Ngày Pháp luật Việt Nam 9/11",
        "topics-2-code": "",
        "topics-2-title": "",
    }
    data.update(changes)
    return data


def test_write_guidance(app: Flask, client: FlaskClient, auth: AuthActions, world: dict) -> None:
    auth.login("province")
    response = post(client, f"/admin/guidance/new?unit={world['province']}", form())
    assert response.status_code == 303
    with app.app_context():
        guidance = db.session.scalar(sa.select(Guidance))
        assert guidance.unit_id == world["province"] and guidance.period == THIS_MONTH
        assert [(t.code, t.title) for t in guidance.topics] == [
            ("T1", "Kỷ niệm 26/3, ngày thành lập Đoàn"),
            ("PL", "Ngày Pháp luật Việt Nam 9/11"),
        ]
        (event,) = events("guidance.create")
        assert event.details["after"]["topics"][1] == ["PL", "Ngày Pháp luật Việt Nam 9/11"]
        guidance_id = guidance.id
    # Change a title and remove a topic: before/after recorded.
    changed = form(**{"topics-0-code": "T1", "topics-1-remove": "1", "title": "Tháng 3"})
    assert post(client, f"/admin/guidance/{guidance_id}", changed).status_code == 303
    with app.app_context():
        guidance = db.session.get(Guidance, guidance_id)
        assert guidance.title == "Tháng 3" and [t.code for t in guidance.topics] == ["T1"]
        (event,) = events("guidance.update")
        assert event.details["before"]["title"] == "Tháng Thanh niên"
        assert len(event.details["before"]["topics"]) == 2


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"period": "2026-13"}, "period"),
        ({"period": ""}, "period"),
        ({"period": "0000-01"}, "period"),  # outside the years 2000-2100 (issue 17, item 16)
        ({"period": "9999-12"}, "period"),
        ({"title": ""}, "title"),
        ({"title": "x" * 301}, "title"),
        ({"link": "javascript:alert(1)"}, "link"),
        ({"link": "not a link"}, "link"),
        ({"topics-0-title": "", "topics-1-title": "", "topics-1-code": ""}, "topics"),
        ({"topics-1-code": "T 1"}, "t1-code"),
        ({"topics-0-code": "PL"}, "topics_total"),
    ],
)
def test_bad_guidance_stores_nothing(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict, changes: dict, field: str
) -> None:
    auth.login("province")
    response = post(client, f"/admin/guidance/new?unit={world['province']}", form(**changes))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    marker = {"t1-code": 'id="err-t1-code"', "topics_total": "error-summary"}.get(
        field, f'id="err-g-{field}"' if field != "topics" else 'id="err-topics"'
    )
    assert marker in page
    with app.app_context():
        assert count(Guidance) == 0 and count(GuidanceTopic) == 0
        assert count(AuditEvent, AuditEvent.action.like("guidance.%")) == 0


def test_one_guidance_per_unit_and_month(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    auth.login("province")
    post(client, f"/admin/guidance/new?unit={world['province']}", form())
    again = post(client, f"/admin/guidance/new?unit={world['province']}", form(title="Again"))
    assert again.status_code == 422 and 'id="err-g-period"' in again.get_data(as_text=True)
    with app.app_context():
        assert count(Guidance) == 1


def test_copy_last_month(app: Flask, client: FlaskClient, auth: AuthActions, world: dict) -> None:
    auth.login("province")
    # Nothing to copy yet: a clear message, nothing stored.
    response = post(
        client, "/admin/guidance/copy", {"unit": str(world["province"]), "period": THIS_MONTH}
    )
    assert response.status_code == 303
    with app.app_context():
        assert count(Guidance) == 0
    post(client, f"/admin/guidance/new?unit={world['province']}", form(period=LAST_MONTH))
    response = post(
        client, "/admin/guidance/copy", {"unit": str(world["province"]), "period": THIS_MONTH}
    )
    assert response.status_code == 303
    with app.app_context():
        copy = db.session.scalar(sa.select(Guidance).where(Guidance.period == THIS_MONTH))
        assert copy.title == "Tháng Thanh niên" and [t.code for t in copy.topics] == ["T1", "PL"]
        assert response.headers["Location"].endswith(f"/admin/guidance/{copy.id}")
        assert len(events("guidance.copy")) == 1
    # Copying onto a month that has guidance goes to it instead.
    again = post(
        client, "/admin/guidance/copy", {"unit": str(world["province"]), "period": THIS_MONTH}
    )
    with app.app_context():
        assert count(Guidance) == 2
        copy_id = db.session.scalar(sa.select(Guidance.id).where(Guidance.period == THIS_MONTH))
    assert again.headers["Location"].endswith(f"/admin/guidance/{copy_id}")
    page = client.get("/admin/guidance").get_data(as_text=True)
    assert "Tháng Thanh niên" in page and THIS_MONTH in page


def test_a_branch_uses_the_nearest_issuing_unit(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    auth.login("province")
    post(client, f"/admin/guidance/new?unit={world['province']}", form(title="Của tỉnh"))
    auth.logout()
    auth.login("commune_lead")
    post(client, f"/admin/guidance/new?unit={world['c1']}", form(title="Của xã"))
    with app.app_context():
        b11, b21 = (db.session.get(Unit, world["branches"][i]) for i in (0, 2))
        assert guidance_for(b11, THIS_MONTH).title == "Của xã"
        assert guidance_for(b21, THIS_MONTH).title == "Của tỉnh"
    page = client.get(f"/admin/units/{world['branches'][0]}")
    assert page.status_code == 403  # the tree is for administrators
    auth.logout()
    auth.login("admin")
    page = client.get(f"/admin/units/{world['branches'][0]}").get_data(as_text=True)
    assert "Của xã" in page


def test_used_guidance_keeps_its_topics(app: Flask, client: FlaskClient, auth: AuthActions) -> None:
    with app.app_context():
        data = with_checklist(small_province())
        guidance_id, branch, template = (
            data["guidance"].id,
            data["branches"][0].id,
            data["template"].id,
        )
    auth.login("cadre")
    token = client.get("/api/v1/session").get_json()["csrf_token"]
    body = {"evaluations": [payload(branch, template, guidance_id)]}
    assert client.post("/api/v1/sync", json=body, headers={"X-CSRFToken": token}).status_code == 200
    auth.logout()
    auth.login("province")
    fields = {"period": THIS_MONTH, "title": "Hướng dẫn tháng (sửa)"}
    for i in range(1, 5):
        fields[f"topics-{i}-code"] = f"T{i}"
        fields[f"topics-{i}-title"] = f"Chủ đề {i} (sửa)"
    assert post(client, f"/admin/guidance/{guidance_id}", fields).status_code == 303
    removed = dict(fields, **{"topics-4-remove": "1"})
    response = post(client, f"/admin/guidance/{guidance_id}", removed)
    assert response.status_code == 422
    moved = dict(fields, period=LAST_MONTH)
    assert post(client, f"/admin/guidance/{guidance_id}", moved).status_code == 422
    assert post(client, f"/admin/guidance/{guidance_id}/delete").status_code == 422
    with app.app_context():
        guidance = db.session.get(Guidance, guidance_id)
        assert len(guidance.topics) == 4 and guidance.period == THIS_MONTH
        assert guidance.topics[0].title == "Chủ đề 1 (sửa)"


def test_unused_guidance_can_be_deleted(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    auth.login("province")
    post(client, f"/admin/guidance/new?unit={world['province']}", form())
    with app.app_context():
        guidance_id = db.session.scalar(sa.select(Guidance.id))
    assert post(client, f"/admin/guidance/{guidance_id}/delete").status_code == 303
    with app.app_context():
        assert count(Guidance) == 0 and len(events("guidance.delete")) == 1


def test_guidance_routes_respect_scope(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    with app.app_context():
        other = make_unit("TINH2", "province", None)
        foreign = Guidance(unit_id=other.id, period=THIS_MONTH, title="Khác")
        foreign.topics = [GuidanceTopic(position=1, code="T1", title="X")]
        db.session.add(foreign)
        db.session.commit()
        foreign_id = foreign.id
    auth.login("province")
    post(client, f"/admin/guidance/new?unit={world['province']}", form())
    with app.app_context():
        own_id = db.session.scalar(
            sa.select(Guidance.id).where(Guidance.unit_id == world["province"])
        )
    assert "Khác" not in client.get("/admin/guidance").get_data(as_text=True)
    assert client.get(f"/admin/guidance/{foreign_id}").status_code == 403
    assert post(client, f"/admin/guidance/{foreign_id}", form()).status_code == 403
    assert post(client, f"/admin/guidance/{foreign_id}/delete").status_code == 403
    assert client.get("/admin/guidance/999999").status_code == 404
    assert client.get(f"/admin/guidance/new?unit={world['branches'][0]}").status_code == 404
    auth.logout()
    auth.login("commune_lead")
    assert client.get(f"/admin/guidance/{own_id}").status_code == 403
    assert client.get(f"/admin/guidance/new?unit={world['province']}").status_code == 403
    assert (
        post(
            client, "/admin/guidance/copy", {"unit": str(world["c2"]), "period": THIS_MONTH}
        ).status_code
        == 403
    )
    assert client.get(f"/admin/guidance/new?unit={world['c1']}").status_code == 200
    for username in ("cadre", "secretary", "commune"):
        auth.logout()
        auth.login(username)
        assert client.get("/admin/guidance").status_code == 403
        assert client.get(f"/admin/guidance/{own_id}").status_code == 403
        assert post(client, f"/admin/guidance/new?unit={world['c1']}", form()).status_code == 403
