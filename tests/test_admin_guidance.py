"""Monthly guidance: write, copy last month, nearest issuing unit, fixed once used; in scope."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from coso.extensions import db
from coso.guidance.queries import guidance_for
from coso.guidance.rules import (
    frozen_changes,
    next_free_period,
    next_period,
    period_of,
    previous_period,
)
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
    # Copying onto a month that has guidance changes nothing and never opens its form.
    again = post(
        client, "/admin/guidance/copy", {"unit": str(world["province"]), "period": THIS_MONTH}
    )
    with app.app_context():
        assert count(Guidance) == 2 and len(events("guidance.copy")) == 1
    assert again.headers["Location"].endswith("/admin/guidance")
    page = client.get("/admin/guidance").get_data(as_text=True)
    assert "Tháng Thanh niên" in page and THIS_MONTH in page
    # The copy form now proposes the next month, which has no guidance.
    proposed = re.search(
        r'<input id="copy-period" name="period" type="month" value="([^"]*)"', page
    )
    assert proposed and proposed.group(1) == next_period(THIS_MONTH)


def test_copy_proposes_the_first_month_without_guidance(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    auth.login("province")
    page = client.get("/admin/guidance").get_data(as_text=True)
    assert f'id="copy-period" name="period" type="month" value="{THIS_MONTH}"' in page
    post(client, f"/admin/guidance/new?unit={world['province']}", form())
    post(
        client,
        f"/admin/guidance/new?unit={world['province']}",
        form(period=next_period(THIS_MONTH)),
    )
    page = client.get("/admin/guidance").get_data(as_text=True)
    after_next = next_period(next_period(THIS_MONTH))
    assert f'id="copy-period" name="period" type="month" value="{after_next}"' in page
    assert next_free_period("2026-11", {"2026-11", "2026-12"}.__contains__) == "2027-01"


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


def test_used_guidance_is_frozen_but_may_grow(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    """A topic title evaluations had ticked was once rewritten; only additions now."""
    with app.app_context():
        data = with_checklist(small_province())
        guidance_id, branch, template = (
            data["guidance"].id,
            data["branches"][0].id,
            data["template"].id,
        )
        saved = db.session.get(Guidance, guidance_id)
        fields: dict[str, str] = {"period": saved.period, "title": saved.title}
        if saved.material:
            fields["material"] = saved.material
        for i, topic in enumerate(saved.topics):
            fields[f"topics-{i}-code"] = topic.code
            fields[f"topics-{i}-title"] = topic.title
        count_before = len(saved.topics)
        period = saved.period
    auth.login("cadre")
    token = client.get("/api/v1/session").get_json()["csrf_token"]
    body = {"evaluations": [payload(branch, template, guidance_id)]}
    assert client.post("/api/v1/sync", json=body, headers={"X-CSRFToken": token}).status_code == 200
    auth.logout()
    auth.login("province")
    form_page = client.get(f"/admin/guidance/{guidance_id}").get_data(as_text=True)
    assert re.search(r'<input id="t0-title"[^>]*readonly', form_page)
    assert re.search(r'<input id="g-title"[^>]*readonly', form_page)
    assert 'id="frozen-note"' in form_page
    rewritten = dict(fields, **{"topics-0-title": "Chủ đề 1 (sửa)"})
    response = post(client, f"/admin/guidance/{guidance_id}", rewritten)
    assert response.status_code == 422
    assert 'id="err-topics"' in response.get_data(as_text=True)
    retitled = dict(fields, title="Hướng dẫn tháng (sửa)")
    response = post(client, f"/admin/guidance/{guidance_id}", retitled)
    assert response.status_code == 422 and 'id="err-g-title"' in response.get_data(as_text=True)
    removed = dict(fields, **{"topics-0-remove": "1"})
    assert post(client, f"/admin/guidance/{guidance_id}", removed).status_code == 422
    moved = dict(fields, period=previous_period(period))
    assert post(client, f"/admin/guidance/{guidance_id}", moved).status_code == 422
    assert post(client, f"/admin/guidance/{guidance_id}/delete").status_code == 422
    with app.app_context():
        assert events("guidance.update") == []
    # A new topic after the existing ones is an addition: saved.
    grown = dict(fields, **{"topics-20-code": "MOI", "topics-20-title": "Chủ đề bổ sung"})
    assert post(client, f"/admin/guidance/{guidance_id}", grown).status_code == 303
    with app.app_context():
        guidance = db.session.get(Guidance, guidance_id)
        assert len(guidance.topics) == count_before + 1 and guidance.period == period
        assert guidance.topics[-1].code == "MOI"
        assert [t.title for t in guidance.topics[:-1]] == [
            fields[f"topics-{i}-title"] for i in range(count_before)
        ]


def test_frozen_changes_rule() -> None:
    old = {
        "period": "2026-03",
        "title": "A",
        "material": None,
        "link": "https://x.vn/a",
        "topics": [["T1", "Một"]],
    }
    same = {
        "period": "2026-03",
        "title": "A",
        "material": None,
        "link": "https://x.vn/a",
        "topics": [{"code": "T1", "title": "Một"}],
    }
    assert frozen_changes(old, same) == []
    assert frozen_changes(old, {**same, "material": "Mới có"}) == []  # filled in: an addition
    assert frozen_changes(old, {**same, "link": "https://x.vn/b"}) == ["link"]
    grown = {**same, "topics": [{"code": "T1", "title": "Một"}, {"code": "T2", "title": "Hai"}]}
    assert frozen_changes(old, grown) == []
    before = {**same, "topics": [{"code": "T2", "title": "Hai"}, {"code": "T1", "title": "Một"}]}
    assert frozen_changes(old, before) == ["topics"]


def test_an_added_topic_never_lowers_an_old_meetings_coverage() -> None:
    from types import SimpleNamespace

    from coso.judging.rejudge import topics_total_when_filled

    filled = SimpleNamespace(topics_covered=["T1", "T2"], topic_coverage=0.5)
    assert topics_total_when_filled(filled, 5) == 4  # four topics when it was filled
    assert topics_total_when_filled(SimpleNamespace(topics_covered=[], topic_coverage=0.0), 5) == 5


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
