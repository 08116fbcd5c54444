"""The unit tree in the administration: browse, add, edit, move, deactivate, import, export."""

from __future__ import annotations

import io
from datetime import date
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from coso import clock, scope
from coso.extensions import db
from coso.models import AuditEvent, SecretaryTerm, Unit, User
from coso.units.rules import COLUMNS
from tests.admin_support import apply_token, count, csv_bytes, events, post, upload
from tests.builders import make_unit, make_user, payload, small_province, with_checklist
from tests.conftest import AuthActions

HEADER = list(COLUMNS)


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    with app.app_context():
        data = small_province()
        c1, c2 = data["communes"]
        b11, b12, b21, b22 = data["branches"]
        return {
            "province": data["province"].id,
            "c1": c1.id,
            "c2": c2.id,
            "b11": b11.id,
            "b12": b12.id,
            "b21": b21.id,
            "b22": b22.id,
        }


@pytest.fixture
def admin(client: FlaskClient, auth: AuthActions, world: dict[str, Any]) -> FlaskClient:
    auth.login("admin")
    return client


def unit(code: str) -> Unit:
    found = db.session.scalar(sa.select(Unit).where(Unit.code == code))
    assert found is not None
    return found


def snapshot_units() -> list[tuple[Any, ...]]:
    return [
        tuple(row)
        for row in db.session.execute(
            sa.select(
                Unit.code,
                Unit.name,
                Unit.kind,
                Unit.parent_id,
                Unit.path,
                Unit.active,
                Unit.secretary_name,
                Unit.member_count,
            ).order_by(Unit.code)
        )
    ]


# --- Browsing and scope


def test_tree_starts_at_home_unit_and_lists_children(admin: FlaskClient, world: dict) -> None:
    response = admin.get("/admin/units")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/units/{world['province']}")
    page = admin.get(f"/admin/units/{world['province']}").get_data(as_text=True)
    assert "Đoàn xã An Bình" in page and "Đoàn xã Bình Minh" in page
    fragment = admin.get(f"/admin/units/{world['c1']}", headers={"HX-Request": "true"})
    text = fragment.get_data(as_text=True)
    assert "<html" not in text and "Chi đoàn ấp 1" in text


@pytest.mark.parametrize(
    ("username", "status"),
    [("admin", 200), ("province", 403), ("cadre", 403), ("commune", 403), ("secretary", 403)],
)
def test_only_administrators_manage_the_tree(
    client: FlaskClient, auth: AuthActions, world: dict, username: str, status: int
) -> None:
    auth.login(username)
    assert client.get(f"/admin/units/{world['b11']}").status_code == status
    assert client.get("/admin/units/search?q=ap").status_code == status
    assert client.get("/admin/units/import").status_code == status
    assert client.get("/admin/units/export").status_code == status
    edited = post(client, f"/admin/units/{world['b11']}/edit", {"name": "X"})
    assert edited.status_code == (403 if status == 403 else 422)


def test_an_administrator_of_a_commune_stays_in_it(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    with app.app_context():
        make_user("xa_admin", "admin", db.session.get(Unit, world["c1"]))
        db.session.commit()
    auth.login("xa_admin")
    assert client.get(f"/admin/units/{world['b11']}").status_code == 200
    assert client.get(f"/admin/units/{world['c2']}").status_code == 403
    assert client.get(f"/admin/units/{world['province']}").status_code == 403
    assert client.get("/admin/units/999999").status_code == 404
    assert client.get(f"/admin/units/export?unit={world['b21']}").status_code == 403
    for action in ("edit", "add", "move", "active"):
        assert post(client, f"/admin/units/{world['b21']}/{action}", {}).status_code == 403
        assert post(client, f"/admin/units/999999/{action}", {}).status_code == 404
    # The commune cannot be moved under a unit outside its administrator's area.
    response = post(client, f"/admin/units/{world['b11']}/move", {"parent_code": "XA-B"})
    assert response.status_code == 422
    assert "XA-B" in response.get_data(as_text=True)
    found = client.get("/admin/units/search?q=chi").get_data(as_text=True)
    assert "ấp 1" in found and "khu phố" not in found


# --- Add, edit, deactivate


def test_add_a_branch_with_its_secretary(app: Flask, admin: FlaskClient, world: dict) -> None:
    response = post(
        admin,
        f"/admin/units/{world['c1']}/add",
        {
            "code": "CD-A3",
            "name": "Chi đoàn   ấp 3",
            "kind": "branch",
            "secretary_name": "Nguyễn Văn An",
            "secretary_since": "2025-03-01",
            "secretary_party_member": "yes",
            "member_count": "22",
        },
    )
    assert response.status_code == 303
    with app.app_context():
        new = unit("CD-A3")
        assert new.name == "Chi đoàn ấp 3"
        assert new.path == f"/{world['province']}/{world['c1']}/{new.id}/"
        assert new.secretary_party_member is True and new.member_count == 22
        term = db.session.scalar(sa.select(SecretaryTerm).where(SecretaryTerm.branch_id == new.id))
        assert term is not None and term.party_member and term.started_on == date(2025, 3, 1)
        (event,) = events("unit.create")
        assert event.details["after"]["code"] == "CD-A3"
        assert event.user.username == "admin" and event.unit_id == new.id


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"code": "", "name": "X", "kind": "branch"}, "code"),
        ({"code": "has space", "name": "X", "kind": "branch"}, "code"),
        ({"code": "CD-A1", "name": "X", "kind": "branch"}, "code"),  # taken
        ({"code": "NEW", "name": "", "kind": "branch"}, "name"),
        ({"code": "NEW", "name": "X" * 201, "kind": "branch"}, "name"),
        ({"code": "NEW", "name": "X", "kind": "castle"}, "kind"),
        ({"code": "NEW", "name": "X", "kind": "branch", "member_count": "-1"}, "member_count"),
        ({"code": "NEW", "name": "X", "kind": "branch", "member_count": "abc"}, "member_count"),
        (
            {"code": "NEW", "name": "X", "kind": "branch", "secretary_since": "2999-01-01"},
            "secretary_since",
        ),
        (
            {"code": "NEW", "name": "X", "kind": "branch", "secretary_since": "31/02/2020"},
            "secretary_since",
        ),
    ],
)
def test_bad_unit_forms_store_nothing(
    app: Flask, admin: FlaskClient, world: dict, form: dict, field: str
) -> None:
    with app.app_context():
        before = snapshot_units()
    response = post(admin, f"/admin/units/{world['c1']}/add", form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="err-add-{field}"' in page
    with app.app_context():
        assert snapshot_units() == before
        assert count(AuditEvent, AuditEvent.action.like("unit.%")) == 0


def test_no_units_under_a_branch(app: Flask, admin: FlaskClient, world: dict) -> None:
    response = post(
        admin, f"/admin/units/{world['b11']}/add", {"code": "X1", "name": "X", "kind": "branch"}
    )
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(sa.select(Unit).where(Unit.code == "X1")) is None


def test_rename_records_before_and_after(app: Flask, admin: FlaskClient, world: dict) -> None:
    response = post(
        admin,
        f"/admin/units/{world['b11']}/edit",
        {"code": "CD-A1", "name": "Chi đoàn ấp Một", "kind": "branch", "member_count": "20"},
    )
    assert response.status_code == 303
    with app.app_context():
        assert unit("CD-A1").name == "Chi đoàn ấp Một"
        (event,) = events("unit.update")
        assert event.details["before"] == {"name": "Chi đoàn ấp 1"}
        assert event.details["after"] == {"name": "Chi đoàn ấp Một"}


def test_new_secretary_closes_the_old_term(app: Flask, admin: FlaskClient, world: dict) -> None:
    base = {"code": "CD-A1", "name": "Chi đoàn ấp 1", "kind": "branch"}
    post(admin, f"/admin/units/{world['b11']}/edit", {**base, "secretary_name": "Lê Thị Hoa"})
    post(
        admin,
        f"/admin/units/{world['b11']}/edit",
        {**base, "secretary_name": "Trần Văn Bình", "secretary_since": "2026-01-05"},
    )
    with app.app_context():
        terms = db.session.scalars(
            sa.select(SecretaryTerm)
            .where(SecretaryTerm.branch_id == world["b11"])
            .order_by(SecretaryTerm.id)
        ).all()
        assert [(t.name, t.ended_on) for t in terms] == [
            ("Lê Thị Hoa", date(2026, 1, 5)),
            ("Trần Văn Bình", None),
        ]


def test_an_evaluated_branch_keeps_its_kind(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    with app.app_context():
        data = with_checklist({"province": db.session.get(Unit, world["province"])})
        template_id = data["template"].id
    auth.login("cadre")
    body = {"evaluations": [payload(world["b11"], template_id)]}
    token = client.get("/api/v1/session").get_json()["csrf_token"]
    assert client.post("/api/v1/sync", json=body, headers={"X-CSRFToken": token}).status_code == 200
    auth.logout()
    auth.login("admin")
    response = post(
        client,
        f"/admin/units/{world['b11']}/edit",
        {"code": "CD-A1", "name": "X", "kind": "school"},
    )
    assert response.status_code == 422
    assert 'id="err-edit-kind"' in response.get_data(as_text=True)
    # A commune with branches cannot become a branch either.
    response = post(
        client, f"/admin/units/{world['c2']}/edit", {"code": "XA-B", "name": "X", "kind": "branch"}
    )
    assert response.status_code == 422
    with app.app_context():
        assert unit("CD-A1").kind == "branch" and unit("XA-B").kind == "commune"
        assert unit("CD-A1").name == "Chi đoàn ấp 1"


def test_deactivate_needs_an_empty_unit_and_keeps_history(
    app: Flask, admin: FlaskClient, world: dict
) -> None:
    # The commune still has active branches and a user: refused, with the reason.
    response = post(admin, f"/admin/units/{world['c2']}/active", {"active": "0"})
    assert response.status_code == 422
    assert "2" in response.get_data(as_text=True)
    for branch in ("b21", "b22"):
        assert (
            post(admin, f"/admin/units/{world[branch]}/active", {"active": "0"}).status_code == 303
        )
    with app.app_context():
        cadre_b = db.session.scalar(sa.select(User).where(User.username == "cadre_b"))
        cadre_b.active = False
        db.session.commit()
    assert post(admin, f"/admin/units/{world['c2']}/active", {"active": "0"}).status_code == 303
    with app.app_context():
        assert unit("XA-B").active is False and unit("CD-B1").active is False
        assert count(Unit) == 7  # nothing deleted
        assert len(events("unit.deactivate")) == 3
        assert events("unit.deactivate")[-1].details == {
            "before": {"active": True},
            "after": {"active": False},
        }
    # Not the administrator's own unit; and no branch back under an inactive parent.
    assert (
        post(admin, f"/admin/units/{world['province']}/active", {"active": "0"}).status_code == 422
    )
    assert post(admin, f"/admin/units/{world['b21']}/active", {"active": "1"}).status_code == 422
    assert post(admin, f"/admin/units/{world['c2']}/active", {"active": "1"}).status_code == 303
    assert post(admin, f"/admin/units/{world['b21']}/active", {"active": "1"}).status_code == 303


# --- Moving a unit: its subtree and its users' scope follow


def test_move_takes_the_subtree_and_its_users_along(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    with app.app_context():
        province = db.session.get(Unit, world["province"])
        bloc = make_unit("KHOI", "bloc", province, name="Đoàn khối Cơ quan")
        make_user("bloc_user", "secretary", bloc)
        db.session.commit()
        bloc_id = bloc.id
    auth.login("admin")
    response = post(client, f"/admin/units/{world['c1']}/move", {"parent_code": "KHOI"})
    assert response.status_code == 303
    with app.app_context():
        c1, b11 = unit("XA-A"), unit("CD-A1")
        assert c1.parent_id == bloc_id and c1.depth == 2
        assert c1.path == f"/{world['province']}/{bloc_id}/{world['c1']}/"
        assert b11.path == f"{c1.path}{world['b11']}/" and b11.depth == 3
        # Users at and above the moved unit see it in its new place.
        commune_user = db.session.scalar(sa.select(User).where(User.username == "commune"))
        bloc_user = db.session.scalar(sa.select(User).where(User.username == "bloc_user"))
        secretary = db.session.scalar(sa.select(User).where(User.username == "secretary"))
        assert scope.in_scope(commune_user, b11) and scope.in_scope(bloc_user, b11)
        assert scope.in_scope(secretary, b11)
        assert not scope.in_scope(bloc_user, unit("CD-B1"))
        (event,) = events("unit.move")
        assert event.details["before"]["parent_code"] == "TINH"
        assert event.details["after"]["parent_code"] == "KHOI"
    auth.logout()
    auth.login("bloc_user")
    assert client.get(f"/units/{world['b11']}").status_code == 200
    auth.logout()
    auth.login("commune")
    assert client.get(f"/units/{world['b12']}").status_code == 200


@pytest.mark.parametrize(
    ("moved", "parent_code"),
    [("c1", "CD-A1"), ("c1", "XA-A"), ("c1", "TINH"), ("b11", "CD-B1"), ("c1", "NOPE"), ("c1", "")],
)
def test_impossible_moves_are_refused(
    app: Flask, admin: FlaskClient, world: dict, moved: str, parent_code: str
) -> None:
    with app.app_context():
        before = snapshot_units()
    response = post(admin, f"/admin/units/{world[moved]}/move", {"parent_code": parent_code})
    assert response.status_code == 422
    assert 'id="err-move-parent_code"' in response.get_data(as_text=True)
    with app.app_context():
        assert snapshot_units() == before


# --- Import: a dry run first, then all or nothing


def test_import_dry_run_then_apply(app: Flask, admin: FlaskClient, world: dict) -> None:
    content = csv_bytes(
        [
            HEADER,
            ["XA-C", "Đoàn xã Cát Tiên", "commune", "TINH", "", "", "", ""],
            [
                "CD-C1",
                "Chi đoàn ấp Một",
                "chi đoàn",
                "XA-C",
                "Phạm Thị Lan",
                "01/02/2025",
                "có",
                "31",
            ],
            ["CD-A1", "Chi đoàn ấp 1 (mới)", "branch", "XA-A", "", "", "", "20"],
            ["CD-A2", "Chi đoàn ấp 2", "branch", "XA-A", "", "", "", "25"],
        ]
    )
    with app.app_context():
        before = snapshot_units()
    dry = upload(admin, "/admin/units/import", "units.csv", content)
    assert dry.status_code == 200
    page = dry.get_data(as_text=True)
    assert "CD-C1" in page and 'class="fate-create"' in page and 'class="fate-unchanged"' in page
    with app.app_context():
        assert snapshot_units() == before  # a dry run changes nothing
    applied = post(
        admin, "/admin/units/import/apply", {"token": apply_token(page), "filename": "units.csv"}
    )
    assert applied.status_code == 303
    with app.app_context():
        cat_tien, branch = unit("XA-C"), unit("CD-C1")
        assert branch.parent_id == cat_tien.id and branch.path.startswith(cat_tien.path)
        assert branch.kind == "branch" and branch.secretary_since == date(2025, 2, 1)
        assert branch.secretary_party_member is True and branch.member_count == 31
        assert unit("CD-A1").name == "Chi đoàn ấp 1 (mới)"
        (summary,) = events("units.import")
        assert summary.details["created"] == 2 and summary.details["updated"] == 1
        assert summary.unit_id == world["province"]
        assert len(events("unit.create")) == 2
        (update,) = events("unit.update")
        assert update.details["before"] == {"name": "Chi đoàn ấp 1"}


def test_a_file_with_bad_rows_changes_nothing(app: Flask, admin: FlaskClient, world: dict) -> None:
    content = csv_bytes(
        [
            HEADER,
            ["XA-C", "Đoàn xã Cát Tiên", "commune", "TINH", "", "", "", ""],
            ["", "No code", "branch", "XA-C", "", "", "", ""],
            ["CD-C2", "Bad kind", "castle", "XA-C", "", "", "", ""],
            ["CD-C3", "Unknown parent", "branch", "XA-Z", "", "", "", ""],
            ["CD-C4", "Bad count", "branch", "XA-C", "", "", "", "many"],
            ["CD-C5", "Bad date", "branch", "XA-C", "", "2025-13-01", "", ""],
            ["XA-C", "Repeated", "commune", "TINH", "", "", "", ""],
            ["CD-C6", "Under a branch", "branch", "CD-A1", "", "", "", ""],
            ["XA-A", "Loop", "commune", "CD-A2", "", "", "", ""],
            ["TINH", "Renamed top", "province", "", "", "", "", ""],
            ["CD-C7", "Fine", "branch", "XA-C", "", "", "", ""],
        ]
    )
    with app.app_context():
        before = snapshot_units()
    response = upload(admin, "/admin/units/import", "units.csv", content)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    errors = page[
        page.index('id="row-errors"') : page.index("</ul>", page.index('id="row-errors"'))
    ]
    for row in (3, 4, 5, 6, 7, 8, 9, 10, 11):
        assert f"{row} (" in errors, row
    assert "Row 2 " not in errors and "Row 12 " not in errors
    assert 'name="token"' not in page  # nothing to apply
    # A forged or stale apply changes nothing either.
    forged = post(admin, "/admin/units/import/apply", {"token": "forged", "filename": "x.csv"})
    assert forged.status_code == 422
    with app.app_context():
        assert snapshot_units() == before
        assert count(AuditEvent) == 1  # only the sign-in


def test_apply_rechecks_what_changed_since_the_dry_run(
    app: Flask, admin: FlaskClient, world: dict
) -> None:
    content = csv_bytes([HEADER, ["CD-A9", "Chi đoàn ấp 9", "branch", "XA-A", "", "", "", ""]])
    page = upload(admin, "/admin/units/import", "u.csv", content).get_data(as_text=True)
    with app.app_context():
        db.session.get(Unit, world["c1"]).kind = "branch"  # now XA-A cannot have children
        db.session.commit()
    response = post(
        admin, "/admin/units/import/apply", {"token": apply_token(page), "filename": "u.csv"}
    )
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(sa.select(Unit).where(Unit.code == "CD-A9")) is None


def test_import_xlsx_reads_formula_values(app: Flask, admin: FlaskClient, world: dict) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(
        ["CD-A3", "Chi đoàn ấp 3", "branch", "XA-A", "Võ Văn Tám", date(2024, 5, 1), "không", 12]
    )
    out = io.BytesIO()
    book.save(out)
    page = upload(admin, "/admin/units/import", "units.xlsx", out.getvalue()).get_data(as_text=True)
    assert 'class="fate-create"' in page
    post(admin, "/admin/units/import/apply", {"token": apply_token(page), "filename": "units.xlsx"})
    with app.app_context():
        new = unit("CD-A3")
        assert new.secretary_since == date(2024, 5, 1) and new.secretary_party_member is False
        assert new.member_count == 12


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("units.txt", b"code,name\n"),
        ("units.csv", b""),
        ("units.csv", b"code,name\nA,B\n"),
        ("units.csv", "code,name,kind,parent_code\n".encode("utf-16")),
        ("units.xlsx", b"not a spreadsheet"),
    ],
)
def test_unreadable_files_get_a_clear_message(
    admin: FlaskClient, world: dict, name: str, content: bytes
) -> None:
    response = upload(admin, "/admin/units/import", name, content)
    assert response.status_code == 422
    assert 'id="err-file"' in response.get_data(as_text=True)


def test_export_round_trips_through_import(app: Flask, admin: FlaskClient, world: dict) -> None:
    post(
        admin,
        f"/admin/units/{world['b11']}/edit",
        {
            "code": "CD-A1",
            "name": "=Chi đoàn",
            "kind": "branch",
            "secretary_name": "An",
            "secretary_since": "2025-01-01",
            "secretary_party_member": "yes",
            "member_count": "20",
        },
    )
    csv_response = admin.get("/admin/units/export?format=csv")
    assert csv_response.status_code == 200
    body = csv_response.get_data()
    assert body.startswith("\ufeff".encode())  # Excel reads UTF-8 with the mark
    text = body.decode("utf-8-sig")
    assert text.splitlines()[0] == ",".join(HEADER)
    assert "'=Chi đoàn" in text  # never a formula in Excel
    assert text.index("TINH") < text.index("XA-A") < text.index("CD-A1")
    xlsx = admin.get("/admin/units/export?format=xlsx")
    assert xlsx.status_code == 200 and xlsx.mimetype.endswith("spreadsheetml.sheet")
    for name, content in (("again.csv", body), ("again.xlsx", xlsx.get_data())):
        page = upload(admin, "/admin/units/import", name, content).get_data(as_text=True)
        assert "fate-create" not in page and "fate-update" not in page and "fate-error" not in page
        assert page.count('class="fate-unchanged"') == 7
    with app.app_context():
        assert unit("CD-A1").name == "=Chi đoàn"
    assert admin.get("/admin/units/export?format=pdf").status_code == 404


def test_export_of_a_subtree(admin: FlaskClient, world: dict) -> None:
    text = admin.get(f"/admin/units/export?unit={world['c2']}").get_data().decode("utf-8-sig")
    assert "CD-B1" in text and "CD-A1" not in text


def test_command_line_import_uses_the_same_checks(
    app: Flask, runner: Any, world: dict, tmp_path: Any
) -> None:
    path = tmp_path / "units.csv"
    path.write_bytes(
        csv_bytes([HEADER, ["CD-A5", "Chi đoàn ấp 5", "branch", "XA-A", "", "", "", ""]])
    )
    result = runner.invoke(args=["import-units", str(path)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert unit("CD-A5").parent_id == world["c1"]
        assert len(events("unit.create")) == 1


def test_messages_are_in_vietnamese(admin: FlaskClient, world: dict) -> None:
    page = post(
        admin, f"/admin/units/{world['c1']}/add", {"code": "có dấu cách", "name": "", "kind": "x"}
    ).get_data(as_text=True)
    assert "Mã gồm 1 đến 40 ký tự: chữ cái A-Z không dấu, chữ số" in page
    assert "Chọn loại đơn vị." in page
    assert "Vui lòng sửa các ô được đánh dấu bên dưới. Chưa có gì được lưu." in page
    content = csv_bytes([HEADER, ["CD-X", "X", "branch", "NOPE", "", "", "", ""]])
    report = upload(admin, "/admin/units/import", "u.csv", content).get_data(as_text=True)
    assert "Dòng 2" in report and "đơn vị cấp trên NOPE không thuộc phạm vi" in report


def test_a_move_under_other_settings_rejudges_the_branch(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    from coso.models import BranchStatus, UnitSettings

    with app.app_context():
        data = with_checklist({"province": db.session.get(Unit, world["province"])})
        template_id = data["template"].id
        db.session.add(UnitSettings(unit_id=world["c2"], values={"score_threshold": 80}))
        db.session.commit()
    auth.login("cadre")
    fails = {"P6": "fail", "P7": "fail", "P12": "fail", "C5": "fail", "C6": "fail", "C7": "fail"}
    body = {"evaluations": [payload(world["b11"], template_id, values=fails)]}  # scores 74
    token = client.get("/api/v1/session").get_json()["csrf_token"]
    client.post("/api/v1/sync", json=body, headers={"X-CSRFToken": token})
    auth.logout()
    with app.app_context():
        assert db.session.get(BranchStatus, world["b11"]).state == "ok"
    auth.login("admin")
    assert (
        post(client, f"/admin/units/{world['b11']}/move", {"parent_code": "XA-B"}).status_code
        == 303
    )
    with app.app_context():
        assert db.session.get(BranchStatus, world["b11"]).state == "flagged"
        (event,) = events("unit.move")
        assert event.details["rejudged"]["branches"] == 1


# --- The code rule (issue 17, item 10)


@pytest.mark.parametrize(
    ("code", "ok"),
    [
        ("CD-A9", True),
        ("xa_1.2", True),
        ("9" * 40, True),
        ("9" * 41, False),
        ("ĐN-Ω1", False),
        ('CD"1', False),
        ("-CD", False),
        (".hidden", False),
        ("CD 1", False),
        ("CD1\n", False),
        ("", False),
    ],
)
def test_the_code_rule(code: str, ok: bool) -> None:
    from coso.units.rules import code_ok

    assert code_ok(code) is ok
    assert code_ok(code, current=code)  # a unit keeps the code it has


@pytest.mark.parametrize("code", ["ĐN-Ω1", 'CD"1', "-CD", "CD;1"])
def test_a_new_code_outside_the_rule_is_refused(
    app: Flask, admin: FlaskClient, world: dict, code: str
) -> None:
    response = post(
        admin,
        f"/admin/units/{world['c1']}/add",
        {"code": code, "name": "Chi đoàn", "kind": "branch"},
    )
    assert response.status_code == 422
    assert "chữ cái A-Z không dấu" in response.get_data(as_text=True)
    with app.app_context():
        assert count(Unit, Unit.code == code) == 0


def _old_style(app: Flask, unit_id: int, code: str) -> None:
    """A code stored before the rule (the tree may hold such codes)."""
    with app.app_context():
        db.session.get(Unit, unit_id).code = code
        db.session.commit()


@pytest.mark.parametrize("code", ["ĐN-Ω1", 'CD"1; filename=evil.csv'])
def test_an_old_style_code_is_kept_on_edit_and_exports(
    app: Flask, admin: FlaskClient, world: dict, code: str
) -> None:
    _old_style(app, world["c1"], code)
    response = post(
        admin,
        f"/admin/units/{world['c1']}/edit",
        {"code": code, "name": "Xã mới tên", "kind": "commune"},
    )
    assert response.status_code == 303
    changed = post(
        admin,
        f"/admin/units/{world['c1']}/edit",
        {"code": code + "2", "name": "Xã mới tên", "kind": "commune"},
    )
    assert changed.status_code == 422  # a changed code follows the rule
    for fmt in ("csv", "xlsx"):
        export = admin.get(f"/admin/units/export?unit={world['c1']}&format={fmt}")
        assert export.status_code == 200
        header = export.headers["Content-Disposition"]
        header.encode("latin-1")  # gunicorn sends headers as Latin-1: never a 500
        assert header.isascii() and header.count('"') == 2
        with app.app_context():
            name = f"coso-units-{code}-{clock.today().isoformat()}.{fmt}"
        assert header.endswith(f"filename*=UTF-8''{quote(name, safe='')}")
    # The export, imported again, leaves the old code alone.
    body = admin.get("/admin/units/export?format=csv").get_data()
    page = upload(admin, "/admin/units/import", "again.csv", body).get_data(as_text=True)
    assert "fate-error" not in page and "fate-update" not in page


def test_an_import_refuses_a_new_code_outside_the_rule(admin: FlaskClient, world: dict) -> None:
    content = csv_bytes([HEADER[:4], ["ĐN-Ω1", "Chi đoàn", "branch", "XA-A"]])
    response = upload(admin, "/admin/units/import", "units.csv", content)
    assert response.status_code == 422
    assert "fate-error" in response.get_data(as_text=True)
