"""Every administration route: signed-out people go to the login, other roles get 403.

The routes are read from the app itself, so a new route cannot slip through untested.
Finer scope (a subtree, an administrator's account) is tested in each area's file.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from coso import create_app
from coso.extensions import db
from coso.models import Guidance, GuidanceTopic
from tests.admin_support import post
from tests.builders import small_province, with_checklist
from tests.conftest import AuthActions


def admin_routes() -> list[tuple[str, str]]:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/admin"):
            for method in sorted((rule.methods or set()) & {"GET", "POST"}):
                routes.append((method, rule.rule))
    return sorted(routes)


ROUTES = admin_routes()


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    with app.app_context():
        data = with_checklist(small_province())
        guidance = Guidance(unit_id=data["province"].id, period="2026-01", title="Cũ")
        guidance.topics = [GuidanceTopic(position=1, code="T1", title="X")]
        db.session.add(guidance)
        db.session.commit()
        return {
            "unit_id": data["branches"][0].id,
            "user_id": data["users"]["cadre_b"].id,
            "template_id": data["template"].id,
            "guidance_id": guidance.id,
        }


def url(rule: str, world: dict[str, Any]) -> str:
    rule = rule.replace("<any(csv, xlsx):fmt>", "csv")
    return re.sub(r"<int:(\w+)>", lambda m: str(world[m.group(1)]), rule)


def test_every_admin_route_is_covered() -> None:
    assert len(ROUTES) >= 30
    assert ("GET", "/admin/audit") in ROUTES and ("POST", "/admin/units/import/apply") in ROUTES


@pytest.mark.parametrize(("method", "rule"), ROUTES)
def test_signed_out_goes_to_the_login(
    client: FlaskClient, world: dict, method: str, rule: str
) -> None:
    if method == "GET":
        response = client.get(url(rule, world))
    else:
        page = client.get("/login").get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        response = client.post(url(rule, world), data={"csrf_token": csrf})
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("username", ["cadre", "secretary", "commune"])
@pytest.mark.parametrize(("method", "rule"), ROUTES)
def test_roles_without_rights_get_403(
    client: FlaskClient, auth: AuthActions, world: dict, username: str, method: str, rule: str
) -> None:
    auth.login(username)
    target = url(rule, world)
    response = client.get(target) if method == "GET" else post(client, target, {})
    assert response.status_code == 403, target


@pytest.mark.parametrize(("method", "rule"), [r for r in ROUTES if "<int:" in r[1]])
def test_unknown_ids_are_404(
    client: FlaskClient, auth: AuthActions, world: dict, method: str, rule: str
) -> None:
    auth.login("admin")
    target = re.sub(r"<int:(\w+)>", "999999", rule)
    response = client.get(target) if method == "GET" else post(client, target, {})
    assert response.status_code == 404, target


def test_without_csrf_token_nothing_happens(
    client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    auth.login("admin")
    response = client.post(f"/admin/units/{world['unit_id']}/active", data={"active": "0"})
    assert response.status_code == 403
