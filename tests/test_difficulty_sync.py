"""Difficulties raised on a phone and sent through POST /api/v1/sync (issue 19, item 1).

An item of kind ``difficulty`` gets the other kinds' answers (created / duplicate / conflict
/ rejected) and guarantees; a branch secretary, who does not evaluate, may send difficulties
and nothing else.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from coso.extensions import db
from coso.models import AuditEvent, Difficulty, Evaluation, Unit
from tests.builders import make_unit, payload, small_province, with_checklist
from tests.conftest import AuthActions


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    with app.app_context():
        data = with_checklist(small_province())
        return {
            "province": data["province"].id,
            "branches": [b.id for b in data["branches"]],
            "communes": [c.id for c in data["communes"]],
            "template": data["template"].id,
            "ids": {k: u.id for k, u in data["users"].items()},
        }


def post(client: FlaskClient, body: Any) -> Any:
    token = client.get("/api/v1/session").get_json()["csrf_token"]
    return client.post("/api/v1/sync", json=body, headers={"X-CSRFToken": token})


def item(unit: int, **changes: Any) -> dict[str, Any]:
    raised = {
        "kind": "difficulty",
        "uuid": str(uuid.uuid4()),
        "unit_id": unit,
        "category": "venue",
        "text": "Chi đoàn không có chỗ sinh hoạt khi trời mưa",
        "raised_at": (datetime.now(UTC) - timedelta(hours=3)).isoformat(),
    }
    raised.update(changes)
    return raised


def stored(app: Flask) -> list[Difficulty]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Difficulty).order_by(Difficulty.id)))


def test_a_branch_secretary_raises_offline_and_a_resend_is_not_a_second(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    auth.login("secretary")
    sent = item(world["branches"][0])
    first = post(client, {"device_id": "phone-1", "evaluations": [sent]})
    assert first.status_code == 200
    answer = first.get_json()["results"][0]
    assert answer["status"] == "created" and answer["kind"] == "difficulty"
    again = post(client, {"evaluations": [sent]}).get_json()["results"][0]
    assert again["status"] == "duplicate" and again["id"] == answer["id"]
    (difficulty,) = stored(app)
    assert difficulty.id == answer["id"] and difficulty.uuid == sent["uuid"]
    assert difficulty.routed_to_id == world["communes"][0]  # the commune above the branch
    assert difficulty.raised_by_id == world["ids"]["secretary"]
    # When the phone wrote it, not when it arrived.
    assert abs(difficulty.raised_at - datetime.fromisoformat(sent["raised_at"])) < timedelta(
        seconds=1
    )
    with app.app_context():
        events = db.session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.action == "difficulty.raise")
        ).all()
    assert events == ["difficulty.raise"]
    # The one who raised it finds it under "my difficulties".
    page = client.get("/difficulties/").get_data(as_text=True)
    assert "Chi đoàn không có chỗ sinh hoạt" in page


def test_other_content_under_a_stored_uuid_is_a_conflict(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    auth.login("secretary")
    sent = item(world["branches"][0])
    assert post(client, {"evaluations": [sent]}).get_json()["results"][0]["status"] == "created"
    changed = dict(sent, text="Một nội dung khác")
    answer = post(client, {"evaluations": [changed]}).get_json()["results"][0]
    assert answer["status"] == "conflict" and "uuid" in answer["errors"]
    auth.logout()
    auth.login("commune")  # another person's identifier: a conflict, and no id given away
    answer = post(client, {"evaluations": [sent]}).get_json()["results"][0]
    assert answer["status"] == "conflict" and answer["id"] is None
    (difficulty,) = stored(app)
    assert difficulty.text == sent["text"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"category": "weather"}, "category"),
        ({"category": ""}, "category"),
        ({"text": "   "}, "text"),
        ({"text": "x" * 4001}, "text"),
        ({"text": "nul\x00byte"}, "text"),
        ({"text": 12}, "text"),
        ({"unit_id": "4"}, "unit_id"),
        ({"unit_id": 2**40}, "unit_id"),
        ({"unit_id": 999_999}, "unit_id"),
        ({"uuid": "not-a-uuid"}, "uuid"),
        ({"raised_at": "yesterday"}, "raised_at"),
    ],
)
def test_bad_items_are_rejected_alone_and_nothing_is_stored(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    world: dict[str, Any],
    changes: dict[str, Any],
    field: str,
) -> None:
    auth.login("secretary")
    good = item(world["branches"][0])
    response = post(client, {"evaluations": [item(world["branches"][0], **changes), good]})
    assert response.status_code == 200
    bad, fine = response.get_json()["results"]
    assert bad["status"] == "rejected" and field in bad["errors"], bad
    assert fine["status"] == "created"
    assert [d.uuid for d in stored(app)] == [good["uuid"]]


def test_a_unit_outside_the_senders_area_is_rejected(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    auth.login("secretary")  # the secretary of the first branch
    other_branch = post(client, {"evaluations": [item(world["branches"][2])]})
    assert other_branch.get_json()["results"][0]["status"] == "rejected"
    the_commune = post(client, {"evaluations": [item(world["communes"][0])]})
    assert the_commune.get_json()["results"][0]["status"] == "rejected"
    with app.app_context():
        closed = make_unit("CD-OLD", "branch", db.session.get(Unit, world["communes"][0]))
        closed.active = False
        db.session.commit()
        closed_id = closed.id
    auth.logout()
    auth.login("commune")  # the commune's secretary: not a branch that is no longer active
    answer = post(client, {"evaluations": [item(closed_id)]}).get_json()["results"][0]
    assert answer["status"] == "rejected" and "unit_id" in answer["errors"]
    assert stored(app) == []


def test_a_cadre_sends_a_difficulty_beside_an_evaluation(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    auth.login("cadre")
    evaluation = payload(world["branches"][1], world["template"])
    difficulty = item(world["branches"][1], category="funds")
    response = post(client, {"evaluations": [evaluation, difficulty]})
    first, second = response.get_json()["results"]
    assert first["status"] == "created" and "kind" not in first  # an evaluation's answer as ever
    assert second["status"] == "created" and second["kind"] == "difficulty"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Evaluation)) == 1
    assert [d.category for d in stored(app)] == ["funds"]


def test_a_branch_secretary_may_send_nothing_but_difficulties(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    auth.login("secretary")
    evaluation = payload(world["branches"][0], world["template"])
    mixed = post(client, {"evaluations": [item(world["branches"][0]), evaluation]})
    assert mixed.status_code == 403
    visit = {
        "kind": "visit",
        "uuid": str(uuid.uuid4()),
        "unit_id": world["branches"][0],
        "form": "coorganise",
        "start_date": "2026-01-02",
        "end_date": "2026-01-02",
    }
    assert post(client, {"evaluations": [visit]}).status_code == 403
    assert stored(app) == []


def test_a_province_user_who_raises_nothing_is_refused(
    client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    auth.login("admin")
    response = post(client, {"evaluations": [item(world["branches"][0])]})
    assert response.status_code == 403


def test_a_clock_far_off_on_the_phone_is_bounded(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    auth.login("secretary")
    future = item(world["branches"][0], raised_at="2099-01-01T00:00:00Z")
    ancient = item(world["branches"][0], raised_at="2001-01-01T00:00:00Z")
    results = post(client, {"evaluations": [future, ancient]}).get_json()["results"]
    assert [r["status"] for r in results] == ["created", "created"]
    now = datetime.now(UTC)
    late, early = stored(app)
    assert late.raised_at <= now
    assert now - early.raised_at <= timedelta(days=91)


def test_the_contract_documents_the_difficulty(client: FlaskClient, world: dict[str, Any]) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    assert schemas["DifficultyItem"]["properties"]["kind"]["enum"] == ["difficulty"]
    assert {"kind", "uuid", "unit_id", "category", "text"} <= set(
        schemas["DifficultyItem"]["required"]
    )
    one_of = schemas["SyncRequest"]["properties"]["evaluations"]["items"]["oneOf"]
    assert {"$ref": "#/components/schemas/DifficultyItem"} in one_of
    assert "difficulty" in schemas["SyncResult"]["properties"]["kind"]["enum"]


def test_raised_from_an_evaluation_of_the_same_branch_only(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    auth.login("cadre")
    evaluation = payload(world["branches"][1], world["template"])
    stored_evaluation = post(client, {"evaluations": [evaluation]}).get_json()["results"][0]
    evaluation_id = stored_evaluation["id"]
    # The result page links to the form, which carries the evaluation along.
    result = client.get(f"/evaluations/{evaluation_id}").get_data(as_text=True)
    assert f"/difficulties/new?unit_id={world['branches'][1]}&amp;evaluation={evaluation_id}" in (
        result
    )
    form = client.get(
        f"/difficulties/new?unit_id={world['branches'][1]}&evaluation={evaluation_id}"
    )
    assert f'name="evaluation_id" value="{evaluation_id}"' in form.get_data(as_text=True)
    same = item(world["branches"][1], evaluation_id=evaluation_id)
    other = item(world["branches"][0], evaluation_id=evaluation_id)  # not that branch's
    results = post(client, {"evaluations": [same, other]}).get_json()["results"]
    assert results[0]["status"] == "created"
    assert results[1]["status"] == "rejected" and "evaluation_id" in results[1]["errors"]
    (difficulty,) = stored(app)
    assert difficulty.evaluation_id == evaluation_id
    page = client.get(f"/difficulties/{difficulty.id}").get_data(as_text=True)
    assert f'href="/evaluations/{evaluation_id}"' in page
    # The web form without script: the same check.
    token = auth.csrf_token()
    response = client.post(
        "/difficulties/new",
        data={"csrf_token": token, "uuid": str(uuid.uuid4()), "unit_id": world["branches"][0],
              "category": "funds", "text": "Khó khăn", "evaluation_id": evaluation_id},
    )  # fmt: skip
    assert response.status_code == 422 and len(stored(app)) == 1
    response = client.post(
        "/difficulties/new",
        data={"csrf_token": token, "uuid": str(uuid.uuid4()), "unit_id": "9" * 30,
              "category": "funds", "text": "Khó khăn"},
    )  # fmt: skip
    assert response.status_code == 422 and len(stored(app)) == 1


def test_raised_from_ones_own_visit_report(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    auth.login("cadre")
    day = "2026-01-02"
    visit = {"kind": "visit", "uuid": str(uuid.uuid4()), "unit_id": world["branches"][1],
             "form": "coorganise", "start_date": day, "end_date": day}  # fmt: skip
    visit_id = post(client, {"evaluations": [visit]}).get_json()["results"][0]["id"]
    report = client.get(f"/visits/{visit_id}/report").get_data(as_text=True)
    assert 'id="raise-from-visit"' in report
    results = post(
        client,
        {"evaluations": [item(world["branches"][1], visit_id=visit_id),
                         item(world["branches"][1], visit_id=visit_id + 1000)]},
    ).get_json()["results"]  # fmt: skip
    assert [r["status"] for r in results] == ["created", "rejected"]
    assert [d.visit_id for d in stored(app)] == [visit_id]
    auth.logout()
    auth.login("cadre_b")  # another cadre may not name that visit
    answer = post(client, {"evaluations": [item(world["branches"][2], visit_id=visit_id)]})
    assert answer.get_json()["results"][0]["status"] == "rejected"
