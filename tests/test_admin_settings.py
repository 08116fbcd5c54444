"""Province settings: validated, stored as overrides, and a change recomputes the branch states."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from coso.extensions import db
from coso.fields import share_text
from coso.judging.queries import count_states, settings_for_path
from coso.models import AuditEvent, BranchStatus, Evaluation, EvaluationAnswer, Unit, UnitSettings
from tests.admin_support import count, events, post
from tests.builders import make_user, payload, small_province, with_checklist
from tests.conftest import AuthActions

DEFAULTS = {
    "score_threshold": "70",
    "serious_threshold": "50",
    "attendance_ratio": "2/3",
    "attendance_floor": "1/2",
    "content_floor": "1/2",
    "overdue_days": "90",
    "correction_hours": "48",
    "unack_days": "7",
    "visit_target": "60",
    "report_days": "10",
}
# Fails P6, P7, P12, C5, C6, C7: 26 points, none critical -> 74, compliant at 70.
SEVENTY_FOUR = {"P6": "fail", "P7": "fail", "P12": "fail", "C5": "fail", "C6": "fail", "C7": "fail"}


@pytest.fixture
def world(app: Flask, client: FlaskClient, auth: AuthActions) -> dict[str, Any]:
    with app.app_context():
        data = with_checklist(small_province())
        make_user("commune_lead", "province", data["communes"][0])
        db.session.commit()
        world = {
            "province": data["province"].id,
            "c1": data["communes"][0].id,
            "branches": [b.id for b in data["branches"]],
            "template": data["template"].id,
            "guidance": data["guidance"].id,
        }
    b11, b12, b21, b22 = world["branches"]
    today = date.today()
    items = [
        payload(b11, world["template"], world["guidance"], values=SEVENTY_FOUR),
        payload(b12, world["template"], world["guidance"]),
        # 12 of 20 present: P4 partial at 2/3, a fail under a floor of 0.65.
        payload(b21, world["template"], world["guidance"], members_present=12),
        # Two meetings at 74: ok now; a repeat offender once 74 is too low.
        payload(
            b22,
            world["template"],
            None,
            values=SEVENTY_FOUR,
            meeting_date=(today - timedelta(days=40)).isoformat(),
        ),
        payload(
            b22,
            world["template"],
            None,
            values=SEVENTY_FOUR,
            meeting_date=(today - timedelta(days=10)).isoformat(),
        ),
    ]
    auth.login("cadre")
    token = client.get("/api/v1/session").get_json()["csrf_token"]
    results = client.post(
        "/api/v1/sync", json={"evaluations": items}, headers={"X-CSRFToken": token}
    ).get_json()["results"]
    assert [r["status"] for r in results] == ["created"] * 5
    auth.logout()
    return world


def states(world: dict[str, Any]) -> list[str]:
    rows = {row.branch_id: row for row in db.session.scalars(sa.select(BranchStatus))}
    return [rows[b].state for b in world["branches"]]


def test_a_settings_change_recomputes_branch_states(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict, runner: Any
) -> None:
    with app.app_context():
        assert states(world) == ["ok", "ok", "ok", "ok"]
    auth.login("province")
    response = post(
        client, f"/admin/settings/{world['province']}", {**DEFAULTS, "score_threshold": "80"}
    )
    assert response.status_code == 303
    with app.app_context():
        assert states(world) == ["flagged", "ok", "ok", "repeat"]
        b11 = db.session.get(BranchStatus, world["branches"][0])
        assert b11.reasons[0] == {"rule": "score", "items": [], "value": 74.0, "threshold": 80.0}
        b22 = db.session.get(BranchStatus, world["branches"][3])
        assert b22.streak == 2 and b22.since == date.today() - timedelta(days=40)
        assert db.session.get(UnitSettings, world["province"]).values == {"score_threshold": 80.0}
        (event,) = events("settings.update")
        assert event.details["before"] == {"score_threshold": 70.0}
        assert event.details["after"] == {"score_threshold": 80.0}
        assert event.details["rejudged"]["branches"] == 2
        assert event.details["rejudged"]["after"]["repeat"] == 1
        assert event.unit_id == world["province"] and event.user.username == "province"
    # The command line recomputes from the same judgements and agrees.
    assert runner.invoke(args=["refresh-flags"]).exit_code == 0
    with app.app_context():
        assert states(world) == ["flagged", "ok", "ok", "repeat"]

    # Attendance: a floor of 0.65 makes 12 of 20 a critical fail of P4.
    changed = {
        **DEFAULTS,
        "score_threshold": "80",
        "attendance_ratio": "0,7",
        "attendance_floor": "65%",
    }
    assert post(client, f"/admin/settings/{world['province']}", changed).status_code == 303
    with app.app_context():
        assert states(world)[2] == "flagged"
        evaluation = db.session.scalar(
            sa.select(Evaluation).where(Evaluation.branch_id == world["branches"][2])
        )
        assert not evaluation.compliant
        assert {r["rule"] for r in evaluation.reasons} >= {"critical", "attendance"}
        p4 = db.session.get(EvaluationAnswer, (evaluation.id, "P4"))
        assert p4.value == "fail"

    # Back to the defaults: everything is as it was, and nothing is stored any more.
    assert post(client, f"/admin/settings/{world['province']}", DEFAULTS).status_code == 303
    with app.app_context():
        assert states(world) == ["ok", "ok", "ok", "ok"]
        assert db.session.get(UnitSettings, world["province"]).values == {}
        assert len(events("settings.update")) == 3


def test_the_overdue_window_applies_when_read(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    auth.login("province")
    post(client, f"/admin/settings/{world['province']}", {**DEFAULTS, "overdue_days": "5"})
    with app.app_context():
        province = db.session.get(Unit, world["province"])
        assert settings_for_path(province.path).overdue_days == 5
        assert count_states(province)["overdue"] == 1  # b22 met 10 days ago


BAD = [
    ({"score_threshold": "abc"}, "score_threshold"),
    ({"score_threshold": "150"}, "score_threshold"),
    ({"score_threshold": ""}, "score_threshold"),
    ({"serious_threshold": "85"}, "serious_threshold"),
    ({"attendance_floor": "3/4"}, "attendance_floor"),
    ({"attendance_ratio": "2/0"}, "attendance_ratio"),
    ({"attendance_ratio": "120%"}, "attendance_ratio"),
    ({"content_floor": "-0,1"}, "content_floor"),
    ({"overdue_days": "0"}, "overdue_days"),
    ({"overdue_days": "12.5"}, "overdue_days"),
    ({"correction_hours": "-1"}, "correction_hours"),
    ({"unack_days": "many"}, "unack_days"),
    ({"visit_target": "400"}, "visit_target"),
]


@pytest.mark.parametrize(("change", "field"), BAD, ids=[b[1] + str(i) for i, b in enumerate(BAD)])
def test_bad_settings_store_nothing(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict, change: dict, field: str
) -> None:
    auth.login("province")
    response = post(
        client,
        f"/admin/settings/{world['province']}",
        {**DEFAULTS, "score_threshold": "80", **change},
    )
    assert response.status_code == 422
    assert f'id="err-s-{field}"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(UnitSettings, world["province"]) is None
        assert states(world) == ["ok", "ok", "ok", "ok"]
        assert count(AuditEvent, AuditEvent.action == "settings.update") == 0


def test_nothing_changed_is_not_recorded(
    client: FlaskClient, auth: AuthActions, world: dict, app: Flask
) -> None:
    auth.login("province")
    page = client.get(f"/admin/settings/{world['province']}").get_data(as_text=True)
    assert 'value="2/3"' in page and 'value="70"' in page
    assert post(client, f"/admin/settings/{world['province']}", DEFAULTS).status_code == 303
    with app.app_context():
        assert count(AuditEvent, AuditEvent.action == "settings.update") == 0


def test_a_unit_below_overrides_only_its_subtree(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    auth.login("commune_lead")
    assert client.get(f"/admin/settings/{world['province']}").status_code == 403
    assert post(client, f"/admin/settings/{world['province']}", DEFAULTS).status_code == 403
    assert client.get(f"/admin/settings/{world['branches'][0]}").status_code == 404
    assert client.get("/admin/settings/999999").status_code == 404
    assert (
        client.get("/admin/settings").headers["Location"].endswith(f"/admin/settings/{world['c1']}")
    )
    response = post(client, f"/admin/settings/{world['c1']}", {**DEFAULTS, "score_threshold": "80"})
    assert response.status_code == 303
    with app.app_context():
        # Only the commune's branches are judged again; XA-B's b22 stays ok.
        assert states(world) == ["flagged", "ok", "ok", "ok"]
    auth.logout()
    auth.login("province")
    page = client.get(f"/admin/settings/{world['province']}").get_data(as_text=True)
    assert "Đoàn xã An Bình" in page  # listed as a unit with settings of its own


@pytest.mark.parametrize("username", ["cadre", "secretary", "commune"])
def test_settings_need_publish_rights(
    client: FlaskClient, auth: AuthActions, world: dict, username: str
) -> None:
    auth.login(username)
    assert client.get("/admin/settings").status_code == 403
    assert client.get(f"/admin/settings/{world['c1']}").status_code == 403
    assert post(client, f"/admin/settings/{world['c1']}", DEFAULTS).status_code == 403


def test_apply_settings_command(app: Flask, runner: Any, world: dict) -> None:
    with app.app_context():
        db.session.add(UnitSettings(unit_id=world["province"], values={"score_threshold": 80}))
        db.session.commit()
    result = runner.invoke(args=["apply-settings", "--unit", "TINH"])
    assert result.exit_code == 0, result.output
    assert "2 branch states recomputed" in result.output
    with app.app_context():
        assert states(world) == ["flagged", "ok", "ok", "repeat"]
        assert len(events("settings.apply")) == 1
    assert runner.invoke(args=["apply-settings", "--unit", "NOPE"]).exit_code != 0


def test_share_text() -> None:
    assert share_text(2 / 3) == "2/3"
    assert share_text(0.5) == "1/2"
    assert share_text(0.65) == "0,65"
    assert share_text(1.0) == "1"


def test_settings_messages_are_in_vietnamese(
    client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    auth.login("province")
    page = post(
        client,
        f"/admin/settings/{world['province']}",
        {**DEFAULTS, "attendance_floor": "3/4", "score_threshold": "nhiều"},
    ).get_data(as_text=True)
    assert "Nhập một số." in page
    assert "Mức sàn không được cao hơn tỷ lệ dự họp quy định." not in page  # fields first
    page = post(
        client, f"/admin/settings/{world['province']}", {**DEFAULTS, "attendance_floor": "3/4"}
    ).get_data(as_text=True)
    assert "Mức sàn không được cao hơn tỷ lệ dự họp quy định." in page
