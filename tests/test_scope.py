"""Nobody sees or changes anything outside their unit's subtree."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from coso import scope
from coso.extensions import db
from coso.models import Unit, User
from tests.builders import small_province
from tests.conftest import AuthActions


@pytest.fixture
def ids(app: Flask) -> dict[str, int]:
    with app.app_context():
        data = small_province()
        b11, b12, b21, b22 = data["branches"]
        c1, c2 = data["communes"]
        return {
            "province": data["province"].id,
            "c1": c1.id,
            "c2": c2.id,
            "b11": b11.id,
            "b12": b12.id,
            "b21": b21.id,
            "b22": b22.id,
        }


@pytest.mark.parametrize(
    ("username", "unit", "allowed"),
    [
        ("secretary", "b11", True),
        ("secretary", "b12", False),
        ("secretary", "c1", False),
        ("secretary", "b21", False),
        ("commune", "c1", True),
        ("commune", "b11", True),
        ("commune", "b12", True),
        ("commune", "c2", False),
        ("commune", "b21", False),
        ("commune", "province", False),
        ("province", "b22", True),
        ("cadre_b", "b21", True),
        ("cadre_b", "b11", False),
    ],
)
def test_unit_pages_respect_scope(
    client: FlaskClient,
    auth: AuthActions,
    ids: dict[str, int],
    username: str,
    unit: str,
    allowed: bool,
) -> None:
    auth.login(username)
    response = client.get(f"/units/{ids[unit]}")
    assert response.status_code == (200 if allowed else 403)


def test_unknown_unit_is_404(client: FlaskClient, auth: AuthActions, ids: dict[str, int]) -> None:
    auth.login("province")
    assert client.get("/units/999999").status_code == 404


def test_commune_page_lists_only_its_branches(
    client: FlaskClient, auth: AuthActions, ids: dict[str, int]
) -> None:
    auth.login("commune")
    page = client.get(f"/units/{ids['c1']}").get_data(as_text=True)
    assert "Chi đoàn ấp 1" in page and "Chi đoàn ấp 2" in page
    assert "khu phố" not in page


def test_scope_rules(app: Flask, ids: dict[str, int]) -> None:
    with app.app_context():
        secretary = db.session.scalar(db.select(User).filter_by(username="secretary"))
        b11, b12 = db.session.get(Unit, ids["b11"]), db.session.get(Unit, ids["b12"])
        assert scope.may(secretary, "view", b11)
        assert not scope.may(secretary, "view", b12)
        assert scope.may(secretary, "respond", b11)
        assert not scope.may(secretary, "evaluate", b11)
        secretary.active = False
        assert not scope.in_scope(secretary, b11)


def test_subtree_query_is_a_prefix_range(app: Flask, ids: dict[str, int]) -> None:
    with app.app_context():
        c1 = db.session.get(Unit, ids["c1"])
        codes = set(db.session.scalars(db.select(Unit.code).where(c1.subtree_clause())))
        assert codes == {"XA-A", "CD-A1", "CD-A2"}
