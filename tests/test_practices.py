"""Good practices spread back (issue 19, item 4): recorded by the province (from an
evaluation, a visit, or on its own), spread to its subtree, read by its secretaries and cadres
(new until opened, in the field pack too), never outside the subtree; hostile input."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from coso.evaluations import service as evaluations
from coso.extensions import db
from coso.models import AuditEvent, Practice, User
from coso.practices import rules
from tests.builders import make_unit, make_user, payload, small_province, with_checklist
from tests.conftest import AuthActions

SEEN = {
    "unit_code": "CD-A2",
    "source": "visit",
    "title": "Tủ sách thanh niên ấp 2",
    "description": "Chi đoàn góp sách, mỗi tháng một buổi đọc chung.",
}


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    """The small province with its checklist, and a second province with its own people."""
    with app.app_context():
        data = with_checklist(small_province())
        other = make_unit("TINH-Z", "province", name="Tỉnh đoàn khác")
        other_commune = make_unit("XA-Z", "commune", other)
        other_branch = make_unit("CD-Z1", "branch", other_commune)
        make_user("secretary_z", "secretary", other_branch)
        make_user("province_z", "province", other)
        item = payload(
            data["branches"][0].id,
            data["template"].id,
            data["guidance"].id,
            good_practice="Sinh hoạt ngoài trời, đố vui lịch sử địa phương.\nĐoàn viên tự dẫn.",
            recommend_practice=True,
        )
        with app.test_request_context():
            result = evaluations.submit(item, data["users"]["cadre"])
        assert result.id is not None, result.errors
        db.session.commit()
        return {"evaluation": result.id, "other_branch": other_branch.id}


def _as(auth: AuthActions, client: FlaskClient, username: str) -> None:
    client.post("/logout", data={"csrf_token": auth.csrf_token()})
    assert auth.login(username).status_code == 302


def _post(
    client: FlaskClient, auth: AuthActions, url: str, data: dict[str, Any] | None = None
) -> Any:
    return client.post(url, data={**(data or {}), "csrf_token": auth.csrf_token()})


def _practices(app: Flask) -> list[Practice]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Practice).order_by(Practice.id)))


def _pack_practices(client: FlaskClient) -> list[dict[str, Any]]:
    response = client.get("/api/v1/field-pack")
    assert response.status_code == 200
    return list(response.get_json()["practices"])


def _record_and_spread(app: Flask, client: FlaskClient, auth: AuthActions) -> int:
    _as(auth, client, "province")
    assert _post(client, auth, "/practices/new", SEEN).status_code == 303
    (practice,) = _practices(app)
    assert practice.spread_at is None and practice.source == "visit"
    assert _post(client, auth, f"/practices/{practice.id}/spread").status_code == 303
    return practice.id


def test_a_spread_practice_reaches_the_subtree_new_until_opened(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    _as(auth, client, "province")
    assert _post(client, auth, "/practices/new", SEEN).status_code == 303
    (practice,) = _practices(app)
    # recorded, not spread yet: no reader sees it
    _as(auth, client, "secretary")
    assert SEEN["title"] not in client.get("/practices").get_data(as_text=True)
    assert client.get(f"/practices/{practice.id}").status_code == 403
    assert _pack_practices(client) == []

    _as(auth, client, "province")
    assert _post(client, auth, f"/practices/{practice.id}/spread").status_code == 303
    for username in ("secretary", "commune", "cadre", "cadre_b"):
        _as(auth, client, username)
        page = client.get("/practices").get_data(as_text=True)
        assert SEEN["title"] in page and 'data-new="1"' in page, username
        assert 'id="practices-count">1' in page, username  # the menu's badge
        (packed,) = _pack_practices(client)
        assert packed["title"] == SEEN["title"] and packed["new"] is True
        assert packed["description"] == SEEN["description"]
        # opened: no longer new, in the list, the badge and the pack
        shown = client.get(f"/practices/{practice.id}").get_data(as_text=True)
        assert SEEN["description"] in shown
        page = client.get("/practices").get_data(as_text=True)
        assert SEEN["title"] in page and 'data-new="1"' not in page
        assert 'id="practices-count"' not in page
        assert _pack_practices(client)[0]["new"] is False
    # outside the province's subtree: nothing, anywhere
    for username in ("secretary_z", "province_z"):
        _as(auth, client, username)
        assert SEEN["title"] not in client.get("/practices").get_data(as_text=True)
        assert client.get(f"/practices/{practice.id}").status_code == 403
        assert _pack_practices(client) == []
    with app.app_context():
        actions = db.session.scalars(
            sa.select(AuditEvent.action)
            .where(AuditEvent.action.startswith("practice."))
            .order_by(AuditEvent.id)
        ).all()
        assert actions == ["practice.create", "practice.spread"]


def test_withdrawn_it_leaves_the_readers(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    practice_id = _record_and_spread(app, client, auth)
    assert _post(client, auth, f"/practices/{practice_id}/withdraw").status_code == 303
    _as(auth, client, "secretary")
    assert SEEN["title"] not in client.get("/practices").get_data(as_text=True)
    assert client.get(f"/practices/{practice_id}").status_code == 403
    assert _pack_practices(client) == []


def test_an_evaluations_practice_is_recorded_once(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    _as(auth, client, "province")
    url = f"/practices/from-evaluation/{world['evaluation']}"
    assert _post(client, auth, url).status_code == 303
    assert _post(client, auth, url).status_code == 303
    (practice,) = _practices(app)
    assert practice.source == "evaluation" and practice.evaluation_id == world["evaluation"]
    assert practice.title == "Sinh hoạt ngoài trời, đố vui lịch sử địa phương."
    assert practice.description.endswith("Đoàn viên tự dẫn.")
    editor = client.get("/dashboard/practices").get_data(as_text=True)
    assert f"/practices/{practice.id}" in editor and "Đã ghi nhận thành cách làm hay" in editor
    # the editor's view is still the province's only
    _as(auth, client, "secretary")
    assert client.get("/dashboard/practices").status_code == 403
    assert _post(client, auth, f"/practices/{practice.id}/spread").status_code == 403


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"description": ""}, "description"),
        ({"description": "x" * 2001}, "description"),
        ({"source": "evaluation"}, "source"),  # only through the evaluation itself
        ({"source": "<b>"}, "source"),
        ({"unit_code": ""}, "unit_code"),
        ({"unit_code": "KHONG-CO"}, "unit_code"),
        ({"unit_code": "CD-Z1"}, "unit_code"),  # another province's branch
    ],
)
def test_bad_input_is_refused_and_nothing_stored(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    world: dict[str, Any],
    change: dict[str, str],
    field: str,
) -> None:
    _as(auth, client, "province")
    response = _post(client, auth, "/practices/new", {**SEEN, **change})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    ids = {"unit_code": "g-unit", "source": "g-source"}
    assert f'id="err-{ids.get(field, "g-" + field)}"' in page
    assert "Chưa có gì được lưu" in page
    assert _practices(app) == []


def test_nul_and_unknown_ids(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    _as(auth, client, "province")
    assert _post(client, auth, "/practices/new", {**SEEN, "title": "a\x00b"}).status_code == 400
    assert client.get("/practices/999999").status_code == 404
    assert client.get(f"/practices/{2**31}").status_code == 404
    assert _post(client, auth, "/practices/999999/spread").status_code == 404
    assert _post(client, auth, "/practices/from-evaluation/999999").status_code == 404
    assert _practices(app) == []


def test_markup_in_a_practice_is_text(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    _as(auth, client, "province")
    evil = '<script>alert("x")</script>'
    data = {**SEEN, "title": evil, "description": evil}
    assert _post(client, auth, "/practices/new", data).status_code == 303
    (practice,) = _practices(app)
    _post(client, auth, f"/practices/{practice.id}/spread")
    _as(auth, client, "secretary")
    for url in ("/practices", f"/practices/{practice.id}"):
        page = client.get(url).get_data(as_text=True)
        assert evil not in page and "&lt;script&gt;" in page


@pytest.mark.parametrize(
    ("spread", "home", "reaches"),
    [
        ("/1/", "/1/5/17/", True),
        ("/1/", "/1/", True),
        ("/1/5/", "/1/6/", False),
        ("/1/5/", "/1/", False),  # a practice spread to a commune does not reach the province
        ("/1/", "/10/", False),
        (None, "/1/", False),
    ],
)
def test_reaches(spread: str | None, home: str, reaches: bool) -> None:
    assert rules.reaches(spread, home) is reaches


def test_title_from_a_long_text() -> None:
    assert rules.title_from("  Một   dòng \n hai") == "Một dòng"
    long = "chữ " * 60
    title = rules.title_from(long, 20)
    assert title.endswith("…") and len(title) <= 21 and "  " not in title
    assert rules.title_from("") == ""


def test_a_user_without_the_subtree_sees_none(app: Flask, world: dict[str, Any]) -> None:
    """The query and the pure rule agree: the practice reaches by home unit, not by role."""
    from coso.practices import queries

    with app.app_context():
        province = db.session.scalar(sa.select(User).where(User.username == "province"))
        outsider = db.session.scalar(sa.select(User).where(User.username == "secretary_z"))
        practice = Practice(
            unit_id=province.unit_id,
            source="own",
            title="t",
            description="d",
            spread_unit_id=province.unit_id,
            spread_at=sa.func.now(),
        )
        db.session.add(practice)
        db.session.commit()
        assert [item.practice.id for item in queries.spread_to(province)] == [practice.id]
        assert queries.spread_to(outsider) == []
        assert queries.new_count(province) == 1 and queries.new_count(outsider) == 0
