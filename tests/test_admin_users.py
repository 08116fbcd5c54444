"""Users in the administration: create, edit, deactivate, reset passwords, import; in scope."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from coso.extensions import db
from coso.models import AuditEvent, Unit, User
from coso.users.imports import COLUMNS
from coso.users.rules import generate_password, parse_roles
from tests.admin_support import apply_token, count, csv_bytes, events, post, upload
from tests.builders import PASSWORD, make_user, small_province
from tests.conftest import AuthActions

HEADER = list(COLUMNS)


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    with app.app_context():
        data = small_province()
        users = {name: user.id for name, user in data["users"].items()}
        c1, c2 = data["communes"]
        return {"users": users, "c1": c1.id, "c2": c2.id, "b11": data["branches"][0].id}


def user(username: str) -> User:
    found = db.session.scalar(sa.select(User).where(User.username == username))
    assert found is not None
    return found


def snapshot_users() -> list[tuple[Any, ...]]:
    return [
        tuple(row)
        for row in db.session.execute(
            sa.select(
                User.username,
                User.display_name,
                User.roles,
                User.unit_id,
                User.active,
                User.password_hash,
            ).order_by(User.username)
        )
    ]


NEW = {
    "username": "Can.Bo1",
    "display_name": "Nguyễn Thị Mai",
    "roles": ["cadre", "secretary"],
    "unit_code": "XA-A",
    "password": "mat-khau-moi-1",
    "password2": "mat-khau-moi-1",
}


def test_create_then_sign_in(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    auth.login("admin")
    response = post(client, "/admin/users/new", NEW)
    assert response.status_code == 303
    with app.app_context():
        new = user("can.bo1")
        assert new.role_list == ["cadre", "secretary"] and new.unit_id == world["c1"]
        (event,) = events("user.create")
        assert event.details["after"]["roles"] == ["cadre", "secretary"]
        assert "password" not in str(event.details)
    auth.logout()
    assert auth.login("can.bo1", "mat-khau-moi-1").status_code == 302


def test_a_made_up_password_is_shown_once(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    auth.login("admin")
    response = post(client, "/admin/users/new", {**NEW, "password": "", "password2": ""})
    assert response.status_code == 200
    password = re.search(r'id="new-password">([^<]+)<', response.get_data(as_text=True)).group(1)
    auth.logout()
    assert auth.login("can.bo1", password).status_code == 302


def test_the_new_user_form_ticks_no_role(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    """A role ticked by default once gave a new branch secretary cadre rights unseen."""
    auth.login("admin")
    page = client.get("/admin/users/new").get_data(as_text=True)
    boxes = re.findall(r'<input type="checkbox" name="roles"[^>]*>', page)
    assert boxes and not [box for box in boxes if "checked" in box]
    response = post(client, "/admin/users/new", {k: v for k, v in NEW.items() if k != "roles"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Chọn ít nhất một vai trò." in page
    boxes = re.findall(r'<input type="checkbox" name="roles"[^>]*>', page)
    assert boxes and all('aria-invalid="true"' in box for box in boxes)
    with app.app_context():
        assert count(AuditEvent, AuditEvent.action.like("user.%")) == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"username": "ab"}, "username"),
        ({"username": "có dấu"}, "username"),
        ({"username": "cadre"}, "username"),  # taken
        ({"display_name": ""}, "display_name"),
        ({"roles": []}, "roles"),
        ({"roles": ["king"]}, "roles"),
        ({"unit_code": ""}, "unit_code"),
        ({"unit_code": "NOPE"}, "unit_code"),
        ({"password": "short", "password2": "short"}, "password"),
        ({"password": "12345678901", "password2": "12345678901"}, "password"),
        ({"password2": "something-else"}, "password2"),
    ],
)
def test_bad_user_forms_store_nothing(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict, change: dict, field: str
) -> None:
    auth.login("admin")
    with app.app_context():
        before = snapshot_users()
    response = post(client, "/admin/users/new", {**NEW, **change})
    assert response.status_code == 422
    assert f'id="err-user-{field}"' in response.get_data(as_text=True)
    with app.app_context():
        assert snapshot_users() == before
        assert count(AuditEvent, AuditEvent.action.like("user.%")) == 0


def test_province_manages_users_only_in_its_subtree_and_never_admins(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    with app.app_context():
        other_province = Unit(code="TINH2", name="Tỉnh khác", kind="province")
        from coso.models.units import place

        place(other_province, None)
        outsider = make_user("outsider", "cadre", other_province)
        db.session.commit()
        outsider_id = outsider.id
    auth.login("province")
    assert client.get("/admin/users").status_code == 200
    listed = client.get("/admin/users").get_data(as_text=True)
    assert "outsider" not in listed and "cadre_b" in listed
    assert client.get(f"/admin/users/{world['users']['cadre']}").status_code == 200
    assert client.get(f"/admin/users/{outsider_id}").status_code == 403
    assert client.get(f"/admin/users/{world['users']['admin']}").status_code == 403
    assert client.get("/admin/users/999999").status_code == 404
    for target in (outsider_id, world["users"]["admin"]):
        for url in ("", "/password", "/active"):
            assert post(client, f"/admin/users/{target}{url}", {}).status_code == 403
    # No admin role from a province user, and no home unit outside the province.
    response = post(client, "/admin/users/new", {**NEW, "roles": ["admin"]})
    assert response.status_code == 422
    response = post(client, "/admin/users/new", {**NEW, "unit_code": "TINH2"})
    assert response.status_code == 422
    assert "TINH2" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(User).where(User.username == "can.bo1")) is None


@pytest.mark.parametrize("username", ["cadre", "secretary", "commune"])
def test_roles_without_manage_users_are_refused(
    client: FlaskClient, auth: AuthActions, world: dict, username: str
) -> None:
    auth.login(username)
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/users/new").status_code == 403
    assert client.get("/admin/users/import").status_code == 403
    assert client.get(f"/admin/users/{world['users']['cadre']}").status_code == 403
    assert post(client, "/admin/users/new", NEW).status_code == 403
    assert post(client, "/admin/users/import/apply", {"token": "x"}).status_code == 403


def test_edit_roles_and_home_unit(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    auth.login("admin")
    url = f"/admin/users/{world['users']['cadre_b']}"
    response = post(
        client,
        url,
        {"display_name": "Cadre B", "roles": ["cadre", "secretary"], "unit_code": "XA-A"},
    )
    assert response.status_code == 303
    with app.app_context():
        edited = user("cadre_b")
        assert edited.role_list == ["cadre", "secretary"] and edited.unit_id == world["c1"]
        (event,) = events("user.update")
        assert event.details["before"] == {
            "display_name": "Cadre_B",
            "roles": ["cadre"],
            "unit_code": "XA-B",
        }
        assert event.details["after"]["unit_code"] == "XA-A"


def test_nobody_changes_their_own_roles_or_access(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    auth.login("province")
    me = f"/admin/users/{world['users']['province']}"
    response = post(client, me, {"display_name": "P", "roles": ["cadre"], "unit_code": "TINH"})
    assert response.status_code == 422
    response = post(client, me, {"display_name": "P", "roles": ["province"], "unit_code": "XA-A"})
    assert response.status_code == 422
    assert post(client, f"{me}/active", {"active": "0"}).status_code == 422
    response = post(
        client, me, {"display_name": "Tỉnh", "roles": ["province"], "unit_code": "TINH"}
    )
    assert response.status_code == 303
    with app.app_context():
        assert user("province").display_name == "Tỉnh" and user("province").active


def test_deactivated_user_is_signed_out_everywhere(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    other = app.test_client()
    AuthActions(other).login("cadre")
    assert other.get("/api/v1/session").status_code == 200
    auth.login("admin")
    assert (
        post(client, f"/admin/users/{world['users']['cadre']}/active", {"active": "0"}).status_code
        == 303
    )
    assert other.get("/api/v1/session").status_code == 401
    assert AuthActions(app.test_client()).login("cadre").status_code == 200  # the form again
    with app.app_context():
        assert user("cadre").active is False
        (event,) = events("user.deactivate")
        assert event.details == {"before": {"active": True}, "after": {"active": False}}
    assert (
        post(client, f"/admin/users/{world['users']['cadre']}/active", {"active": "1"}).status_code
        == 303
    )
    assert AuthActions(app.test_client()).login("cadre").status_code == 302


def test_reset_password(app: Flask, client: FlaskClient, auth: AuthActions, world: dict) -> None:
    auth.login("province")
    url = f"/admin/users/{world['users']['cadre']}/password"
    bad = post(client, url, {"password": "cadre", "password2": "cadre"})
    assert bad.status_code == 422 and 'id="err-pw-password"' in bad.get_data(as_text=True)
    assert (
        post(client, url, {"password": "new-pass-123", "password2": "new-pass-123"}).status_code
        == 303
    )
    with app.app_context():
        assert user("cadre").check_password("new-pass-123")
        (event,) = events("user.password")
        assert "new-pass-123" not in str(event.details)
    made_up = post(client, url, {})
    password = re.search(r'id="new-password">([^<]+)<', made_up.get_data(as_text=True)).group(1)
    assert AuthActions(app.test_client()).login("cadre", password).status_code == 302


def test_users_list_filters_and_htmx(client: FlaskClient, auth: AuthActions, world: dict) -> None:
    auth.login("admin")
    page = client.get("/admin/users?role=secretary").get_data(as_text=True)
    assert "commune" in page and "cadre_b" not in page
    fragment = client.get("/admin/users?q=cadre", headers={"HX-Request": "true"}).get_data(
        as_text=True
    )
    assert (
        "<html" not in fragment
        and "cadre_b" in fragment
        and "secretary" not in fragment.split('id="users"')[1]
    )


# --- Bulk import: dry run, then all or nothing


def test_import_dry_run_then_apply(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    content = csv_bytes(
        [
            HEADER,
            ["nva", "Nguyễn Văn A", "cadre", "XA-A", "", ""],
            ["ttb", "Trần Thị B", "bí thư", "CD-A1", "mat-khau-b-1", ""],
            ["cadre_b", "", "cadre; secretary", "", "", ""],
            ["commune", "", "", "", "", "no"],
        ]
    )
    auth.login("province")
    with app.app_context():
        before = snapshot_users()
    dry = upload(client, "/admin/users/import", "users.csv", content)
    assert dry.status_code == 200
    page = dry.get_data(as_text=True)
    assert page.count('class="fate-create"') == 2 and page.count('class="fate-update"') == 2
    with app.app_context():
        assert snapshot_users() == before
    done = post(
        client, "/admin/users/import/apply", {"token": apply_token(page), "filename": "users.csv"}
    )
    assert done.status_code == 200
    text = done.get_data(as_text=True)
    generated = re.findall(r"<td>(\w+)</td><td><code>([^<]+)</code>", text)
    assert [name for name, _pw in generated] == ["nva"]
    with app.app_context():
        assert user("nva").unit_id == world["c1"] and user("nva").role_list == ["cadre"]
        assert user("ttb").role_list == ["secretary"] and user("ttb").check_password("mat-khau-b-1")
        assert user("cadre_b").role_list == ["cadre", "secretary"]
        assert user("cadre_b").display_name == "Cadre_B"  # empty cell: left alone
        assert user("commune").active is False
        (summary,) = events("users.import")
        assert summary.details["created"] == 2 and summary.details["updated"] == 2
        assert len(events("user.create")) == 2 and len(events("user.update")) == 2
        assert "mat-khau-b-1" not in str([e.details for e in events("user.create")])
    assert AuthActions(app.test_client()).login("nva", generated[0][1]).status_code == 302


def test_import_with_bad_rows_changes_nothing(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    with app.app_context():
        outside = Unit(code="TINH2", name="Tỉnh khác", kind="province")
        from coso.models.units import place

        place(outside, None)
        make_user("outsider", "cadre", outside)
        db.session.commit()
    content = csv_bytes(
        [
            HEADER,
            ["good", "Good One", "cadre", "XA-A", "", ""],
            ["x", "Too short", "cadre", "XA-A", "", ""],
            ["bad1", "Bad role", "king", "XA-A", "", ""],
            ["bad2", "Admin wanted", "admin", "XA-A", "", ""],
            ["bad3", "Unknown unit", "cadre", "NOPE", "", ""],
            ["bad4", "Outside", "cadre", "TINH2", "", ""],
            ["outsider", "Not mine", "cadre", "XA-A", "", ""],
            ["admin", "An admin", "cadre", "XA-A", "", ""],
            ["bad5", "Weak password", "cadre", "XA-A", "123", ""],
            ["good", "Repeated", "cadre", "XA-A", "", ""],
            ["bad6", "", "", "", "", ""],
            ["province", "Me", "cadre", "TINH", "", ""],
            ["bad7", "Odd active", "cadre", "XA-A", "", "maybe"],
        ]
    )
    auth.login("province")
    with app.app_context():
        before = snapshot_users()
    response = upload(client, "/admin/users/import", "users.csv", content)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    errors = page[page.index('id="row-errors"') :]
    for row in range(3, 15):
        assert f"{row} (" in errors, row
    assert 'name="token"' not in page
    with app.app_context():
        assert snapshot_users() == before
        assert count(AuditEvent, AuditEvent.action.like("user%")) == 0


def test_import_xlsx_and_missing_columns(
    client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    import io

    from openpyxl import Workbook

    auth.login("admin")
    book = Workbook()
    book.active.append(["username", "display_name", "roles", "unit_code"])
    book.active.append(["xl1", "Excel User", "cadre", "XA-B"])
    out = io.BytesIO()
    book.save(out)
    response = upload(client, "/admin/users/import", "u.xlsx", out.getvalue())
    assert response.status_code == 200 and 'class="fate-create"' in response.get_data(as_text=True)
    missing = upload(client, "/admin/users/import", "u.csv", b"username,display_name\nab,cd\n")
    assert missing.status_code == 422 and "roles" in missing.get_data(as_text=True)


def test_password_policy_is_the_shared_one() -> None:
    assert generate_password() != generate_password()
    assert len(generate_password()) == 12
    assert parse_roles("Cán bộ, bí thư") == ["cadre", "secretary"]
    assert PASSWORD  # builders' password meets the policy used by the forms


def test_import_xlsx_as_excel_writes_it(
    client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    """A real Excel file: a second sheet, empty and formatted cells after the data."""
    import io

    from openpyxl import Workbook

    auth.login("admin")
    book = Workbook()
    sheet = book.active
    sheet.append(["username", "display_name", "roles", "unit_code", None, None])
    sheet.append(["xl2", "Excel Hai", "cadre", "XA-B", None, None])
    sheet["H40"].number_format = "0.0"  # formatting far below and right: no data
    book.create_sheet("notes").append(["not read"])
    out = io.BytesIO()
    book.save(out)
    response = upload(client, "/admin/users/import", "u.xlsx", out.getvalue())
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert page.count('class="fate-create"') == 1


def test_import_over_the_row_limit_is_refused_whole(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    from tests.sheet_files import xlsx_of

    auth.login("admin")
    content = xlsx_of(COLUMNS[:4], ["xl3", "X", "cadre", "XA-B"], 2_001)
    with app.app_context():
        before = count(User)
    response = upload(client, "/admin/users/import", "u.xlsx", content)
    assert response.status_code == 422
    assert "Mỗi tệp tối đa 2000 dòng." in response.get_data(as_text=True)
    with app.app_context():
        assert count(User) == before


@pytest.mark.parametrize(
    ("username", "shown", "hidden"),
    [
        (
            "cadre",
            {"field-panel", "cadre-panel"},
            {"secretary-panel", "province-panel", "admin-panel"},
        ),
        ("secretary", {"secretary-panel"}, {"field-panel", "province-panel", "admin-panel"}),
        ("commune", {"secretary-panel"}, {"field-panel", "province-panel", "admin-panel"}),
        ("province", {"province-panel"}, {"field-panel", "secretary-panel", "admin-panel"}),
        ("admin", {"admin-panel"}, {"field-panel", "secretary-panel", "province-panel"}),
    ],
)
def test_each_role_lands_where_the_readme_says(
    client: FlaskClient, auth: AuthActions, world: dict, username: str, shown: set, hidden: set
) -> None:
    """The README's table of demo users names these panels; a change to either shows here."""
    response = auth.login(username)
    assert response.headers["Location"].endswith("/")
    page = client.get("/").get_data(as_text=True)
    ids = set(re.findall(r'<section class="card" id="([a-z-]+)"', page))
    assert shown <= ids and not (hidden & ids), ids
