"""Checklist versions: draft from the current one, edit, preview, publish, retire; late syncs."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from coso.checklists.rules import DEFAULT_ITEMS
from coso.extensions import db
from coso.models import AuditEvent, ChecklistItem, ChecklistTemplate, Evaluation, Unit
from tests.admin_support import count, events, post
from tests.builders import make_unit, make_user, payload, small_province, with_checklist
from tests.conftest import AuthActions


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    with app.app_context():
        data = with_checklist(small_province())
        return {
            "province": data["province"].id,
            "c1": data["communes"][0].id,
            "branches": [b.id for b in data["branches"]],
            "v1": data["template"].id,
            "guidance": data["guidance"].id,
        }


def form_for(rows: list[dict[str, Any]], name: str = "Phiếu v2") -> dict[str, Any]:
    """The editor's fields for ``rows``, as the page posts them."""
    data: dict[str, Any] = {"name": name}
    for i, row in enumerate(rows):
        for key, value in row.items():
            if key == "critical":
                if value:
                    data[f"items-{i}-critical"] = "1"
            else:
                data[f"items-{i}-{key}"] = "" if value is None else str(value)
    return data


def default_rows(**changes: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for position, item in enumerate(DEFAULT_ITEMS, start=1):
        row = {**item, "position": position}
        row.update(changes.get(item["code"], {}))
        rows.append(row)
    return rows


def start_draft(client: FlaskClient, unit_id: int) -> int:
    response = post(client, "/admin/templates/new", {"unit": str(unit_id)})
    assert response.status_code == 303
    return int(re.search(r"/admin/templates/(\d+)$", response.headers["Location"]).group(1))


def change_draft(client: FlaskClient, draft: int) -> None:
    """Save one change, so the draft is no longer the same as the version in force."""
    rows = default_rows(P1={"text_vi": "Sinh hoạt đúng ngày đã định"})
    assert post(client, f"/admin/templates/{draft}", form_for(rows)).status_code == 303


def sync(client: FlaskClient, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    token = client.get("/api/v1/session").get_json()["csrf_token"]
    response = client.post(
        "/api/v1/sync", json={"evaluations": items}, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 200
    return response.get_json()["results"]


def items_of(template_id: int) -> list[tuple[Any, ...]]:
    return [
        tuple(row)
        for row in db.session.execute(
            sa.select(
                ChecklistItem.code,
                ChecklistItem.weight,
                ChecklistItem.text_vi,
                ChecklistItem.critical,
                ChecklistItem.position,
            )
            .where(ChecklistItem.template_id == template_id)
            .order_by(ChecklistItem.position)
        )
    ]


def test_publish_v2_while_a_v1_evaluation_waits_to_sync(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    branch = world["branches"][0]
    # Filled on the phone on v1, still in the outbox when the province publishes v2.
    waiting = payload(branch, world["v1"], world["guidance"], values={"P12": "fail"})
    with app.app_context():
        v1_items = items_of(world["v1"])

    auth.login("province")
    v2 = start_draft(client, world["province"])
    rows = default_rows(P12={"weight": 12, "text_vi": "Bắt đầu đúng giờ"}, C1={"weight": 0})
    assert post(client, f"/admin/templates/{v2}", form_for(rows)).status_code == 303
    assert post(client, f"/admin/templates/{v2}/publish").status_code == 303
    auth.logout()

    auth.login("cadre")
    late, fresh = sync(
        client,
        [waiting, payload(branch, v2, world["guidance"], values={"P12": "fail"})],
    )
    assert late["status"] == "created" and fresh["status"] == "created"
    assert late["outcome"]["score"] == 98.0  # v1: P12 weighs 2
    assert fresh["outcome"]["score"] == 88.0  # v2: P12 weighs 12
    pack = client.get("/api/v1/field-pack").get_json()
    assert [t["id"] for t in pack["templates"]] == [v2]
    assert {b["template_id"] for b in pack["branches"]} == {v2}
    with app.app_context():
        stored = db.session.get(Evaluation, late["id"])
        assert stored.template_id == world["v1"]
        assert items_of(world["v1"]) == v1_items  # the published version never changed
        template = db.session.get(ChecklistTemplate, v2)
        assert template.status == "published" and template.published_at is not None
        assert template.version == 2 and template.based_on_id == world["v1"]
        (published,) = events("template.publish")
        assert published.details["after"] == {"status": "published", "version": 2}
        (update,) = events("template.update")
        assert update.details["before"]["P12"]["weight"] == 2
        assert update.details["after"]["P12"]["weight"] == 12
        assert update.details["after"]["C1"]["weight"] == 0
        assert "P1" not in update.details["after"]


def test_retired_version_still_takes_late_evaluations(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    auth.login("province")
    v2 = start_draft(client, world["province"])
    # Retiring the only version in force would leave the branches with nothing.
    refused = post(client, f"/admin/templates/{world['v1']}/retire")
    assert refused.status_code == 422
    change_draft(client, v2)
    assert post(client, f"/admin/templates/{v2}/publish").status_code == 303
    assert post(client, f"/admin/templates/{world['v1']}/retire").status_code == 303
    v3 = start_draft(client, world["province"])
    auth.logout()
    auth.login("cadre")
    branch = world["branches"][1]
    late, draft = sync(client, [payload(branch, world["v1"]), payload(branch, v3)])
    assert late["status"] == "created"
    assert draft["status"] == "rejected" and "template_id" in draft["errors"]
    with app.app_context():
        assert db.session.get(ChecklistTemplate, world["v1"]).status == "retired"
        assert [e.details["after"]["status"] for e in events("template.retire")] == ["retired"]


def test_a_published_version_never_changes(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    auth.login("province")
    with app.app_context():
        before = items_of(world["v1"])
    rows = default_rows(P1={"weight": 0}, P2={"weight": 8})
    assert post(client, f"/admin/templates/{world['v1']}", form_for(rows)).status_code == 409
    assert post(client, f"/admin/templates/{world['v1']}/publish").status_code == 422
    assert post(client, f"/admin/templates/{world['v1']}/discard").status_code == 422
    with app.app_context():
        assert items_of(world["v1"]) == before
        assert db.session.get(ChecklistTemplate, world["v1"]).status == "published"


BAD_EDITS = [
    ("weights", default_rows(P1={"weight": 5}), "items_total"),
    ("repeat", default_rows(P2={"code": "P1"}), "items_total"),
    ("two computed", default_rows(P3={"kind": "computed"}), "items_total"),
    ("not a number", default_rows(P1={"weight": "four"}), "weight"),
    ("negative", default_rows(P1={"weight": -4}, P2={"weight": 12}), "weight"),
    ("no text", default_rows(P1={"text_vi": ""}), "text_vi"),
    ("bad code", default_rows(P1={"code": "P 1"}), "code"),
    ("bad section", default_rows(P1={"section": "other"}), "section"),
    ("bad kind", default_rows(P1={"kind": "magic"}), "kind"),
    ("long text", default_rows(P1={"text_vi": "x" * 301}), "text_vi"),
]


@pytest.mark.parametrize(("label", "rows", "field"), BAD_EDITS, ids=[b[0] for b in BAD_EDITS])
def test_bad_drafts_store_nothing(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    world: dict,
    label: str,
    rows: list,
    field: str,
) -> None:
    auth.login("province")
    draft = start_draft(client, world["province"])
    with app.app_context():
        before = items_of(draft)
    response = post(client, f"/admin/templates/{draft}", form_for(rows))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert ('id="err-items-total"' if field == "items_total" else f'id="err-i0-{field}"') in page
    with app.app_context():
        assert items_of(draft) == before
        assert count(AuditEvent, AuditEvent.action == "template.update") == 0


def test_add_remove_and_reorder_items(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    auth.login("province")
    draft = start_draft(client, world["province"])
    rows = default_rows(C9={"weight": 0})
    rows[0]["position"] = 99  # P1 last
    form = form_for(rows)
    form["items-3-remove"] = "1"  # P4, the attendance item, goes …
    form["items-20-weight"] = "10"  # … and C9 takes its weight back
    extra = len(rows)
    form.update(
        {
            f"items-{extra}-code": "C10",
            f"items-{extra}-section": "content",
            f"items-{extra}-text_vi": "Có tài liệu in",
            f"items-{extra}-weight": "0",
            f"items-{extra}-kind": "choice",
            f"items-{extra + 1}-code": "",  # an empty row is ignored
        }
    )
    response = post(client, f"/admin/templates/{draft}", form)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    with app.app_context():
        codes = [row[0] for row in items_of(draft)]
        assert "P4" not in codes and codes[-2:] == ["P1", "C10"]  # no order: last
        assert [row[4] for row in items_of(draft)] == list(range(1, len(codes) + 1))
    assert post(client, f"/admin/templates/{draft}/publish").status_code == 303


def test_one_draft_at_a_time_and_discard(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    auth.login("province")
    draft = start_draft(client, world["province"])
    again = post(client, "/admin/templates/new", {"unit": str(world["province"])})
    assert again.headers["Location"].endswith(f"/admin/templates/{draft}")
    assert post(client, f"/admin/templates/{draft}/discard").status_code == 303
    with app.app_context():
        assert db.session.get(ChecklistTemplate, draft) is None
        assert len(events("template.create")) == 1 and len(events("template.delete")) == 1
    assert start_draft(client, world["province"]) != world["v1"]


def test_a_commune_can_issue_its_own_version(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    with app.app_context():
        make_user("commune_lead", "province", db.session.get(Unit, world["c1"]))
        db.session.commit()
    auth.login("commune_lead")
    listing = client.get("/admin/templates").get_data(as_text=True)
    assert "issued above" in listing or "cấp trên" in listing
    draft = start_draft(client, world["c1"])
    change_draft(client, draft)
    assert post(client, f"/admin/templates/{draft}/publish").status_code == 303
    pack = client.get("/api/v1/field-pack").get_json()
    assert {b["template_id"] for b in pack["branches"]} == {draft}
    with app.app_context():
        template = db.session.get(ChecklistTemplate, draft)
        assert template.unit_id == world["c1"] and template.version == 1
        assert template.based_on_id == world["v1"]


def test_preview_shows_the_phone_form_read_only(
    client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    auth.login("province")
    page = client.get(f"/admin/templates/{world['v1']}/preview").get_data(as_text=True)
    assert 'id="preview-P1"' in page and 'id="preview-C9"' in page
    assert "Tổ chức đúng thời gian" in page
    assert page.count('<fieldset class="card section" disabled>') == 2
    english = client.get(f"/admin/templates/{world['v1']}/preview?lang=en").get_data(as_text=True)
    assert "Held at the announced time and place" in english
    fragment = client.get(
        f"/admin/templates/{world['v1']}/preview", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert "<html" not in fragment and 'id="preview"' in fragment


def test_template_routes_respect_scope(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    with app.app_context():
        other = make_unit("TINH2", "province", None, name="Tỉnh khác")
        from coso.checklists.service import create_default_template

        foreign = create_default_template(other).id
        make_user("commune_lead", "province", db.session.get(Unit, world["c1"]))
        db.session.commit()
    for username, own, status in (("secretary", world["v1"], 403), ("cadre", world["v1"], 403)):
        auth.login(username)
        assert client.get("/admin/templates").status_code == status
        assert client.get(f"/admin/templates/{own}").status_code == status
        assert post(client, "/admin/templates/new", {}).status_code == status
        auth.logout()
    auth.login("commune_lead")  # publish rights, but only inside the commune
    for template_id in (world["v1"], foreign):
        assert client.get(f"/admin/templates/{template_id}").status_code == 403
        assert client.get(f"/admin/templates/{template_id}/preview").status_code == 403
        for action in ("publish", "retire", "discard"):
            assert post(client, f"/admin/templates/{template_id}/{action}").status_code == 403
        assert post(client, f"/admin/templates/{template_id}", {"name": "x"}).status_code == 403
    assert post(client, "/admin/templates/new", {"unit": str(world["province"])}).status_code == 403
    assert (
        post(client, "/admin/templates/new", {"unit": str(world["branches"][0])}).status_code == 303
    )
    assert client.get("/admin/templates/999999").status_code == 404
    with app.app_context():
        assert count(ChecklistTemplate, ChecklistTemplate.unit_id == world["branches"][0]) == 0


def test_template_messages_are_in_vietnamese(
    client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    auth.login("province")
    draft = start_draft(client, world["province"])
    page = post(
        client, f"/admin/templates/{draft}", form_for(default_rows(P1={"weight": 9}))
    ).get_data(as_text=True)
    assert "Tổng điểm các tiêu chí là 105; phải bằng 100." in page


def test_publishing_refuses_unsaved_or_invalid_edits(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    """A failed save then Publish once published the saved draft without the edits."""
    auth.login("province")
    draft = start_draft(client, world["province"])
    change_draft(client, draft)
    with app.app_context():
        saved = items_of(draft)
    # Invalid edits posted with Publish: the errors, nothing published.
    bad = default_rows(P1={"weight": 9})
    refused = post(client, f"/admin/templates/{draft}/publish", form_for(bad))
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "105" in page and 'id="publish"' in page
    assert re.search(r'<button[^>]*id="publish"[^>]*disabled', page)
    # Valid but unsaved edits: refused too, the edits still on screen.
    edited = default_rows(P1={"text_vi": "Sinh hoạt đúng ngày đã định"}, P2={"text_vi": "Mới"})
    unsaved = post(client, f"/admin/templates/{draft}/publish", form_for(edited))
    assert unsaved.status_code == 409
    assert "Mới" in unsaved.get_data(as_text=True)
    with app.app_context():
        template = db.session.get(ChecklistTemplate, draft)
        assert template.status == "draft" and items_of(draft) == saved
        assert events("template.publish") == []
    # The form as saved: published.
    same = default_rows(P1={"text_vi": "Sinh hoạt đúng ngày đã định"})
    assert post(client, f"/admin/templates/{draft}/publish", form_for(same)).status_code == 303
    with app.app_context():
        assert db.session.get(ChecklistTemplate, draft).status == "published"


def test_a_copy_of_the_version_in_force_cannot_be_published(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    auth.login("province")
    draft = start_draft(client, world["province"])
    with app.app_context():
        name = db.session.get(ChecklistTemplate, world["v1"]).name
    refused = post(client, f"/admin/templates/{draft}/publish", form_for(default_rows(), name))
    assert refused.status_code == 422
    assert "giống hệt phiên bản 1" in refused.get_data(as_text=True)
    # A commune's copy of what the province issued is the same checklist too.
    with app.app_context():
        make_user("commune_lead", "province", db.session.get(Unit, world["c1"]))
        db.session.commit()
    auth.logout()
    auth.login("commune_lead")
    copy = start_draft(client, world["c1"])
    page = post(client, f"/admin/templates/{copy}/publish").get_data(as_text=True)
    assert "giống hệt phiên bản 1" in page
    with app.app_context():
        assert events("template.publish") == []


def test_the_summary_and_the_fields_agree(
    client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    auth.login("province")
    draft = start_draft(client, world["province"])
    rows = default_rows(P2={"code": "P1"}, P3={"weight": 9})
    page = post(client, f"/admin/templates/{draft}", form_for(rows)).get_data(as_text=True)
    assert 'id="err-items-total"' in page
    codes = re.findall(r'<input id="i(\d+)-code"[^>]*aria-invalid="true"', page)
    assert codes == ["0", "1"]  # the two rows whose code repeats
    weights = re.findall(r'<input id="i(\d+)-weight"[^>]*aria-invalid="true"', page)
    assert len(weights) == len(rows)  # the total is wrong: every weight is named
    total = 100 - DEFAULT_ITEMS[2]["weight"] + 9
    assert (
        f'<output id="weight-total" for="template-editor" class="field-error">{total}</output>'
        in page
    )
