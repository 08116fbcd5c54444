"""Visits and their reports through POST /api/v1/sync (issue 18, item 5).

A visit is an item of kind ``visit``, a version of its written report an item of kind
``visit_report``; both get the evaluations' answers (created / duplicate / conflict /
rejected) and guarantees, and a batch an older phone sends (evaluations without ``kind``)
is answered exactly as before.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from coso.extensions import db
from coso.models import AuditEvent, Evaluation, UnitSettings, User, Visit, VisitPlan
from coso.plans import queries as plan_queries
from coso.visits import queries as visit_queries
from tests.builders import payload, small_province, with_checklist
from tests.conftest import AuthActions

TODAY = date(2026, 6, 15)


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    app.config["COSO_TODAY"] = TODAY.isoformat()
    with app.app_context():
        data = with_checklist(small_province())
        return {
            "province": data["province"].id,
            "branches": [b.id for b in data["branches"]],
            "communes": [c.id for c in data["communes"]],
            "template": data["template"].id,
            "guidance": data["guidance"].id,
            "ids": {k: u.id for k, u in data["users"].items()},
        }


def post(client: FlaskClient, body: Any) -> Any:
    token = client.get("/api/v1/session").get_json()["csrf_token"]
    return client.post("/api/v1/sync", json=body, headers={"X-CSRFToken": token})


def visit_item(world: dict[str, Any], **changes: Any) -> dict[str, Any]:
    item = {
        "kind": "visit",
        "uuid": str(uuid.uuid4()),
        "unit_id": world["branches"][0],
        "form": "coorganise",
        "start_date": (TODAY - timedelta(days=2)).isoformat(),
        "end_date": (TODAY - timedelta(days=2)).isoformat(),
        "submitted_at": f"{TODAY - timedelta(days=2)}T15:00:00Z",
    }
    item.update(changes)
    return item


def report_item(visit: dict[str, Any], version: int = 1, **changes: Any) -> dict[str, Any]:
    item = {
        "kind": "visit_report",
        "uuid": changes.pop("draft", None) or str(uuid.uuid5(uuid.NAMESPACE_URL, visit["uuid"])),
        "visit_uuid": visit["uuid"],
        "version": version,
        "report": f"Báo cáo phiên bản {version}: đoàn viên tham gia đông.",
        "submitted_at": f"{TODAY}T08:00:00Z",
    }
    item.update(changes)
    return item


def count(model: Any, *where: Any) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0


def results(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["results"]


# ------------------------------------------------------------------ old clients


def test_an_old_phones_batch_is_answered_exactly_as_before(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    """The payload static/js/outbox.js sent before kinds existed, verbatim: no ``kind``."""
    auth.login("cadre")
    uid = "6f1c2a9e-3b7d-4c1e-9a52-0d8e7f6a5b41"
    day = date.today().isoformat()  # the evaluations' checks run on the real clock
    answers = [
        {"item": code, "value": "pass"}
        for code in (
            [
                "P1",
                "P2",
                "P3",
                "P5",
                "P6",
                "P7",
                "P8",
                "P9",
                "P10",
                "P11",
                "P12",
                "C1",
                "C2",
                "C3",
                "C4",
                "C5",
                "C6",
                "C7",
                "C8",
                "C9",
            ]
        )
    ]
    body = {
        "device_id": "d-4b1e2f",
        "evaluations": [
            {
                "uuid": uid,
                "branch_id": world["branches"][0],
                "template_id": world["template"],
                "guidance_id": world["guidance"],
                "meeting_date": day,
                "meeting_type": "regular",
                "mode": "in_person",
                "members_total": 20,
                "members_present": 18,
                "answers": answers,
                "topics_covered": ["T1", "T2", "T3"],
                "notes": "Sinh hoạt nghiêm túc.",
                "good_practice": None,
                "recommend_practice": False,
                "supersedes": None,
                "started_at": f"{day}T00:00:00.000Z",
                "submitted_at": f"{day}T00:30:00.000Z",
            }
        ],
    }
    first = results(post(client, body))
    assert len(first) == 1
    assert set(first[0]) == {"uuid", "status", "id", "errors", "outcome"}  # no new key
    assert first[0]["status"] == "created" and first[0]["uuid"] == uid, first[0]["errors"]
    assert first[0]["outcome"]["compliant"] is True
    again = results(post(client, body))
    assert again[0]["status"] == "duplicate" and again[0]["id"] == first[0]["id"]
    with app.app_context():
        assert count(Evaluation) == 1
        assert count(Visit) == 1  # the meeting's day, as always


def test_kind_evaluation_is_the_same_as_no_kind(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    auth.login("cadre")
    item = payload(world["branches"][0], world["template"], world["guidance"])
    first = results(post(client, {"evaluations": [dict(item, kind="evaluation")]}))
    assert first[0]["status"] == "created" and "kind" not in first[0]
    # the kind is not content: the same evaluation without it is a duplicate
    again = results(post(client, {"evaluations": [item]}))
    assert again[0]["status"] == "duplicate"


# ------------------------------------------------------------------------ visits


def test_a_visit_is_stored_once_however_often_it_is_sent(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    auth.login("cadre")
    visit = visit_item(world)
    first = results(post(client, {"evaluations": [visit]}))[0]
    assert first["status"] == "created" and first["kind"] == "visit" and first["id"]
    assert first["errors"] is None and first["outcome"] is None
    for _ in range(3):
        again = results(post(client, {"evaluations": [visit, dict(visit)]}))
        assert [r["status"] for r in again] == ["duplicate", "duplicate"]
        assert {r["id"] for r in again} == {first["id"]}
    changed = results(post(client, {"evaluations": [dict(visit, form="inspection")]}))[0]
    assert changed["status"] == "conflict" and changed["id"] == first["id"]
    with app.app_context():
        assert count(Visit) == 1
        stored = db.session.get(Visit, first["id"])
        assert stored.form == "coorganise" and stored.uuid == visit["uuid"]
        assert count(AuditEvent, AuditEvent.action == "visit.create") == 1
        cadre = db.session.get(User, world["ids"]["cadre"])
        row = visit_queries.row_for(
            cadre, visit_queries.year_visits([cadre.id], 2026)[cadre.id], 2026, TODAY, 60
        )
        assert row.days.total == 1 and row.form_days("coorganise") == 1


def test_a_visit_and_an_evaluation_the_same_day_count_one_day(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    auth.login("cadre")
    day = (TODAY - timedelta(days=1)).isoformat()
    evaluation = payload(
        world["branches"][0],
        world["template"],
        None,  # the guidance is of the real month; the pinned day is in another
        meeting_date=day,
        started_at=f"{day}T12:00:00Z",
        submitted_at=f"{day}T13:00:00Z",
    )
    visit = visit_item(world, start_date=day, end_date=day, submitted_at=f"{day}T13:00:00Z")
    answer = results(post(client, {"evaluations": [evaluation, visit, visit]}))
    assert [r["status"] for r in answer] == ["created", "created", "duplicate"]
    assert "kind" not in answer[0] and answer[1]["kind"] == "visit"
    client.get("/logout")
    auth.login("province")
    page = client.get(f"/visits/ledger?unit={world['province']}&year=2026").get_data(as_text=True)
    row = page.split(f'data-user-id="{world["ids"]["cadre"]}"')[1].split("</tr>")[0]
    assert 'class="num total"><strong>1</strong>' in row


def test_another_users_visit_uuid_is_a_conflict_and_changes_nothing(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    auth.login("cadre")
    visit = visit_item(world)
    results(post(client, {"evaluations": [visit]}))
    client.get("/logout")
    auth.login("cadre_b")
    mine = visit_item(world, uuid=visit["uuid"], unit_id=world["branches"][2])
    answer = results(post(client, {"evaluations": [mine]}))[0]
    assert answer["status"] == "conflict" and answer["id"] is None
    with app.app_context():
        assert count(Visit) == 1


def test_the_province_logs_visits_by_sync_but_may_not_evaluate(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    auth.login("province")
    answer = results(post(client, {"evaluations": [visit_item(world)]}))[0]
    assert answer["status"] == "created"
    item = payload(world["branches"][0], world["template"], world["guidance"])
    response = post(client, {"evaluations": [item, visit_item(world)]})
    assert response.status_code == 403  # as before for a batch holding an evaluation
    client.get("/logout")
    auth.login("secretary")  # a branch's own secretary does not go out
    assert post(client, {"evaluations": [visit_item(world)]}).status_code == 403
    with app.app_context():
        assert count(Visit) == 1


# ----------------------------------------------------------------------- reports


def test_a_report_drafted_over_days_is_updated_not_duplicated(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    auth.login("cadre")
    visit = visit_item(world)
    v1 = report_item(visit, 1)
    answer = results(post(client, {"evaluations": [visit, v1]}))
    assert [r["status"] for r in answer] == ["created", "created"]
    assert answer[1]["kind"] == "visit_report" and answer[1]["id"] == answer[0]["id"]
    assert results(post(client, {"evaluations": [v1]}))[0]["status"] == "duplicate"
    app.config["COSO_TODAY"] = (TODAY + timedelta(days=3)).isoformat()
    v2 = report_item(visit, 2, submitted_at=f"{TODAY + timedelta(days=3)}T08:00:00Z")
    assert results(post(client, {"evaluations": [v2]}))[0]["status"] == "created"
    # an older version arriving late, or the same version with other text: nothing changes
    late = results(post(client, {"evaluations": [v1, dict(v2, report="Khác")]}))
    assert [r["status"] for r in late] == ["conflict", "conflict"]
    # another draft of the same visit's report does not overwrite it
    other = report_item(visit, 3, draft=str(uuid.uuid4()))
    assert results(post(client, {"evaluations": [other]}))[0]["status"] == "conflict"
    with app.app_context():
        assert count(Visit) == 1
        stored = db.session.scalar(sa.select(Visit))
        assert stored.report == v2["report"] and stored.report_version == 2
        assert stored.reported_at.date() == TODAY  # the first version's day
        assert count(AuditEvent, AuditEvent.action == "visit.report") == 2


def test_a_report_before_its_visit_or_of_anothers_visit_is_rejected(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    auth.login("cadre")
    visit = visit_item(world)
    answer = results(post(client, {"evaluations": [report_item(visit), visit]}))
    assert [r["status"] for r in answer] == ["rejected", "created"]
    assert "visit_uuid" in answer[0]["errors"]
    client.get("/logout")
    auth.login("cadre_b")
    answer = results(post(client, {"evaluations": [report_item(visit)]}))
    assert answer[0]["status"] == "rejected"
    with app.app_context():
        assert db.session.scalar(sa.select(Visit.report)) is None


def test_a_report_written_on_the_web_is_followed_by_a_later_draft(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    auth.login("cadre")
    visit = visit_item(world)
    visit_id = results(post(client, {"evaluations": [visit]}))[0]["id"]
    token = auth.csrf_token()
    response = client.post(
        f"/visits/{visit_id}/report", data={"report": "Viết trên web", "csrf_token": token}
    )
    assert response.status_code == 303
    # version 1 of the phone's draft is not later than the web's first version
    assert results(post(client, {"evaluations": [report_item(visit, 1)]}))[0]["status"] == (
        "conflict"
    )
    assert results(post(client, {"evaluations": [report_item(visit, 2)]}))[0]["status"] == (
        "created"
    )


def test_reports_on_time_and_late_follow_the_setting(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    auth.login("cadre")
    early = visit_item(world, start_date="2026-06-01", end_date="2026-06-02")
    late = visit_item(world, start_date="2026-06-03", end_date="2026-06-03")
    none = visit_item(world, start_date="2026-06-01", end_date="2026-06-01", form="research")
    results(post(client, {"evaluations": [early, late, none]}))
    # 13 June: early's report on day 11 of 10 after its end? no: 2 June + 10 = 12 June
    app.config["COSO_TODAY"] = "2026-06-12"
    results(
        post(client, {"evaluations": [report_item(early, submitted_at="2026-06-12T09:00:00Z")]})
    )
    app.config["COSO_TODAY"] = "2026-06-14"
    results(post(client, {"evaluations": [report_item(late, submitted_at="2026-06-14T09:00:00Z")]}))
    with app.app_context():
        cadre = db.session.get(User, world["ids"]["cadre"])
        visits = visit_queries.year_visits([cadre.id], 2026)[cadre.id]
        row = visit_queries.row_for(cadre, visits, 2026, date(2026, 6, 14), 60, 10)
        assert (row.on_time_reports, row.late_reports, row.missing_reports) == (1, 1, 1)
        row = visit_queries.row_for(cadre, visits, 2026, date(2026, 6, 14), 60, 15)
        assert (row.on_time_reports, row.late_reports, row.missing_reports) == (2, 0, 0)
    mine = client.get("/visits?year=2026").get_data(as_text=True)
    assert "report-late" in mine and "report-on-time" in mine and "report-missing" in mine
    with app.app_context():  # the province gives 15 days: nothing is late any more
        db.session.add(UnitSettings(unit_id=world["province"], values={"report_days": 15}))
        db.session.commit()
    mine = client.get("/visits?year=2026").get_data(as_text=True)
    assert "report-late" not in mine and "report-missing" not in mine
    client.get("/logout")
    auth.login("province")
    page = client.get(f"/visits/ledger?unit={world['province']}&year=2026").get_data(as_text=True)
    row_html = page.split(f'data-user-id="{world["ids"]["cadre"]}"')[1].split("</tr>")[0]
    assert 'class="num late-reports single">0<' in row_html  # hidden on a phone when 0


# -------------------------------------------------------------------------- plans


def test_a_planned_visit_is_done_when_its_visit_arrives_by_sync(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    auth.login("province")
    day = TODAY - timedelta(days=1)
    response = client.post(
        "/plans/new",
        data={
            "unit_code": "CD-A1",
            "form": "coorganise",
            "start_date": (TODAY + timedelta(days=1)).isoformat(),
            "end_date": (TODAY + timedelta(days=1)).isoformat(),
            "cadre_ids": [world["ids"]["cadre"]],
            "csrf_token": auth.csrf_token(),
        },
    )
    assert response.status_code == 303
    client.get("/logout")
    auth.login("cadre")
    app.config["COSO_TODAY"] = (TODAY + timedelta(days=2)).isoformat()
    planned = (TODAY + timedelta(days=1)).isoformat()
    visit = visit_item(world, start_date=planned, end_date=planned)
    assert results(post(client, {"evaluations": [visit]}))[0]["status"] == "created"
    with app.app_context():
        plan = db.session.scalar(sa.select(VisitPlan))
        period = plan_queries.plan_period(plan, TODAY + timedelta(days=2))
        assert period.state(plan) == "done"
        plan_id = plan.id
    page = client.get(f"/plans/{plan_id}").get_data(as_text=True)
    assert "report-due" in page  # no report yet, not late either
    report = report_item(visit, submitted_at=f"{TODAY + timedelta(days=2)}T08:00:00Z")
    assert results(post(client, {"evaluations": [report]}))[0]["status"] == "created"
    page = client.get(f"/plans/{plan_id}").get_data(as_text=True)
    assert "report-on-time" in page
    assert day  # the eve is not planned here: only the planned day links


# ------------------------------------------------------------------------ hostile


def _hostile(world: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    base = visit_item(world)
    future = (TODAY + timedelta(days=1)).isoformat()
    cases: list[tuple[str, dict[str, Any]]] = [
        ("kind", dict(base, kind="photo")),
        ("kind", dict(base, kind=None)),
        ("kind", dict(base, kind=["visit"])),
        ("uuid", dict(base, uuid="not-a-uuid")),
        ("uuid", dict(base, uuid="\x00" * 40)),
        ("unit_id", dict(base, unit_id=2**40)),
        ("unit_id", dict(base, unit_id=-1)),
        ("unit_id", dict(base, unit_id=world["province"] + 10_000)),
        ("unit_id", dict(base, unit_id={"$gt": 0})),
        ("form", dict(base, form="meeting")),
        ("form", dict(base, form="x" * 5000)),
        ("start_date", dict(base, start_date=future, end_date=future)),
        ("start_date", dict(base, start_date="15/06/2026")),
        ("start_date", dict(base, start_date="9999-99-99")),
        ("end_date", dict(base, end_date="2026-05-01")),
        ("end_date", dict(base, start_date="2026-01-01", end_date="2026-03-01")),
        ("report", dict(base, report="a\x00b")),
        ("report", dict(base, report="\ud800")),
        ("report", dict(base, report="x" * 5001)),
        ("report", dict(base, report=["x"])),
        ("submitted_at", dict(base, submitted_at="yesterday")),
    ]
    report = report_item(base)
    cases += [
        ("version", dict(report, version=0)),
        ("version", dict(report, version=-3)),
        ("version", dict(report, version="2")),
        ("version", dict(report, version=1.5)),
        ("version", dict(report, version=10**12)),
        ("report", dict(report, report="   ")),
        ("report", dict(report, report="\x00")),
        ("report", dict(report, report=None)),
        ("visit_uuid", dict(report, visit_uuid="nope")),
        ("visit_uuid", dict(report, visit_uuid=None)),
    ]
    return cases


def test_hostile_visit_items_are_rejected_alone(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    auth.login("cadre")
    good = visit_item(world)
    results(post(client, {"evaluations": [good]}))  # the visit the report cases refer to
    for field, bad in _hostile(world):
        if bad.get("kind") == "visit_report":
            bad["visit_uuid"] = bad["visit_uuid"] if field == "visit_uuid" else good["uuid"]
        fine = visit_item(world)
        answer = results(post(client, {"evaluations": [bad, fine]}))
        assert answer[0]["status"] == "rejected", (field, bad, answer[0])
        assert field in answer[0]["errors"], (field, answer[0]["errors"])
        assert answer[1]["status"] == "created"
    with app.app_context():
        assert count(Visit) == 1 + len(_hostile(world))
        assert db.session.scalar(sa.select(Visit.report).where(Visit.uuid == good["uuid"])) is None


def test_unit_outside_the_area_is_refused(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    auth.login("cadre_b")  # home: the second commune
    answer = results(post(client, {"evaluations": [visit_item(world)]}))[0]
    assert answer["status"] == "rejected" and "unit_id" in answer["errors"]


# ------------------------------------------------------------------------ contract


def test_the_contract_describes_the_kinds_and_holds_real_answers(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    """A mixed batch and its answer validate against /api/v1/openapi.json."""
    import jsonschema_rs

    document = client.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    kinds = schemas["SyncRequest"]["properties"]["evaluations"]["items"]["oneOf"]
    assert [k["$ref"].rsplit("/", 1)[1] for k in kinds] == [
        "Evaluation",
        "VisitItem",
        "VisitReportItem",
        "DifficultyItem",
    ]
    assert schemas["Evaluation"]["properties"]["kind"]["default"] == "evaluation"
    assert "kind" not in schemas["Evaluation"].get("required", [])
    auth.login("cadre")
    visit = visit_item(world)
    body = {
        "evaluations": [
            payload(world["branches"][0], world["template"], world["guidance"]),
            visit,
            report_item(visit),
            dict(visit, kind="photo"),
        ]
    }

    def plain(node: Any) -> Any:  # OpenAPI 3.0's "nullable" as JSON Schema says it
        if isinstance(node, list):
            return [plain(n) for n in node]
        if not isinstance(node, dict):
            return node
        out = {k: plain(v) for k, v in node.items() if k != "nullable"}
        if node.get("nullable") and "type" in node:
            out["type"] = [node["type"], "null"]
        return out

    components = plain(document["components"])

    def check(instance: Any, name: str) -> None:
        schema = {"components": components, "$ref": f"#/components/schemas/{name}"}
        jsonschema_rs.validate(schema, instance)

    # the three kinds each match exactly one branch of the oneOf (the unknown one: none)
    for item in body["evaluations"][:3]:
        check({"evaluations": [item]}, "SyncRequest")
    answer = post(client, body).get_json()
    check(answer, "SyncResponse")
    assert [r.get("kind") for r in answer["results"]] == [None, "visit", "visit_report", None]
    assert answer["results"][3]["status"] == "rejected" and "kind" in answer["results"][3]["errors"]


def test_racing_requests_store_one_visit_and_one_report_version(
    app: Flask, world: dict[str, Any]
) -> None:
    """Two phones (or a phone and its retry) send the same visit and report at one moment."""
    import threading

    visit = visit_item(world)
    report = report_item(visit)
    clients = []
    for _ in range(2):
        c = app.test_client()
        AuthActions(c).login("cadre")
        clients.append((c, c.get("/api/v1/session").get_json()["csrf_token"]))
    barrier = threading.Barrier(2)
    answers: list[list[str]] = []

    def send(c: FlaskClient, token: str) -> None:
        barrier.wait()
        response = c.post(
            "/api/v1/sync", json={"evaluations": [visit, report]}, headers={"X-CSRFToken": token}
        )
        answers.append([r["status"] for r in response.get_json()["results"]])

    threads = [threading.Thread(target=send, args=pair) for pair in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [["created", "created"], ["duplicate", "duplicate"]]
    with app.app_context():
        assert count(Visit) == 1
        assert count(AuditEvent, AuditEvent.action == "visit.report") == 1
