"""Visit plans through the pages: plan, propose, decide, re-plan, link, done by an evaluation,
plan against done, who goes next, the home panel, the ledger, exports and hostile input."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from coso.evaluations import service as evaluations
from coso.extensions import db
from coso.models import AuditEvent, PlanCadre, User, Visit, VisitPlan
from tests.builders import make_unit, make_user, payload, small_province, with_checklist
from tests.conftest import AuthActions

TODAY = date(2026, 6, 15)


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    app.config["COSO_TODAY"] = TODAY.isoformat()
    with app.app_context():
        data = with_checklist(small_province())
        other = make_unit("TINH-Z", "province", name="Tỉnh khác")
        outside = make_unit("CD-Z1", "branch", make_unit("XA-Z", "commune", other), member_count=9)
        stranger = make_user("cadre_z", "cadre", other)
        db.session.commit()
        return {
            "ids": {k: u.id for k, u in data["users"].items()},
            "b11": data["branches"][0].id,
            "b21": data["branches"][2].id,
            "template": data["template"].id,
            "guidance": data["guidance"].id,
            "outside": outside.id,
            "stranger": stranger.id,
        }


def _post(client: FlaskClient, auth: AuthActions, url: str, data: dict[str, Any]) -> Any:
    return client.post(url, data={**data, "csrf_token": auth.csrf_token()})


def _plan_form(world: dict[str, Any], **changes: Any) -> dict[str, Any]:
    form = {
        "unit_code": "CD-A1",
        "form": "meeting",
        "start_date": (TODAY + timedelta(days=3)).isoformat(),
        "end_date": (TODAY + timedelta(days=3)).isoformat(),
        "cadre_ids": [world["ids"]["cadre"]],
        "focus": "Sổ biên bản <script>",
    }
    form.update(changes)
    return form


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(VisitPlan)) or 0


def _evaluate(app: Flask, world: dict[str, Any], username: str, branch_id: int, day: date) -> int:
    with app.test_request_context():
        cadre = db.session.scalar(sa.select(User).where(User.username == username))
        item = payload(branch_id, world["template"], None, meeting_date=day.isoformat())
        result = evaluations.submit(item, cadre)
        assert result.id is not None, result.errors
        db.session.commit()
        return result.id


def test_province_plans_the_cadre_sees_it_and_an_evaluation_makes_it_done(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    auth.login("province")
    response = _post(client, auth, "/plans/new", _plan_form(world, day_before="1"))
    assert response.status_code == 303
    with app.app_context():
        plan = db.session.scalar(sa.select(VisitPlan))
        assert plan is not None and plan.status == "planned" and plan.day_before
        assert [c.user_id for c in plan.cadres] == [world["ids"]["cadre"]]
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "plan.create"))
        assert event is not None and event.object_id == str(plan.id)
        plan_id = plan.id
    page = client.get(f"/plans/{plan_id}").get_data(as_text=True)
    assert "Sổ biên bản &lt;script&gt;" in page
    auth.logout()
    auth.login("cadre")
    home = client.get("/").get_data(as_text=True)
    assert (
        f'data-plan-id="{plan_id}"' in home.split('id="my-next-visits"')[1].split("</section>")[0]
    )
    # the cadre evaluates the branch on the eve (arriving a day before): the plan is done
    _evaluate(app, world, "cadre", world["b11"], TODAY + timedelta(days=2))
    app.config["COSO_TODAY"] = (TODAY + timedelta(days=2)).isoformat()
    page = client.get(f"/plans/{plan_id}").get_data(as_text=True)
    assert 'id="plan-state">Đã thực hiện' in page or "plan-done" in page
    home = client.get("/").get_data(as_text=True)
    assert f'data-plan-id="{plan_id}"' not in home
    auth.logout()
    auth.login("province")
    app.config["COSO_TODAY"] = (TODAY + timedelta(days=10)).isoformat()
    report = client.get(f"/plans/report?month={TODAY:%Y-%m}").get_data(as_text=True)
    assert 'id="t-done">1<' in report and 'id="t-missed">0<' in report


def test_missed_replanned_and_unplanned_in_the_report(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    auth.login("province")
    assert _post(client, auth, "/plans/new", _plan_form(world)).status_code == 303
    with app.app_context():
        plan_id = db.session.scalar(sa.select(VisitPlan.id))
    # an evaluation of another branch: unplanned
    _evaluate(app, world, "cadre", world["b21"], TODAY)
    app.config["COSO_TODAY"] = (TODAY + timedelta(days=5)).isoformat()  # the planned day passed
    page = client.get(f"/plans/{plan_id}").get_data(as_text=True)
    assert "plan-missed" in page
    report = client.get(f"/plans/report?month={TODAY:%Y-%m}").get_data(as_text=True)
    assert 'id="t-missed">1<' in report and 'id="t-unplanned">1<' in report
    # re-planned with a reason: the old plan kept, a new one made
    new_day = (TODAY + timedelta(days=8)).isoformat()
    response = _post(
        client,
        auth,
        f"/plans/{plan_id}/replan",
        {"start_date": new_day, "end_date": new_day, "reason": "Chi đoàn dời ngày họp"},
    )
    assert response.status_code == 303
    with app.app_context():
        old = db.session.get(VisitPlan, plan_id)
        new = db.session.scalar(sa.select(VisitPlan).where(VisitPlan.replaces_id == plan_id))
        assert old is not None and old.status == "replanned"
        assert new is not None and new.start_date.isoformat() == new_day
        assert new.replan_reason == "Chi đoàn dời ngày họp"
        assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "plan.replan"))
    report = client.get(f"/plans/report?month={TODAY:%Y-%m}").get_data(as_text=True)
    assert 'id="t-missed">0<' in report and 'id="t-replanned">1<' in report
    assert 'id="t-upcoming">1<' in report
    # exports
    for fmt in ("csv", "xlsx"):
        response = client.get(f"/plans/report.{fmt}?month={TODAY:%Y-%m}&by=commune")
        assert response.status_code == 200
        assert "attachment" in response.headers["Content-Disposition"]
    csv = client.get(f"/plans/report.csv?month={TODAY:%Y-%m}").get_data(as_text=True)
    assert "Cadre" in csv or "Cán bộ" in csv


def test_cadre_proposes_and_the_province_approves_or_declines(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    auth.login("cadre")
    form = _plan_form(world, form="field_study", end_date=(TODAY + timedelta(days=30)).isoformat())
    assert _post(client, auth, "/plans/propose", form).status_code == 303
    assert _post(client, auth, "/plans/propose", _plan_form(world)).status_code == 303
    with app.app_context():
        first, second = db.session.scalars(sa.select(VisitPlan).order_by(VisitPlan.id)).all()
        assert first.status == second.status == "proposed"
        assert [c.user_id for c in first.cadres] == [world["ids"]["cadre"]]
        ids = first.id, second.id
    # the cadre cannot approve their own proposal
    assert _post(client, auth, f"/plans/{ids[0]}/approve", {}).status_code == 403
    auth.logout()
    auth.login("province")
    index = client.get("/plans").get_data(as_text=True)
    assert 'id="pending-proposals"' in index
    assert _post(client, auth, f"/plans/{ids[0]}/approve", {}).status_code == 303
    # a decline needs a reason
    response = _post(client, auth, f"/plans/{ids[1]}/decline", {"reason": "  "})
    assert response.status_code == 422
    assert 'id="err-reason"' in response.get_data(as_text=True)
    assert (
        _post(client, auth, f"/plans/{ids[1]}/decline", {"reason": "Trùng lịch"}).status_code == 303
    )
    with app.app_context():
        assert db.session.get(VisitPlan, ids[0]).status == "planned"  # type: ignore[union-attr]
        declined = db.session.get(VisitPlan, ids[1])
        assert declined is not None and declined.decline_reason == "Trùng lịch"
        actions = set(db.session.scalars(sa.select(AuditEvent.action)))
        assert {"plan.propose", "plan.approve", "plan.decline"} <= actions
    # deciding twice is refused
    assert _post(client, auth, f"/plans/{ids[0]}/approve", {}).status_code == 409


def test_a_commune_plans_for_its_own_cadres_only(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    with app.app_context():
        commune = db.session.scalar(sa.select(User).where(User.username == "commune"))
        assert commune is not None
        own = make_user("cadre_a", "cadre", commune.unit)
        db.session.commit()
        own_id = own.id
    auth.login("commune")
    # the province's cadre works outside the commune
    response = _post(client, auth, "/plans/new", _plan_form(world))
    assert response.status_code == 422
    assert "Chọn cán bộ trong địa bàn của bạn." in response.get_data(as_text=True)
    response = _post(client, auth, "/plans/new", _plan_form(world, cadre_ids=[own_id]))
    assert response.status_code == 303


def test_a_visit_is_linked_by_hand(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    auth.login("province")
    assert _post(client, auth, "/plans/new", _plan_form(world)).status_code == 303
    with app.app_context():
        plan_id = db.session.scalar(sa.select(VisitPlan.id))
        late = TODAY + timedelta(days=9)
        visit = Visit(
            user_id=world["ids"]["cadre"],
            unit_id=world["b11"],
            form="inspection",
            start_date=late,
            end_date=late,
        )
        db.session.add(visit)
        db.session.commit()
        visit_id = visit.id
    app.config["COSO_TODAY"] = (TODAY + timedelta(days=10)).isoformat()
    page = client.get(f"/plans/{plan_id}").get_data(as_text=True)
    assert "plan-missed" in page and f'value="{visit_id}"' in page
    assert _post(client, auth, f"/plans/{plan_id}/link", {"visit_id": "abc"}).status_code == 422
    assert (
        _post(client, auth, f"/plans/{plan_id}/link", {"visit_id": str(visit_id)}).status_code
        == 303
    )
    with app.app_context():
        share = db.session.scalar(sa.select(PlanCadre))
        assert share is not None and share.visit_id == visit_id
        assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "plan.link"))
    assert "plan-done" in client.get(f"/plans/{plan_id}").get_data(as_text=True)


HOSTILE = {
    "dates reversed": (
        {
            "start_date": (TODAY + timedelta(days=5)).isoformat(),
            "end_date": (TODAY + timedelta(days=2)).isoformat(),
        },
        "Ngày kết thúc không được trước ngày bắt đầu.",
    ),
    "in the past": (
        {"start_date": "2026-01-01", "end_date": "2026-01-02"},
        "Kế hoạch không thể kết thúc trong quá khứ.",
    ),
    "too long": (
        {"end_date": (TODAY + timedelta(days=60)).isoformat()},
        "Một kế hoạch dài nhiều nhất 31 ngày.",
    ),
    "year 9999": ({"end_date": "9999-01-01"}, "Nhập ngày trong khoảng từ năm 2000 đến 2100."),
    "unit outside": ({"unit_code": "CD-Z1"}, "Hãy chọn một đơn vị thuộc phạm vi của bạn."),
    "unknown unit": (
        {"unit_code": "'; drop table unit; --"},
        "Hãy chọn một đơn vị thuộc phạm vi của bạn.",
    ),
    "no cadre": ({"cadre_ids": []}, "Chọn ít nhất một cán bộ."),
    "cadre as words": ({"cadre_ids": ["một"]}, "Chọn cán bộ trong danh sách."),
    "huge cadre id": ({"cadre_ids": [str(2**40)]}, "Chọn cán bộ trong địa bàn của bạn."),
    "bad form": ({"form": "party"}, "Hãy chọn một hình thức đi cơ sở trong danh sách."),
    "focus too long": ({"focus": "x" * 2001}, "Nhập tối đa 2000 ký tự."),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_plans_are_refused_and_store_nothing(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any], case: str
) -> None:
    changes, message = HOSTILE[case]
    auth.login("province")
    response = _post(client, auth, "/plans/new", _plan_form(world, **changes))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert _count() == 0


def test_a_cadre_outside_the_area_is_refused(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    auth.login("province")
    response = _post(client, auth, "/plans/new", _plan_form(world, cadre_ids=[world["stranger"]]))
    assert response.status_code == 422
    assert "Chọn cán bộ trong địa bàn của bạn." in response.get_data(as_text=True)
    # a secretary (not a cadre) inside the area neither
    response = _post(
        client, auth, "/plans/new", _plan_form(world, cadre_ids=[world["ids"]["secretary"]])
    )
    assert response.status_code == 422
    with app.app_context():
        assert _count() == 0


def test_hostile_replan_and_filters(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    auth.login("province")
    assert _post(client, auth, "/plans/new", _plan_form(world)).status_code == 303
    with app.app_context():
        plan_id = db.session.scalar(sa.select(VisitPlan.id))
    day = (TODAY + timedelta(days=9)).isoformat()
    earlier = (TODAY + timedelta(days=4)).isoformat()
    for data in (
        {"start_date": day, "end_date": earlier, "reason": "x"},
        {"start_date": day, "end_date": day, "reason": ""},
        {"start_date": "hôm qua", "end_date": day, "reason": "x"},
    ):
        assert _post(client, auth, f"/plans/{plan_id}/replan", data).status_code == 422
    with app.app_context():
        assert _count() == 1
    assert client.get("/plans?month=13-2026").status_code == 422
    assert client.get("/plans?state=nope").status_code == 422
    assert client.get("/plans/report?month=2026-99").status_code == 422
    assert client.get("/plans/report?from=2026-06-10&to=2026-06-01").status_code == 422
    assert client.get("/plans?page=99999").status_code == 200


def test_who_goes_next_leaves_out_planned_branches(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    auth.login("province")
    page = client.get("/plans/next").get_data(as_text=True)
    assert f'data-branch-id="{world["b11"]}"' in page  # never evaluated, nobody planned
    assert _post(client, auth, "/plans/new", _plan_form(world)).status_code == 303
    page = client.get("/plans/next").get_data(as_text=True)
    assert f'data-branch-id="{world["b11"]}"' not in page
    assert f'data-branch-id="{world["b21"]}"' in page
    for fmt in ("csv", "xlsx"):
        assert client.get(f"/plans/next.{fmt}").status_code == 200


def test_the_ledger_shows_planned_days_beside_done_days(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    auth.login("province")
    form = _plan_form(world, end_date=(TODAY + timedelta(days=4)).isoformat())  # two days
    assert _post(client, auth, "/plans/new", form).status_code == 303
    page = client.get(f"/visits/ledger?year={TODAY.year}").get_data(as_text=True)
    row = page.split(f'data-user-id="{world["ids"]["cadre"]}"')[1].split("</tr>")[0]
    assert 'class="num planned">2<' in row


def test_outsiders_cannot_see_or_touch_a_plan(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    auth.login("province")
    assert _post(client, auth, "/plans/new", _plan_form(world)).status_code == 303
    with app.app_context():
        plan_id = db.session.scalar(sa.select(VisitPlan.id))
    auth.logout()
    auth.login("cadre_b")  # a cadre not on the plan
    assert client.get(f"/plans/{plan_id}").status_code == 403
    assert _post(client, auth, f"/plans/{plan_id}/link", {"visit_id": "1"}).status_code == 403
    assert client.get("/plans/new").status_code == 403
    assert client.get("/plans/report").status_code == 403


def test_the_demo_has_plans_in_every_state(app: Flask) -> None:
    from collections import Counter

    from coso.plans import queries
    from tests.test_dashboard import TODAY as DEMO_DAY
    from tests.test_dashboard import seed_demo

    seed_demo(app)
    with app.app_context():
        states: Counter[str] = Counter()
        for plan in db.session.scalars(sa.select(VisitPlan)):
            states[queries.plan_period(plan, DEMO_DAY).state(plan)] += 1
            if plan.replaces_id:
                assert plan.replan_reason
        assert set(states) == {"done", "missed", "replanned", "upcoming", "proposed", "declined"}
        two = [p for p in db.session.scalars(sa.select(VisitPlan)) if len(p.cadres) == 2]
        assert two, "a plan with two cadres"


def test_a_plans_page_shows_the_branchs_declared_meeting(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    from datetime import time

    from coso.meetings import service as meetings
    from coso.meetings.rules import REGULAR
    from coso.models import Unit

    auth.login("province")
    assert _post(client, auth, "/plans/new", _plan_form(world)).status_code == 303
    with app.app_context():
        plan_id = db.session.scalar(sa.select(VisitPlan.id))
    page = client.get(f"/plans/{plan_id}").get_data(as_text=True)
    assert 'id="plan-meeting"' in page and "chưa đăng ký buổi sinh hoạt" in page
    with app.app_context(), app.test_request_context():
        branch = db.session.get(Unit, world["b11"])
        secretary = db.session.get(User, world["ids"]["secretary"])
        assert branch is not None and secretary is not None
        where = {"time": time(19, 30), "place": "Nhà văn hoá ấp 1", "link": None, "kind": REGULAR}
        meetings.declare(branch, {"day": TODAY + timedelta(days=3), **where}, secretary)
        db.session.commit()
    page = client.get(f"/plans/{plan_id}").get_data(as_text=True)
    meeting = page.split('id="plan-meeting"')[1].split("</p>")[0]
    assert "18/06/2026 19:30" in meeting and "Nhà văn hoá ấp 1" in meeting


def test_a_plan_names_checklist_items_to_look_at(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    auth.login("province")
    form = client.get("/plans/new").get_data(as_text=True)
    assert 'name="look_items" value="P10"' in form
    # An item the checklist does not have is refused, and nothing is stored.
    bad = _post(client, auth, "/plans/new", _plan_form(world, look_items=["P10", "ZZ9"]))
    assert bad.status_code == 422 and "Hãy chọn mục kiểm tra trong danh sách" in bad.get_data(
        as_text=True
    )
    with app.app_context():
        assert _count() == 0
    made = _post(client, auth, "/plans/new", _plan_form(world, look_items=["P10", "P2", "P10"]))
    assert made.status_code == 303
    with app.app_context():
        plan = db.session.scalar(sa.select(VisitPlan))
        assert plan is not None and plan.look_items == ["P2", "P10"]  # the checklist's order
        plan_id = plan.id
    page = client.get(f"/plans/{plan_id}").get_data(as_text=True)
    listed = page.split('id="plan-look-items"')[1].split("</ul>")[0]
    assert "P2" in listed and "P10" in listed
    # Re-planned, the new plan asks for the same items.
    replanned = _post(
        client,
        auth,
        f"/plans/{plan_id}/replan",
        {
            "start_date": (TODAY + timedelta(days=5)).isoformat(),
            "end_date": (TODAY + timedelta(days=5)).isoformat(),
            "reason": "Mưa bão",
        },
    )
    assert replanned.status_code in (302, 303)
    with app.app_context():
        new = db.session.scalar(sa.select(VisitPlan).where(VisitPlan.replaces_id == plan_id))
        assert new is not None and new.look_items == ["P2", "P10"]
