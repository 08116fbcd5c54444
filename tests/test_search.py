"""Branch and unit search: case, accents and đ/d aside, by name and code, the same on SQLite and
PostgreSQL (issue 16, item 1); the search key kept on every write; every branch reachable online."""

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
from coso.models import Unit
from coso.search_keys import search_key
from coso.units import service
from coso.units.rules import unit_search_key
from tests.builders import make_unit, small_province, with_checklist
from tests.conftest import BACKENDS, PG_URL, AuthActions
from tests.search_names import KEYS
from tests.support import fresh_database


@pytest.mark.parametrize(("text", "key"), KEYS)
def test_search_key(text: str, key: str) -> None:
    assert search_key(text) == key


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    with app.app_context():
        data = with_checklist(small_province())
        commune = data["communes"][0]
        hd = make_unit("CD-HD-01", "branch", commune, name="Chi đoàn ấp Hưng Định 1")
        dt = make_unit("CD-DT-02", "branch", commune, name="Chi đoàn ấp Đông Thọ 2")
        odd = make_unit("CD-X_9", "branch", commune, name="Chi đoàn 50% thanh niên")
        db.session.commit()
        return {"hd": hd.id, "dt": dt.id, "odd": odd.id, "commune": commune.id}


def found(client: FlaskClient, q: str, page: int = 1) -> str:
    response = client.get("/evaluate", query_string={"q": q, "page": page})
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("q", "name"),
    [
        ("hung dinh", "Hưng Định 1"),
        ("Hưng Định", "Hưng Định 1"),
        ("HƯNG ĐỊNH", "Hưng Định 1"),
        ("  hung   DINH ", "Hưng Định 1"),
        ("ĐÔNG THỌ", "Đông Thọ 2"),
        ("dong tho", "Đông Thọ 2"),
        ("cd-hd", "Hưng Định 1"),  # by code, any case
        ("cd-dt-02", "Đông Thọ 2"),
        ("50%", "50% thanh niên"),
        ("x_9", "50% thanh niên"),
    ],
)
def test_cadre_finds_a_branch_however_it_is_typed(
    client: FlaskClient, auth: AuthActions, world: dict, q: str, name: str
) -> None:
    auth.login("cadre")
    page = found(client, q)
    assert name in page
    fragment = client.get("/evaluate", query_string={"q": q}, headers={"HX-Request": "true"})
    assert name in fragment.get_data(as_text=True)


def test_like_wildcards_are_literal_and_name_and_code_do_not_run_together(
    client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    auth.login("cadre")
    page = found(client, "%")
    assert "50% thanh niên" in page and "Hưng Định" not in page
    page = found(client, "_")
    assert "50% thanh niên" in page and "Hưng Định" not in page
    # "1 cd" would span the name "… Hưng Định 1" and the code "CD-HD-01": no match.
    assert "Hưng Định" not in found(client, "dinh 1 cd")


def test_admin_unit_search_ignores_accents(
    client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    auth.login("admin")
    page = client.get("/admin/units/search", query_string={"q": "dong tho"}).get_data(as_text=True)
    assert "Đông Thọ 2" in page
    page = client.get("/admin/units/search", query_string={"q": "AN BINH"}).get_data(as_text=True)
    assert "Đoàn xã An Bình" in page


def test_the_key_follows_every_write(app: Flask, world: dict) -> None:
    with app.app_context():
        unit = db.session.get(Unit, world["hd"])
        assert unit.search == unit_search_key("Chi đoàn ấp Hưng Định 1", "CD-HD-01")
        service.apply_edit(unit, {"name": "Chi đoàn ấp Thạnh Lộc"})
        db.session.flush()
        assert db.session.scalar(sa.select(Unit.search).where(Unit.id == unit.id)) == (
            "chi doan ap thanh loc\ncd-hd-01"
        )
        parent = db.session.get(Unit, world["commune"])
        added = service.add_unit(
            parent, {"code": "CD-NEW", "name": "Chi Đoàn Mới", "kind": "branch"}
        )
        db.session.flush()
        assert added.search == "chi doan moi\ncd-new"
        db.session.rollback()


def test_every_branch_is_reachable_through_the_pager(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    with app.app_context():
        commune = db.session.get(Unit, world["commune"])
        for n in range(40):
            make_unit(f"CD-P{n:02d}", "branch", commune, name=f"Chi đoàn Phú Hòa {n:02d}")
        db.session.commit()
        expected = set(
            db.session.scalars(sa.select(Unit.code).where(Unit.kind == "branch", Unit.active))
        )
    auth.login("cadre")
    seen: set[str] = set()
    first = found(client, "")
    assert f"{len(expected)} chi đoàn" in first or f"{len(expected)} branches" in first
    pages = 2
    for number in range(1, pages + 1):
        page = found(client, "", number)
        seen |= {code for code in expected if f">{code} " in page or f">{code}<" in page}
        if number < pages:
            assert 'rel="next"' in page
    assert 'rel="next"' not in found(client, "", pages)
    assert seen == expected
    # A page past the end is the last page, not an empty list or an error.
    assert 'rel="prev"' in found(client, "", 99)
    # Searching pages too: "phu hoa" matches the 40 new branches over two pages.
    assert 'rel="next"' in found(client, "phu hoa")
    assert "Phú Hòa 39" in found(client, "phu hoa", 2) or "Phú Hòa 39" in found(client, "phu hoa")


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_migration_fills_the_key_of_units_already_there(backend: str, tmp_path: Path) -> None:
    url = fresh_database(backend, tmp_path, PG_URL, "searchkey")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade(revision="c8f1a2d3e4b5")
        with db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO unit (id, code, name, kind, path, depth, active, created_at)"
                    " VALUES (1, 'CD-HD-01', 'Chi đoàn ấp Hưng Định 1', 'branch', '/1/', 0,"
                    " :yes, :now)"
                ),
                {"yes": True, "now": datetime(2026, 1, 1)},
            )
        upgrade()
        with db.engine.connect() as conn:
            key = conn.execute(sa.text("SELECT search FROM unit WHERE id = 1")).scalar()
        assert key == unit_search_key("Chi đoàn ấp Hưng Định 1", "CD-HD-01")
        db.engine.dispose()
