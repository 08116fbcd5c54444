"""The province's own list of difficulty categories (issue 19, item 1): rename, reorder,
retire, add — and what that changes for those who raise and read difficulties."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from coso.difficulties import rules
from coso.extensions import db
from coso.models import AuditEvent, DifficultyCategory
from tests.builders import small_province
from tests.conftest import AuthActions


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    with app.app_context():
        data = small_province()
        return {"province": data["province"].id, "branches": [b.id for b in data["branches"]]}


def _form(client: FlaskClient, auth: AuthActions, **changes: str) -> dict[str, str]:
    """The form as the page fills it (the default list), with ``changes``."""
    data = {"csrf_token": auth.csrf_token(), "new_label": ""}
    for position, (code, _label) in enumerate(rules.DEFAULT_CATEGORIES, 1):
        data[f"label-{code}"] = _label
        data[f"position-{code}"] = str(position)
        data[f"active-{code}"] = "1"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _rows(app: Flask) -> list[tuple[str, str, int, bool]]:
    with app.app_context():
        return [
            (r.code, r.label, r.position, r.active)
            for r in db.session.scalars(
                sa.select(DifficultyCategory).order_by(DifficultyCategory.position)
            )
        ]


def test_the_province_renames_retires_and_adds(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    auth.login("province")
    page = client.get("/difficulties/categories")
    assert page.status_code == 200 and 'id="defaults-note"' in page.get_data(as_text=True)
    form = _form(
        client, auth, **{"label-venue": "Không có nơi sinh hoạt", "new_label": "Thiếu sân bãi"}
    )
    del form["active-other"]  # retired
    response = client.post("/difficulties/categories", data=form)
    assert response.status_code == 303
    rows = _rows(app)
    assert ("venue", "Không có nơi sinh hoạt", 2, True) in rows
    assert ("other", "Other", 6, False) in rows
    assert ("funds", "Funds", 1, True) in rows  # a default kept as it is stays translatable
    assert rows[-1] == ("thieu_san_bai", "Thiếu sân bãi", 7, True)
    with app.app_context():
        (event,) = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "difficulty.categories")
        ).all()
        assert event.user_id is not None

    # Those who raise one choose from the list in use; a retired code is refused.
    auth.logout()
    auth.login("secretary")
    new = client.get("/difficulties/new").get_data(as_text=True)
    assert 'value="thieu_san_bai"' in new and "Không có nơi sinh hoạt" in new
    assert 'value="other"' not in new
    token = client.get("/api/v1/session").get_json()["csrf_token"]
    items = [
        {"kind": "difficulty", "uuid": str(uuid.uuid4()), "unit_id": world["branches"][0],
         "category": category, "text": "Khó khăn"}
        for category in ("other", "thieu_san_bai")
    ]  # fmt: skip
    results = client.post(
        "/api/v1/sync", json={"evaluations": items}, headers={"X-CSRFToken": token}
    ).get_json()["results"]
    assert [r["status"] for r in results] == ["rejected", "created"]
    assert "category" in results[0]["errors"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"label-funds": "   "}, "label-funds"),
        ({"label-funds": "x" * 121}, "label-funds"),
        ({"position-funds": "-1"}, "position-funds"),
        ({"position-funds": "abc"}, "position-funds"),
        ({"position-funds": "99999999999999999999"}, "position-funds"),
        ({"new_label": "y" * 200}, "new_label"),
    ],
)
def test_bad_input_is_said_and_nothing_is_saved(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    world: dict[str, Any],
    changes: dict[str, str],
    field: str,
) -> None:
    auth.login("province")
    response = client.post("/difficulties/categories", data=_form(client, auth, **changes))
    assert response.status_code == 422
    assert f'id="err-{field}"' in response.get_data(as_text=True)
    assert _rows(app) == []


def test_at_least_one_category_stays_in_use(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    auth.login("province")
    form = {k: v for k, v in _form(client, auth).items() if not k.startswith("active-")}
    response = client.post("/difficulties/categories", data=form)
    assert response.status_code == 422
    assert "Cần giữ ít nhất một loại đang dùng." in response.get_data(as_text=True)
    assert _rows(app) == []
    # Text no database can store is refused before any view (the forms' guard), nothing saved.
    response = client.post("/difficulties/categories", data=_form(client, auth, new_label="a\x00b"))
    assert response.status_code == 400
    assert _rows(app) == []


@pytest.mark.parametrize("username", ["commune", "secretary", "cadre"])
def test_only_the_province_edits(
    client: FlaskClient, auth: AuthActions, world: dict[str, Any], username: str
) -> None:
    auth.login(username)
    assert client.get("/difficulties/categories").status_code == 403
    assert client.post("/difficulties/categories", data=_form(client, auth)).status_code == 403
