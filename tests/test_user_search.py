"""The users list searches as the branch search does: no case, no accents, đ as d, on SQLite
and PostgreSQL alike (issue 16, item 1's sibling); the key kept on every write and filled by
the migration for users already there."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade

from coso import create_app
from coso.extensions import db
from coso.models import User
from coso.users.rules import user_search_key
from tests.builders import make_unit, make_user, small_province
from tests.conftest import BACKENDS, PG_URL, AuthActions
from tests.support import fresh_database


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    with app.app_context():
        data = small_province()
        commune = data["communes"][0]
        branch = make_unit("CD-ĐT-02", "branch", commune, name="Chi đoàn ấp Đông Thọ 2")
        lan = make_user("lan.nguyen", "cadre", commune)
        lan.display_name = "Nguyễn Thị Lan"
        duc = make_user("duc_tran", "secretary", branch)
        duc.display_name = "Trần Văn Đức"
        db.session.commit()
        return {"lan": lan.id, "duc": duc.id}


def listed(client: FlaskClient, q: str) -> str:
    response = client.get("/admin/users", query_string={"q": q}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    return response.get_data(as_text=True).split('id="users"')[1]


@pytest.mark.parametrize(
    ("q", "username"),
    [
        ("Nguyễn Thị", "lan.nguyen"),
        ("nguyen thi lan", "lan.nguyen"),
        ("NGUYỄN", "lan.nguyen"),
        ("  thi   LAN ", "lan.nguyen"),
        ("Đức", "duc_tran"),
        ("duc", "duc_tran"),
        ("TRAN VAN", "duc_tran"),
        ("cd-dt", "duc_tran"),  # the home unit's code, accents aside
        ("CD-ĐT-02", "duc_tran"),
        ("LAN.NGUYEN", "lan.nguyen"),  # the username, any case
    ],
)
def test_users_are_found_whatever_the_case_and_accents(
    client: FlaskClient, auth: AuthActions, world: dict, q: str, username: str
) -> None:
    auth.login("admin")
    assert username in listed(client, q)


def test_a_search_matches_only_what_it_says(
    client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    auth.login("admin")
    assert "duc_tran" not in listed(client, "nguyen")
    assert "lan.nguyen" not in listed(client, "duc")
    # LIKE's own characters are plain text; the line break between the two keys is not a
    # way to match across them.
    for q in ("%", "_", "lan\nnguyen"):
        assert "lan.nguyen" not in listed(client, q)
    assert "lan.nguyen" in listed(client, "lan.")
    # A unit's name is not its code: the commune's name finds nobody by code.
    assert "duc_tran" not in listed(client, "dong tho")


def test_the_key_follows_a_rename(app: Flask, world: dict) -> None:
    with app.app_context():
        lan = db.session.get(User, world["lan"])
        assert lan is not None
        lan.display_name = "Phạm Thị Hoa"
        db.session.commit()
        assert db.session.scalar(sa.select(User.search).where(User.id == world["lan"])) == (
            user_search_key("lan.nguyen", "Phạm Thị Hoa")
        )
        assert user_search_key("lan.nguyen", "Phạm Thị Hoa") == "lan.nguyen\npham thi hoa"


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_migration_fills_the_key_of_users_already_there(backend: str, tmp_path: Path) -> None:
    url = fresh_database(backend, tmp_path, PG_URL, "usersearch")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade(revision="e4a7c2b9d1f6")
        with db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO unit (id, code, name, kind, path, depth, active, created_at,"
                    " search) VALUES (1, 'TINH', 'Tỉnh', 'province', '/1/', 0, :yes, :now, '')"
                ),
                {"yes": True, "now": datetime(2026, 1, 1)},
            )
            conn.execute(
                sa.text(
                    'INSERT INTO "user" (id, username, password_hash, display_name, roles,'
                    " unit_id, active, created_at) VALUES (1, 'duc_tran', 'x', 'Trần Văn Đức',"
                    " 'cadre', 1, :yes, :now)"
                ),
                {"yes": True, "now": datetime(2026, 1, 1)},
            )
        upgrade()
        with db.engine.connect() as conn:
            key = conn.execute(sa.text('SELECT search FROM "user" WHERE id = 1')).scalar()
        assert key == user_search_key("duc_tran", "Trần Văn Đức") == "duc_tran\ntran van duc"
        db.engine.dispose()
