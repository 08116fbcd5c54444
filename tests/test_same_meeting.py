"""One meeting evaluated twice (issue 16, item 3): the cadre is warned, the server keeps both,
the province sees the pair marked, and the field pack carries what the phone needs to warn
offline (an additive key, ``recent_evaluations``)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from coso.evaluations import twins
from coso.extensions import db
from coso.models import Evaluation
from tests.builders import payload, small_province, with_checklist
from tests.conftest import AuthActions


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    with app.app_context():
        data = with_checklist(small_province())
        return {
            "branches": {b.code: b.id for b in data["branches"]},
            "template": data["template"].id,
            "guidance": data["guidance"].id,
        }


def send(client: FlaskClient, auth: AuthActions, user: str, item: dict[str, Any]) -> int:
    """``user`` sends ``item`` through the sync API; the stored evaluation's id."""
    auth.logout()
    auth.login(user)
    token = client.get("/api/v1/session").get_json()["csrf_token"]
    response = client.post(
        "/api/v1/sync", json={"evaluations": [item]}, headers={"X-CSRFToken": token}
    )
    result = response.get_json()["results"][0]
    assert result["status"] == "created", result
    return int(result["id"])


def warning_of(page: str) -> str:
    start = page.index('id="duplicate-warning"')
    return page[start : page.index("</div>", start)]


def test_the_second_cadre_is_warned_by_who_and_when_only(
    client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    branch = world["branches"]["CD-B1"]
    first = payload(branch, world["template"], notes="Ghi chú riêng của cán bộ B")
    send(client, auth, "cadre_b", first)
    auth.logout()
    auth.login("cadre")
    page = client.get(f"/evaluate/{branch}").get_data(as_text=True)
    box = warning_of(page)
    assert "Cadre_B" in box  # who
    assert "đã đánh giá buổi sinh hoạt này" in box
    assert "correct=" not in box and first["uuid"] not in box  # another's: no correction
    assert "Ghi chú riêng" not in box  # nor its content (the brief above shows the branch's
    # last evaluation as every reader in the area may see it: issue 18, item 4)
    # Another date: nothing to warn about (the box is there, empty, for the next change).
    other = client.get(
        f"/evaluate/{branch}/topics",
        query_string={"meeting_date": (date.today() - timedelta(days=3)).isoformat()},
        headers={"HX-Request": "true"},
    ).get_data(as_text=True)
    assert 'id="duplicate-warning"' in other and 'hx-swap-oob="true"' in other
    assert "Cadre_B" not in other
    # Picking the date again asks the server, which answers out of band beside the topics.
    same = client.get(
        f"/evaluate/{branch}/topics",
        query_string={"meeting_date": date.today().isoformat()},
        headers={"HX-Request": "true"},
    ).get_data(as_text=True)
    assert 'id="topics"' in same and "Cadre_B" in warning_of(same)


def test_own_evaluation_offers_the_correction_flow(
    client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    branch = world["branches"]["CD-A1"]
    first = payload(branch, world["template"])
    evaluation_id = send(client, auth, "cadre", first)
    page = client.get(f"/evaluate/{branch}").get_data(as_text=True)
    box = warning_of(page)
    assert "Bạn đã đánh giá buổi sinh hoạt này" in box
    link = re.search(r'href="([^"]*correct=[^"]*)"', box)
    assert link is not None and first["uuid"] in link.group(1)
    # The link opens the correction flow, which does not warn about the one it corrects.
    correcting = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert 'name="supersedes" value="' + first["uuid"] in correcting
    assert "Bạn đã đánh giá" not in warning_of(correcting)
    topics = client.get(
        f"/evaluate/{branch}/topics",
        query_string={"meeting_date": date.today().isoformat(), "supersedes": first["uuid"]},
        headers={"HX-Request": "true"},
    ).get_data(as_text=True)
    assert "Bạn đã đánh giá" not in warning_of(topics)
    # Past the correction window: said so, with a link to see it instead.
    with client.application.app_context():
        db.session.execute(
            sa.update(Evaluation)
            .where(Evaluation.id == evaluation_id)
            .values(received_at=datetime.now(UTC) - timedelta(hours=49))
        )
        db.session.commit()
    late = warning_of(client.get(f"/evaluate/{branch}").get_data(as_text=True))
    assert "correct=" not in late and "không thể sửa" in late
    assert f"/evaluations/{evaluation_id}" in late


def test_the_server_keeps_both_and_the_province_sees_the_pair(
    client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    branch = world["branches"]["CD-B1"]
    single = world["branches"]["CD-B2"]
    a = send(client, auth, "cadre_b", payload(branch, world["template"]))
    b = send(client, auth, "cadre", payload(branch, world["template"]))
    alone = send(client, auth, "cadre", payload(single, world["template"]))
    auth.logout()
    auth.login("province")
    home = client.get("/").get_data(as_text=True)
    rows = {
        int(m.group(1)): m.group(2)
        for m in re.finditer(r'/evaluations/(\d+)">(.*?)</li>', home, re.S)
    }
    assert 'class="twin"' in rows[a] and 'class="twin"' in rows[b]
    assert 'class="twin"' not in rows[alone]
    timeline = client.get(f"/units/{branch}").get_data(as_text=True)
    entries = re.findall(r'data-evaluation-id="(\d+)">(.*?)</h3>', timeline, re.S)
    assert {int(i) for i, h in entries if 'class="twin"' in h} == {a, b}
    other = client.get(f"/units/{single}").get_data(as_text=True)
    assert 'class="twin"' not in other


def test_a_correction_is_not_a_twin(
    client: FlaskClient, auth: AuthActions, world: dict, app: Flask
) -> None:
    branch = world["branches"]["CD-A1"]
    first = payload(branch, world["template"])
    send(client, auth, "cadre", first)
    fix = payload(branch, world["template"], supersedes=first["uuid"])
    send(client, auth, "cadre", fix)
    day = date.today()
    with app.app_context():
        assert twins.twin_keys([(branch, day)]) == set()
        assert twins.twin_dates(branch) == set()
        assert [e.uuid for e in twins.same_meeting(branch, day)] == [fix["uuid"]]
    send(client, auth, "cadre_b", payload(world["branches"]["CD-B1"], world["template"]))
    send(client, auth, "cadre", payload(world["branches"]["CD-B1"], world["template"]))
    with app.app_context():
        keys = [(branch, day), (world["branches"]["CD-B1"], day), (branch, day - timedelta(1))]
        assert twins.twin_keys(keys) == {(world["branches"]["CD-B1"], day)}
        assert twins.twin_dates(world["branches"]["CD-B1"]) == {day}


def test_field_pack_lists_recent_evaluations_additively(
    client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    branch = world["branches"]["CD-B1"]
    old_day = (date.today() - timedelta(days=200)).isoformat()
    mine = payload(branch, world["template"])
    theirs = payload(branch, world["template"])
    send(client, auth, "cadre_b", mine)
    send(client, auth, "cadre", theirs)
    send(client, auth, "cadre_b", payload(branch, world["template"], meeting_date=old_day))
    auth.logout()
    auth.login("cadre_b")
    pack = client.get("/api/v1/field-pack").get_json()
    entry = next(b for b in pack["branches"] if b["id"] == branch)
    # The keys an old phone reads are all still there, unchanged.
    assert {"id", "code", "name", "state", "template_id", "last_evaluation", "open_actions"} <= set(
        entry
    )
    recent = entry["recent_evaluations"]
    assert [r["meeting_date"] for r in recent] == [date.today().isoformat()] * 2  # not the old
    own = next(r for r in recent if r["mine"])
    other = next(r for r in recent if not r["mine"])
    assert own["uuid"] == mine["uuid"] and own["cadre"] == "Cadre_B"
    assert other["uuid"] is None and other["cadre"] == "Cadre"  # another's UUID is not handed out
    assert set(other) == {"meeting_date", "cadre", "received_at", "mine", "uuid"}  # no content
    quiet = next(b for b in pack["branches"] if b["id"] == world["branches"]["CD-B2"])
    assert quiet["recent_evaluations"] == []
