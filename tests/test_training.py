"""The training view (issue 19, item 3): the ranked items of a period's findings, each unit's
own, the evidence behind a cell, the export; who may see it; bad input."""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient

from coso.evaluations import service
from coso.extensions import db
from tests.builders import payload, small_province, with_checklist
from tests.conftest import AuthActions

DAY = date.today() - timedelta(days=5)


def _world(app: Flask) -> dict[str, Any]:
    """XA-A fails P10 twice (once corrected away) and P2 once; XA-B partly meets P2 once."""
    with app.app_context():
        data = with_checklist(small_province())
        cadre = data["users"]["cadre"]
        a1, a2, b1 = data["branches"][0], data["branches"][1], data["branches"][2]
        t = data["template"].id
        with app.test_request_context():
            items = [
                payload(a1.id, t, None, values={"P10": "fail", "P2": "fail"},
                        meeting_date=DAY.isoformat()),
                payload(a2.id, t, None, values={"P10": "fail"}, meeting_date=DAY.isoformat()),
                payload(b1.id, t, None, values={"P2": "partial"}, meeting_date=DAY.isoformat()),
                payload(b1.id, t, None, values={"P10": "fail"},
                        meeting_date=(DAY - timedelta(days=1)).isoformat()),
            ]  # fmt: skip
            ids = [service.submit(item, cadre).id for item in items]
            # The last one is corrected: its failure no longer counts.
            fixed = payload(b1.id, t, None, meeting_date=(DAY - timedelta(days=1)).isoformat(),
                            supersedes=items[3]["uuid"])  # fmt: skip
            result = service.submit(fixed, cadre)
            assert result.id is not None, result.errors
        db.session.commit()
        return {
            "ids": ids,
            "commune_a": data["communes"][0].id,
            "commune_b": data["communes"][1].id,
            "province": data["province"].id,
            "branch": a1.id,
        }


def _args(unit: int) -> str:
    start = (DAY - timedelta(days=30)).isoformat()
    return f"unit={unit}&from={start}&to={date.today().isoformat()}"


def test_the_province_sees_the_items_ranked_with_each_communes_own(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    world = _world(app)
    auth.login("province")
    page = client.get(f"/training?{_args(world['province'])}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Nhu cầu tập huấn" in html
    needs = html.split('id="needs-table"')[1].split("</table>")[0]
    order = [chunk.split('"')[0] for chunk in needs.split('data-item="')[1:]]
    assert order == ["P10", "P2"]  # P10: 2 failures; P2: 1 + half; the corrected one is gone
    by_unit = html.split('id="by-unit-table"')[1].split("</table>")[0]
    a_row = by_unit.split(f'data-unit="{world["commune_a"]}"')[1].split("</tr>")[0]
    assert ">2<" in a_row and ">P10<" in a_row and ">P2<" in a_row
    b_row = by_unit.split(f'data-unit="{world["commune_b"]}"')[1].split("</tr>")[0]
    assert ">2<" in b_row and ">P2<" in b_row and ">P10<" not in b_row


def test_the_evidence_lists_the_evaluations_behind_a_cell(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    world = _world(app)
    auth.login("province")
    page = client.get(f"/training/evidence?{_args(world['commune_a'])}&item=P10")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    linked = {int(chunk.split('"')[0]) for chunk in html.split('href="/evaluations/')[1:]}
    assert linked == {world["ids"][0], world["ids"][1]}
    other = client.get(f"/training/evidence?{_args(world['commune_b'])}&item=P10")
    assert "/evaluations/" not in other.get_data(as_text=True)  # the corrected one is gone


def test_the_export_holds_every_ranked_item(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    world = _world(app)
    auth.login("province")
    response = client.get(f"/training.xlsx?{_args(world['province'])}")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert "TINH" not in str(rows[0]) and "Tỉnh đoàn Thử nghiệm" in str(rows[0])
    header = rows[1]
    body = [dict(zip(header, row, strict=False)) for row in rows[2:]]
    assert [r[header[1]] for r in body] == ["P10", "P2"]
    assert [r[header[4]] for r in body] == [2, 1]
    csv = client.get(f"/training.csv?{_args(world['province'])}&sep=semicolon")
    assert csv.status_code == 200 and "P10" in csv.get_data(as_text=True)


def test_a_commune_secretary_sees_their_commune_and_no_other(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    world = _world(app)
    auth.login("commune")
    assert client.get(f"/training?{_args(world['commune_a'])}").status_code == 200
    assert client.get("/training").status_code == 200  # their own commune by default
    assert client.get(f"/training?{_args(world['commune_b'])}").status_code == 403
    assert client.get(f"/training/evidence?{_args(world['commune_b'])}&item=P10").status_code == 403


@pytest.mark.parametrize("username", ["secretary", "cadre"])
def test_branch_secretaries_and_cadres_do_not_see_it(
    app: Flask, client: FlaskClient, auth: AuthActions, username: str
) -> None:
    _world(app)
    auth.login(username)
    assert client.get("/training").status_code == 403
    assert client.get("/training.csv").status_code == 403


@pytest.mark.parametrize(
    ("query", "status", "words"),
    [
        ("from=2026-13-01", 422, "dd/mm/yyyy"),
        ("from=2026-12-01&to=2026-11-01", 422, "không được trước"),
        ("from=2020-01-01&to=2026-01-01", 422, "hai năm"),
        ("unit=abc", 422, "Hãy chọn"),
        ("unit=99999999999", 422, ""),
    ],
)
def test_a_bad_filter_says_why(
    app: Flask, client: FlaskClient, auth: AuthActions, query: str, status: int, words: str
) -> None:
    _world(app)
    auth.login("province")
    response = client.get(f"/training?{query}")
    assert response.status_code == status
    assert words in response.get_data(as_text=True)
    assert client.get(f"/training.xlsx?{query}").status_code == status


@pytest.mark.parametrize("item", ["", "ZZ", "P1" * 20, "%00"])
def test_evidence_of_no_such_item_is_a_404(
    app: Flask, client: FlaskClient, auth: AuthActions, item: str
) -> None:
    world = _world(app)
    auth.login("province")
    assert client.get(f"/training/evidence?{_args(world['province'])}&item={item}").status_code in (
        400,
        404,
    )


def _raise(app: Flask, world: dict[str, Any]) -> None:
    """XA-A's branch raises two about funds, XA-B's commune one about venue; one long ago."""
    from datetime import UTC, datetime

    from coso.difficulties import service as difficulties
    from coso.models import Unit, User

    with app.app_context():
        secretary = db.session.query(User).filter_by(username="secretary").one()
        commune = db.session.query(User).filter_by(username="commune").one()
        branch = db.session.get(Unit, world["branch"])
        b_commune = db.session.get(Unit, world["commune_b"])
        when = datetime.combine(DAY, datetime.min.time(), tzinfo=UTC)
        cases = [
            (branch, "funds", secretary, when),
            (branch, "funds", secretary, when),
            (b_commune, "venue", commune, when),
            (branch, "venue", secretary, when - timedelta(days=400)),  # outside the period
        ]
        for i, (unit, category, user, raised) in enumerate(cases):
            data = {"uuid": f"00000000-0000-4000-8000-00000000000{i}", "category": category,
                    "text": "Khó khăn", "raised_at": raised}  # fmt: skip
            difficulties.raise_difficulty(unit, data, user)
        db.session.commit()


def test_difficulty_categories_ranked_with_each_units_and_their_evidence(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    world = _world(app)
    _raise(app, world)
    auth.login("province")
    html = client.get(f"/training?{_args(world['province'])}").get_data(as_text=True)
    table = html.split('id="categories-table"')[1].split("</table>")[0]
    assert [chunk.split('"')[0] for chunk in table.split('data-category="')[1:]] == [
        "funds",
        "venue",
    ]
    assert ">2<" in table.split('data-category="funds"')[1].split("</tr>")[0]
    by_unit = html.split('id="by-unit-table"')[1].split("</table>")[0]
    b_row = by_unit.split(f'data-unit="{world["commune_b"]}"')[1].split("</tr>")[0]
    assert "category=venue" in b_row  # a commune's own difficulty counts in its row
    evidence = client.get(f"/training/difficulties?{_args(world['commune_a'])}&category=funds")
    assert evidence.status_code == 200
    listed = evidence.get_data(as_text=True).split('id="difficulty-evidence"')[1]
    assert listed.split("</table>")[0].count('href="/difficulties/') == 2
    none_here = client.get(f"/training/difficulties?{_args(world['commune_a'])}&category=venue")
    assert 'id="difficulty-evidence"' not in none_here.get_data(as_text=True)  # 400 days ago
    assert (
        client.get(f"/training/difficulties?{_args(world['province'])}&category=x").status_code
        == 404
    )
    sheet = openpyxl.load_workbook(
        io.BytesIO(client.get(f"/training/difficulties.xlsx?{_args(world['province'])}").data)
    ).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert [row[2] for row in rows[2:]] == [2, 1]
    auth.logout()
    auth.login("commune")  # the commune's secretary: not the other commune's
    assert (
        client.get(f"/training/difficulties?{_args(world['commune_b'])}&category=venue").status_code
        == 403
    )
