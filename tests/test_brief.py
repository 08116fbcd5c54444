"""The brief before leaving (issue 18, item 4): in the field pack, on the checklist, and the
"seen done" ticks that travel with an evaluation through the sync API."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from coso.extensions import db
from coso.models import (
    AuditEvent,
    CorrectiveAction,
    Evaluation,
    Guidance,
    Meeting,
    PlanCadre,
    Unit,
    User,
    VisitPlan,
)
from tests.builders import payload, small_province, with_checklist
from tests.conftest import AuthActions

TODAY = date.today()


def _user(name: str) -> User:
    user = db.session.scalar(sa.select(User).where(User.username == name))
    assert user is not None
    return user


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    with app.app_context():
        data = with_checklist(small_province())
        b11, b12 = data["branches"][0], data["branches"][1]
        b11.secretary_name = "Nguyễn Thị Lan"
        b11.secretary_since = date(2025, 3, 1)
        b11.secretary_party_member = True
        data["guidance"].material = "Học tập chuyên đề năm 2026.\nThảo luận theo tổ."
        data["guidance"].link = "https://example.org/tai-lieu"
        db.session.commit()
        return {
            "b11": b11.id,
            "b12": b12.id,
            "b21": data["branches"][2].id,
            "template": data["template"].id,
            "guidance": data["guidance"].id,
        }


def _sync(client: FlaskClient, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    token = client.get("/api/v1/session").get_json()["csrf_token"]
    response = client.post(
        "/api/v1/sync", json={"evaluations": items}, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["results"]


def _failed_evaluation(client: FlaskClient, world: dict[str, Any], branch: str = "b11") -> int:
    item = payload(
        world[branch],
        world["template"],
        world["guidance"],
        values={"P10": "fail", "C5": "fail", "P3": "partial"},
        notes="Chưa có sổ biên bản.",
    )
    item["meeting_date"] = (TODAY - timedelta(days=1)).isoformat()
    result = _sync(client, [item])[0]
    assert result["status"] == "created", result
    return int(result["id"])


def _action(branch_id: int, evaluation_id: int | None, **kw: Any) -> int:
    action = CorrectiveAction(
        branch_id=branch_id,
        evaluation_id=evaluation_id,
        item_code=kw.pop("item_code", "P10"),
        description=kw.pop("description", "Lập sổ biên bản"),
        owner="Bí thư",
        due_date=kw.pop("due_date", TODAY + timedelta(days=10)),
        status=kw.pop("status", "open"),
        created_by_id=_user("cadre").id,
    )
    db.session.add(action)
    db.session.commit()
    return action.id


def _pack_branch(client: FlaskClient, branch_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    pack = client.get("/api/v1/field-pack").get_json()
    return pack, next(b for b in pack["branches"] if b["id"] == branch_id)


def test_the_field_pack_carries_the_brief(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    auth.login("cadre")
    evaluation_id = _failed_evaluation(client, world)
    with app.app_context():
        late = _action(world["b11"], evaluation_id, due_date=TODAY - timedelta(days=2))
        soon = _action(world["b11"], evaluation_id, item_code=None, description="Thu đoàn phí")
        _action(world["b11"], evaluation_id, status="done")  # closed: not in the brief
        plan = VisitPlan(
            unit_id=world["b11"],
            form="meeting",
            start_date=TODAY + timedelta(days=2),
            end_date=TODAY + timedelta(days=2),
            focus="Xem sổ biên bản và việc thu đoàn phí",
            look_items=["P10", "C2"],
            created_by_id=_user("province").id,
        )
        plan.cadres = [PlanCadre(user_id=_user("cadre").id)]
        db.session.add(plan)
        db.session.commit()
    pack, branch = _pack_branch(client, world["b11"])
    brief = branch["brief"]
    assert sorted(brief["failed"]) == ["C5", "P10"]
    assert "P3" not in brief["failed"]  # partial is not failed
    assert brief["notes"] == "Chưa có sổ biên bản."
    assert [a["id"] for a in brief["actions"]] == [late, soon]
    assert brief["actions"][0]["overdue"] is True and "overdue" not in brief["actions"][1]
    assert brief["actions"][0]["item"] == "P10" and "item" not in brief["actions"][1]
    assert brief["unanswered"] == 1  # the evaluation is not acknowledged yet
    assert brief["secretary"] == {"name": "Nguyễn Thị Lan", "since": "2025-03-01", "party": True}
    assert brief["plans"][0]["focus"] == "Xem sổ biên bản và việc thu đoàn phí"
    assert brief["plans"][0]["items"] == ["P10", "C2"]  # the checklist items it asks to look at
    assert branch["last_evaluation"]["id"] == evaluation_id
    guidance = next(g for g in pack["guidance"] if g["id"] == world["guidance"])
    assert guidance["material"].startswith("Học tập chuyên đề")
    assert guidance["link"] == "https://example.org/tai-lieu"
    # Compact: a branch with nothing to say carries an empty brief, no empty lists.
    _pack, quiet = _pack_branch(client, world["b12"])
    assert quiet["brief"] == {}


@pytest.mark.parametrize(
    "change",
    ["action", "close", "secretary", "party", "material", "plan_focus", "evaluation", "ack"],
)
def test_the_etag_changes_with_any_brief_content(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any], change: str
) -> None:
    auth.login("cadre")
    evaluation_id = _failed_evaluation(client, world)
    with app.app_context():
        action_id = _action(world["b11"], evaluation_id)
        plan = VisitPlan(
            unit_id=world["b11"],
            form="meeting",
            start_date=TODAY + timedelta(days=2),
            end_date=TODAY + timedelta(days=2),
            focus="Xem sổ",
            created_by_id=_user("province").id,
        )
        plan.cadres = [PlanCadre(user_id=_user("cadre").id)]
        db.session.add(plan)
        db.session.commit()
        plan_id = plan.id
    before = client.get("/api/v1/field-pack").headers["ETag"]
    assert client.get("/api/v1/field-pack", headers={"If-None-Match": before}).status_code == 304
    if change == "evaluation":
        _failed_evaluation(client, world, "b21")
    with app.app_context():
        branch = db.session.get(Unit, world["b11"])
        assert branch is not None
        if change == "action":
            _action(world["b11"], evaluation_id, description="Một việc mới")
        elif change == "close":
            db.session.get(CorrectiveAction, action_id).status = "done"  # type: ignore[union-attr]
        elif change == "secretary":
            branch.secretary_name = "Trần Văn Minh"
        elif change == "party":
            branch.secretary_party_member = False
        elif change == "material":
            db.session.get(Guidance, world["guidance"]).material = "Tài liệu mới"  # type: ignore[union-attr]
        elif change == "plan_focus":
            db.session.get(VisitPlan, plan_id).focus = "Xem việc khác"  # type: ignore[union-attr]
        elif change == "ack":
            from coso.models import Feedback

            db.session.add(Feedback(evaluation_id=evaluation_id, user_id=_user("secretary").id))
        db.session.commit()
    after = client.get("/api/v1/field-pack", headers={"If-None-Match": before})
    assert after.status_code == 200
    assert after.headers["ETag"] != before


#: A sync item exactly as the phones already in the field send it (before issue 18, item 4):
#: no ``seen_done``. It must sync unchanged. The ids and the date are filled in below.
OLD_CLIENT_ITEM = """{
  "uuid": "4f0c2d3e-6b1a-4c8e-9d2f-7a5b3c1e0f92",
  "branch_id": %(branch)d, "template_id": %(template)d, "guidance_id": %(guidance)d,
  "meeting_date": "%(day)s", "meeting_type": "regular", "mode": "in_person",
  "members_total": 24, "members_present": 18,
  "answers": [%(answers)s],
  "topics_covered": ["T1", "T3"],
  "notes": "Sinh hoạt đúng giờ.", "good_practice": null, "recommend_practice": false,
  "supersedes": null,
  "started_at": "%(day)sT12:00:00+00:00", "submitted_at": "%(day)sT13:30:00Z"
}"""


def test_an_old_client_batch_syncs_unchanged(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    import json

    from coso.checklists.rules import DEFAULT_ITEMS

    auth.login("cadre")
    with app.app_context():
        action_id = _action(world["b11"], None)
    answers = ", ".join(
        f'{{"item": "{i["code"]}", "value": "pass"}}'
        for i in DEFAULT_ITEMS
        if i["kind"] == "choice"
    )
    text = OLD_CLIENT_ITEM % {
        "branch": world["b11"],
        "template": world["template"],
        "guidance": world["guidance"],
        "day": (TODAY - timedelta(days=1)).isoformat(),
        "answers": answers,
    }
    item = json.loads(text)
    assert "seen_done" not in item
    first = _sync(client, [item])[0]
    assert first["status"] == "created"
    assert _sync(client, [json.loads(text)])[0]["status"] == "duplicate"
    with app.app_context():
        action = db.session.get(CorrectiveAction, action_id)
        assert action is not None and action.seen_done_at is None


def test_seen_done_is_recorded_on_the_action_and_audited(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    auth.login("cadre")
    with app.app_context():
        mine = _action(world["b11"], None)
        other_branch = _action(world["b12"], None)
        closed = _action(world["b11"], None, status="done")
        untouched = _action(world["b11"], None, description="Chưa làm")
    item = payload(world["b11"], world["template"], world["guidance"])
    item["seen_done"] = [mine, other_branch, closed, 999999]
    result = _sync(client, [item])[0]
    assert result["status"] == "created"
    with app.app_context():
        action = db.session.get(CorrectiveAction, mine)
        assert action is not None
        assert action.seen_done_at is not None
        assert action.seen_done_by_id == _user("cadre").id
        assert action.seen_done_evaluation_id == result["id"]
        assert action.status == "open"  # the secretary closes it
        for other in (other_branch, closed, untouched):
            assert db.session.get(CorrectiveAction, other).seen_done_at is None  # type: ignore[union-attr]
        events = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "action.seen_done")
        ).all()
        assert [(e.object_id, e.details["evaluation_id"]) for e in events] == [
            (str(mine), result["id"])
        ]
    # The replay is a duplicate and records nothing twice.
    assert _sync(client, [item])[0]["status"] == "duplicate"
    with app.app_context():
        n = db.session.scalar(
            sa.select(sa.func.count()).where(AuditEvent.action == "action.seen_done")
        )
        assert n == 1
    # The secretary sees it on the action.
    auth.login("secretary")
    page = client.get(f"/feedback/actions/{mine}").get_data(as_text=True)
    assert f'id="action-{mine}-seen"' in page
    # The cadre's next pack says it was seen.
    auth.login("cadre")
    _pack, branch = _pack_branch(client, world["b11"])
    seen = {a["id"]: a.get("seen", False) for a in branch["brief"]["actions"]}
    assert seen[mine] is True and seen[untouched] is False


@pytest.mark.parametrize(
    "bad",
    ["3", [True], ["7"], [0], [2**31], list(range(1, 52)), {"id": 3}, [1.5]],
)
def test_hostile_seen_done_is_rejected_and_stores_nothing(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any], bad: Any
) -> None:
    auth.login("cadre")
    with app.app_context():
        action_id = _action(world["b11"], None)
    item = payload(world["b11"], world["template"], world["guidance"], seen_done=bad)
    good = payload(world["b12"], world["template"], world["guidance"])
    results = _sync(client, [item, good])
    assert results[0]["status"] == "rejected"
    assert "seen_done" in results[0]["errors"]
    assert results[1]["status"] == "created"  # one bad item never fails the others
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Evaluation)) == 1
        assert db.session.get(CorrectiveAction, action_id).seen_done_at is None  # type: ignore[union-attr]


def test_the_online_checklist_shows_the_brief_and_takes_seen_done(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    auth.login("cadre")
    evaluation_id = _failed_evaluation(client, world)
    with app.app_context():
        action_id = _action(world["b11"], evaluation_id, description="Lập sổ biên bản chi đoàn")
        db.session.add(
            Meeting(
                branch_id=world["b11"],
                day=TODAY + timedelta(days=3),
                time=time(19, 30),
                place="Nhà văn hóa ấp 1",
                kind="regular",
            )
        )
        db.session.commit()
    page = client.get(f"/evaluate/{world['b11']}").get_data(as_text=True)
    assert 'id="brief"' in page and 'id="brief" aria-labelledby="brief-title" hidden' not in page
    assert "Học tập chuyên đề năm 2026." in page  # the material, shown at last
    assert 'href="https://example.org/tai-lieu"' in page
    assert "Nguyễn Thị Lan" in page and "Nhà văn hóa ấp 1" in page
    assert 'class="item failed-last" id="item-P10"' in page
    assert 'class="item failed-last" id="item-P3"' not in page
    assert f'name="seen_done" value="{action_id}"' in page
    assert "Chưa có sổ biên bản." in page
    # Without JavaScript the form posts the ticks too.
    from tests.test_checklist_pages import form_values

    data = form_values(page, seen_done=str(action_id))
    response = client.post(f"/evaluate/{world['b11']}", data=data)
    assert response.status_code == 303
    with app.app_context():
        action = db.session.get(CorrectiveAction, action_id)
        assert action is not None and action.seen_done_at is not None


def test_my_next_visits_show_the_declared_meeting(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    with app.app_context():
        for unit_id, days in ((world["b11"], 4), (world["b12"], 5)):
            plan = VisitPlan(
                unit_id=unit_id,
                form="meeting",
                start_date=TODAY + timedelta(days=days),
                end_date=TODAY + timedelta(days=days),
                created_by_id=_user("province").id,
            )
            plan.cadres = [PlanCadre(user_id=_user("cadre").id)]
            db.session.add(plan)
        db.session.add_all(
            [
                Meeting(
                    branch_id=world["b11"],
                    day=TODAY + timedelta(days=4),
                    time=time(19, 30),
                    place="Hội trường ấp 1",
                    kind="regular",
                ),
                Meeting(
                    branch_id=world["b12"],
                    day=TODAY + timedelta(days=5),
                    time=time(8, 0),
                    kind="regular",
                    cancelled_at=datetime.now(UTC),
                    cancel_reason="Mưa bão",
                ),
            ]
        )
        db.session.commit()
    auth.login("cadre")
    page = client.get("/").get_data(as_text=True)
    section = page.split('id="my-next-visits"')[1].split("</section>")[0]
    assert "Hội trường ấp 1" in section and "19:30" in section
    assert section.count('class="visit-meeting"') == 1  # the cancelled meeting is not shown


def test_the_offline_shell_carries_the_brief_empty_with_its_labels(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    auth.login("cadre")
    response = client.get("/evaluate/form")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'id="brief" aria-labelledby="brief-title" hidden' in page
    for part in ("brief-plans", "brief-guidance", "brief-secretary", "brief-last", "brief-actions"):
        assert f'id="{part}"' in page
    assert 'id="brief-action-proto"' in page and 'data-failed-label="' in page
