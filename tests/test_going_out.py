"""Everyone who goes out counts (issue 18, item 6): the province's users and a commune's
secretary log their own visits and stand in the 1+2 ledger beside the cadres, whatever their
other roles; an administrator alone and a branch's own secretary do neither."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from coso.extensions import db
from coso.models import AuditEvent, Visit
from coso.visits import queries
from tests.builders import make_user, small_province
from tests.conftest import AuthActions

TODAY = date(2026, 12, 1)


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    app.config["COSO_TODAY"] = TODAY.isoformat()
    with app.app_context():
        data = small_province()
        make_user("admin_cadre", "admin cadre", data["province"])
        db.session.commit()
        return {
            "branches": [b.id for b in data["branches"]],
            "communes": [c.id for c in data["communes"]],
            "province": data["province"].id,
        }


def _visit(branch_id: int) -> dict[str, str]:
    day = (TODAY - timedelta(days=2)).isoformat()
    return {"unit_id": str(branch_id), "form": "inspection", "start_date": day, "end_date": day}


@pytest.mark.parametrize(("username", "branch_index"), [("province", 3), ("commune", 1)])
def test_the_province_and_a_commune_secretary_log_their_own_visits(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    world: dict[str, Any],
    username: str,
    branch_index: int,
) -> None:
    assert auth.login(username).status_code == 302
    assert client.get("/visits/new").status_code == 200
    assert client.get("/visits").status_code == 200
    home = client.get("/").get_data(as_text=True)
    assert 'href="/visits"' in home  # the menu leads there
    data = {**_visit(world["branches"][branch_index]), "csrf_token": auth.csrf_token()}
    assert client.post("/visits/new", data=data).status_code == 303
    with app.app_context():
        visit = db.session.scalars(sa.select(Visit)).one()
        assert visit.user.username == username and visit.form == "inspection"
        assert db.session.scalar(
            sa.select(AuditEvent.action).where(AuditEvent.action == "visit.create")
        )
    mine = client.get("/visits").get_data(as_text=True)
    assert 'data-visit-id="' in mine


def test_a_commune_secretary_logs_visits_only_inside_the_commune(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    auth.login("commune")
    data = {**_visit(world["branches"][2]), "csrf_token": auth.csrf_token()}
    response = client.post("/visits/new", data=data)
    assert response.status_code == 422 and 'id="err-unit_id"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Visit)) == 0


@pytest.mark.parametrize("username", ["admin", "secretary"])
def test_who_does_not_go_out_is_refused(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any], username: str
) -> None:
    auth.login(username)
    assert client.get("/visits/new").status_code == 403
    data = {**_visit(world["branches"][0]), "csrf_token": auth.csrf_token()}
    assert client.post("/visits/new", data=data).status_code == 403
    assert client.get("/visits").status_code == 403


def test_the_ledger_counts_everyone_who_goes_out_and_no_one_else(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    with app.app_context():
        from coso.models import Unit, User

        province = db.session.get(Unit, world["province"])
        assert province is not None
        rows = queries.ledger(province, TODAY.year, TODAY)
        names = {row.user.username for row in rows}
        # Cadres, the province user, the commune secretary, an administrator who is a cadre too.
        assert names == {"cadre", "cadre_b", "province", "commune", "admin_cadre"}
        # An administrator alone and a branch's own secretary are not in it, so never "behind".
        assert "admin" not in names and "secretary" not in names
        commune = db.session.get(Unit, world["communes"][0])
        assert commune is not None
        assert {r.user.username for r in queries.ledger(commune, TODAY.year, TODAY)} == {"commune"}
        # A deactivated province user drops out.
        user = db.session.scalars(sa.select(User).where(User.username == "province")).one()
        user.active = False
        db.session.commit()
        assert "province" not in {r.user.username for r in queries.ledger(province, 2026, TODAY)}
    auth.login("admin")
    page = client.get("/visits/ledger").get_data(as_text=True)
    assert "Commune" in page and "Admin_Cadre" in page
