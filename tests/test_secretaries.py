"""Branch secretaries followed (issue 19, item 5): recorded by the commune and the branch,
a change closing the previous term, the province's figures moving, the timeline, Party
membership shown only to those who may see it, the audit log, and hostile input."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from coso.extensions import db
from coso.models import AuditEvent, SecretaryTerm, Unit
from tests.builders import make_user, small_province
from tests.conftest import AuthActions

TODAY = date(2026, 12, 1)
NEW = {"role": "secretary", "name": "Trần Thị Mới", "since": "2026-11-01", "party_member": "yes"}


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    """The small province; branch CD-A1 has a non-member secretary since 2024."""
    app.config["COSO_TODAY"] = TODAY.isoformat()
    with app.app_context():
        data = small_province()
        b11 = data["branches"][0]
        b11.secretary_name, b11.secretary_since = "Lê Văn Cũ", date(2024, 1, 1)
        b11.secretary_party_member = False
        db.session.add(
            SecretaryTerm(
                branch_id=b11.id, name="Lê Văn Cũ", party_member=False, started_on=date(2024, 1, 1)
            )
        )
        db.session.commit()
        return {
            "province": data["province"].id,
            "communes": [c.id for c in data["communes"]],
            "branches": [b.id for b in data["branches"]],
        }


def _as(auth: AuthActions, client: FlaskClient, username: str) -> None:
    client.post("/logout", data={"csrf_token": auth.csrf_token()})
    assert auth.login(username).status_code == 302


def _post(client: FlaskClient, auth: AuthActions, url: str, data: dict[str, Any]) -> Any:
    return client.post(url, data={**data, "csrf_token": auth.csrf_token()})


def _terms(app: Flask, branch_id: int) -> list[tuple[str, str, bool, date | None, date | None]]:
    with app.app_context():
        rows = db.session.scalars(
            sa.select(SecretaryTerm)
            .where(SecretaryTerm.branch_id == branch_id)
            .order_by(SecretaryTerm.id)
        ).all()
        return [(t.role, t.name, t.party_member, t.started_on, t.ended_on) for t in rows]


def _events(app: Flask, prefix: str = "secretary.") -> list[AuditEvent]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(AuditEvent)
                .where(AuditEvent.action.startswith(prefix))
                .order_by(AuditEvent.id)
            ).all()
        )


def _row(page: str, unit_id: int) -> str:
    match = re.search(rf'<tr data-unit-id="{unit_id}">(.*?)</tr>', page, re.S)
    assert match, f"a row for unit {unit_id}"
    return match.group(1)


def _share(page: str, unit_id: int) -> str:
    cell = re.search(r'data-share="party">([^<]*)<', _row(page, unit_id))
    assert cell
    return cell.group(1).strip()


# ------------------------------------------------------------------ the story


def test_commune_records_a_party_member_and_the_province_share_moves(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    commune, b11 = world["communes"][0], world["branches"][0]
    _as(auth, client, "province")
    before = client.get("/secretaries").get_data(as_text=True)
    assert _share(before, commune) == "0\xa0%"

    _as(auth, client, "commune")
    response = _post(client, auth, f"/secretaries/branch/{b11}/record", NEW)
    assert response.status_code == 303
    assert _terms(app, b11) == [
        ("secretary", "Lê Văn Cũ", False, date(2024, 1, 1), date(2026, 11, 1)),
        ("secretary", "Trần Thị Mới", True, date(2026, 11, 1), None),
    ]
    with app.app_context():
        branch = db.session.get(Unit, b11)
        assert (branch.secretary_name, branch.secretary_since, branch.secretary_party_member) == (
            "Trần Thị Mới",
            date(2026, 11, 1),
            True,
        )
    (event,) = _events(app)
    assert event.action == "secretary.change" and event.unit_id == b11
    assert event.details["before"]["party_member"] is False
    assert event.details["after"]["party_member"] is True
    assert event.details["closed"]["ended_on"] == "2026-11-01"

    _as(auth, client, "province")
    after = client.get("/secretaries").get_data(as_text=True)
    assert _share(after, commune) == "50\xa0%"  # one of the commune's two branches
    assert 'data-count="changes">1 ' in _row(after, commune)
    assert _share(after, world["communes"][1]) == "0\xa0%"
    # the change is on the branch's timeline, with its Party membership for the province
    story = client.get(f"/units/{b11}").get_data(as_text=True)
    timeline = story[story.index('id="timeline"') :]
    assert "Trần Thị Mới" in timeline and "Lê Văn Cũ" in timeline
    assert "Bí thư mới" in timeline and "Đảng viên" in timeline


def test_a_user_outside_the_scope_cannot_see_it(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    b11, b12, b21 = world["branches"][0], world["branches"][1], world["branches"][2]
    _as(auth, client, "commune")
    assert _post(client, auth, f"/secretaries/branch/{b11}/record", NEW).status_code == 303
    # the other commune's cadre, the other branch's secretary: no page, no figures
    _as(auth, client, "cadre_b")
    assert client.get(f"/secretaries/branch/{b11}").status_code == 403
    assert client.get(f"/units/{b11}").status_code == 403
    assert client.get("/secretaries").status_code == 403
    _as(auth, client, "secretary")  # CD-A1's own secretary sees their own record only
    assert client.get(f"/secretaries/branch/{b11}").status_code == 200
    assert client.get(f"/secretaries/branch/{b12}").status_code == 403
    assert client.get(f"/units/{b12}").status_code == 403
    assert client.get("/secretaries").status_code == 403
    assert client.get("/secretaries/export.csv").status_code == 403
    _as(auth, client, "commune")
    assert client.get(f"/secretaries/branch/{b21}").status_code == 403
    assert _post(client, auth, f"/secretaries/branch/{b21}/record", NEW).status_code == 403
    assert client.get("/secretaries/export.xlsx").status_code == 403  # the province exports
    assert _terms(app, b21) == []


def test_party_membership_is_seen_inside_the_area_and_never_by_another_branch(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    b11, b12 = world["branches"][0], world["branches"][1]
    _as(auth, client, "commune")
    assert _post(client, auth, f"/secretaries/branch/{b11}/record", NEW).status_code == 303
    page = client.get(f"/units/{b11}").get_data(as_text=True)
    assert 'id="secretary-party"' in page and "Đảng viên" in page  # the commune sees it
    # A province cadre, the branch inside their area: the name and the membership (the brief
    # before a meeting names both: issue 18, item 4), but records nothing.
    _as(auth, client, "cadre")
    assert client.get(f"/secretaries/branch/{b11}").status_code == 403
    page = client.get(f"/units/{b11}").get_data(as_text=True)
    assert "Trần Thị Mới" in page and 'id="secretary-party"' in page
    # Another branch's secretary never: the branch lies outside their area.
    with app.app_context():
        make_user("secretary_a2", "secretary", db.session.get(Unit, b12))
        db.session.commit()
    _as(auth, client, "secretary_a2")
    assert client.get(f"/units/{b11}").status_code == 403
    assert client.get(f"/units/{b12}").status_code == 200


def test_the_branch_records_its_own_deputy_and_the_same_person_is_corrected(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    b11 = world["branches"][0]
    _as(auth, client, "secretary")
    deputy = {"role": "deputy", "name": "Phạm Văn Phó", "since": "2026-06-01", "party_member": "no"}
    assert (
        _post(
            client, auth, f"/secretaries/branch/{b11}/record", {**deputy, "guided": "yes"}
        ).status_code
        == 303
    )
    # the same person again, with other spacing: a correction, not a new term
    again = {**NEW, "name": " lê  văn cũ ", "since": "2023-09-01", "party_member": "no"}
    assert (
        _post(
            client, auth, f"/secretaries/branch/{b11}/record", {**again, "guided": "yes"}
        ).status_code
        == 303
    )
    terms = _terms(app, b11)
    assert terms == [
        ("secretary", "lê văn cũ", False, date(2023, 9, 1), None),
        ("deputy", "Phạm Văn Phó", False, date(2026, 6, 1), None),
    ]
    with app.app_context():
        branch = db.session.get(Unit, b11)
        assert branch.secretary_name == "lê văn cũ"  # the deputy leaves the branch row alone
        guided = db.session.scalars(sa.select(SecretaryTerm.guided_to_party)).all()
        assert set(guided) == {True}
    assert [e.action for e in _events(app)] == ["secretary.change", "secretary.update"]
    page = client.get(f"/units/{b11}").get_data(as_text=True)
    assert "Phó bí thư mới" in page and "Phạm Văn Phó" in page


def test_a_post_left_empty_shows_as_a_branch_with_no_secretary(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    b11 = world["branches"][0]
    _as(auth, client, "commune")
    end = _post(
        client, auth, f"/secretaries/branch/{b11}/end", {"role": "secretary", "on": "2026-11-20"}
    )
    assert end.status_code == 303
    assert _terms(app, b11)[0][4] == date(2026, 11, 20)
    with app.app_context():
        assert db.session.get(Unit, b11).secretary_name is None
    assert _events(app)[-1].action == "secretary.end"
    _as(auth, client, "province")
    page = client.get("/secretaries").get_data(as_text=True)
    vacant = page[page.index('id="vacant"') :]
    assert f'data-unit-id="{b11}"' in vacant
    # all four branches of the test province have no secretary now
    assert re.search(r'id="secretary-total".*?data-count="vacant">4<', page, re.S)
    # ending an empty post changes nothing
    _as(auth, client, "commune")
    again = _post(
        client, auth, f"/secretaries/branch/{b11}/end", {"role": "secretary", "on": "2026-11-25"}
    )
    assert again.status_code == 303
    assert len(_events(app)) == 1


def test_the_province_exports_the_figures(
    client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    _as(auth, client, "province")
    response = client.get("/secretaries/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][0] == "Đơn vị"
    by_code = {row[1]: row for row in rows[1:]}
    assert set(by_code) == {"XA-A", "XA-B", "TINH"}  # each commune, then the total
    assert by_code["XA-A"][2] == "2" and by_code["TINH"][2] == "4"
    xlsx = client.get(f"/secretaries/export.xlsx?unit={world['communes'][0]}")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"


# ------------------------------------------------------------------ hostile input


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"name": "An\x00"}, "name"),
        ({"since": ""}, "since"),
        ({"since": "2026-12-02"}, "since"),  # tomorrow
        ({"since": "2026-02-31"}, "since"),
        ({"since": "31/12/2025x"}, "since"),
        ({"since": "1899-01-01"}, "since"),
        ({"since": "2023-12-31"}, "since"),  # before the current secretary's term began
        ({"role": "chairman"}, "role"),
        ({"role": ""}, "role"),
        ({"party_member": "maybe"}, "party_member"),
        ({"party_member": ""}, "party_member"),
        ({"guided": "<script>"}, "guided"),
    ],
)
def test_bad_input_is_refused_and_nothing_stored(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    world: dict[str, Any],
    change: dict[str, str],
    field: str,
) -> None:
    b11 = world["branches"][0]
    before = _terms(app, b11)
    _as(auth, client, "commune")
    response = _post(client, auth, f"/secretaries/branch/{b11}/record", {**NEW, **change})
    if "\x00" in "".join(change.values()):  # NUL: refused before any view (coso.errors)
        assert response.status_code == 400
    else:
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert "Chưa có gì được lưu" in page
        ids = {"party_member": "s-party", "guided": "guided"}
        assert f'id="err-{ids.get(field, "s-" + field)}"' in page
    assert _terms(app, b11) == before
    assert _events(app) == []


@pytest.mark.parametrize(
    "data",
    [
        {"role": "secretary", "on": "2026-12-05"},
        {"role": "secretary", "on": "2023-01-01"},  # before the term began
        {"role": "treasurer", "on": "2026-11-01"},
        {"role": "secretary", "on": "hôm qua"},
    ],
)
def test_bad_ends_are_refused(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any], data: dict[str, str]
) -> None:
    b11 = world["branches"][0]
    before = _terms(app, b11)
    _as(auth, client, "commune")
    assert _post(client, auth, f"/secretaries/branch/{b11}/end", data).status_code == 422
    assert _terms(app, b11) == before and _events(app) == []


def test_markup_in_a_name_is_shown_as_text(
    client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    b11 = world["branches"][0]
    _as(auth, client, "commune")
    name = '<img src=x onerror="alert(1)">'
    assert (
        _post(client, auth, f"/secretaries/branch/{b11}/record", {**NEW, "name": name}).status_code
        == 303
    )
    for url in (f"/secretaries/branch/{b11}", f"/units/{b11}"):
        page = client.get(url).get_data(as_text=True)
        assert name not in page and "&lt;img src=x" in page


def test_not_a_branch_or_not_a_unit_is_404(
    client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    _as(auth, client, "province")
    assert client.get(f"/secretaries/branch/{world['communes'][0]}").status_code == 404
    assert client.get("/secretaries/branch/999999").status_code == 404
    assert client.get(f"/secretaries/branch/{2**31}").status_code == 404
    assert client.get("/secretaries?unit=abc").status_code == 422
    assert client.get("/secretaries?unit=999999").status_code == 404
