"""Visits to the grassroots: the cadre's log and reports, the province's ledger."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from coso import scope
from coso.extensions import db
from coso.models import AuditEvent, User, Visit
from coso.visits.rules import expected_days
from tests.builders import make_unit, make_user
from tests.conftest import AuthActions
from tests.test_dashboard import TODAY, login, seed_demo


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    return seed_demo(app)


def _post(client: FlaskClient, auth: AuthActions, url: str, data: dict[str, Any], **kw: Any):  # type: ignore[no-untyped-def]
    return client.post(url, data={**data, "csrf_token": auth.csrf_token()}, **kw)


def _stored_days(user_id: int, year: int) -> tuple[int, dict[str, int]]:
    """The oracle: distinct dates of the user's stored visits inside ``year``."""
    per_form: dict[str, set[date]] = defaultdict(set)
    for visit in db.session.scalars(sa.select(Visit).where(Visit.user_id == user_id)):
        day = visit.start_date
        while day <= visit.end_date:
            if day.year == year:
                per_form[visit.form].add(day)
            day += timedelta(days=1)
    every = set().union(*per_form.values()) if per_form else set()
    return len(every), {form: len(days) for form, days in per_form.items()}


def _ledger_rows(page: str) -> dict[int, dict[str, Any]]:
    rows = {}
    for user_id, body in re.findall(r'<tr data-user-id="(\d+)"[^>]*>(.*?)</tr>', page, re.S):
        forms = dict(re.findall(r'data-form="(\w+)">(\d+)</td>', body))
        total = re.search(r'class="num total"><strong>(\d+)</strong>', body).group(1)
        rows[int(user_id)] = {
            "forms": {f: int(n) for f, n in forms.items()},
            "total": int(total),
            "behind": 'class="behind"' in body,
        }
    return rows


def test_ledger_totals_match_the_stored_visits(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    login(auth, "province")
    page = client.get("/visits/ledger").get_data(as_text=True)
    rows = _ledger_rows(page)
    with app.app_context():
        # Everyone who goes to the grassroots (issue 18, item 6), not only the cadre role.
        cadres = [u for u in db.session.scalars(sa.select(User)) if scope.goes_out(u)]
        assert any(not u.has_role("cadre") for u in cadres)  # the province's users too
        assert set(rows) == {u.id for u in cadres} and len(rows) >= 5
        behind = 0
        for user in cadres:
            total, forms = _stored_days(user.id, TODAY.year)
            row = rows[user.id]
            assert row["total"] == total, user.username
            assert row["forms"] == {f: forms.get(f, 0) for f in row["forms"]}
            assert row["behind"] == (total < expected_days(60, TODAY.year, TODAY))
            behind += row["behind"]
    assert behind  # the demo's cadres are not all on pace
    # Behind the pace first.
    flags = [row["behind"] for row in rows.values()]
    assert flags == sorted(flags, reverse=True)


def test_ledger_of_a_past_year_and_behind_only(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    login(auth, "province")
    rows = _ledger_rows(client.get("/visits/ledger?year=2025&behind=1").get_data(as_text=True))
    assert rows and all(row["behind"] for row in rows.values())
    past = _ledger_rows(client.get("/visits/ledger?year=2024").get_data(as_text=True))
    with app.app_context():
        for user_id, row in past.items():
            assert row["total"] == _stored_days(user_id, 2024)[0]
            assert row["behind"] == (row["total"] < 60)


@pytest.mark.parametrize("year", ["abc", "1999", "3000", "20255"])
def test_ledger_refuses_a_bad_year(
    client: FlaskClient, auth: AuthActions, world: dict[str, Any], year: str
) -> None:
    login(auth, "province")
    response = client.get(f"/visits/ledger?year={year}")
    assert response.status_code == 422 and 'id="err-year"' in response.get_data(as_text=True)


def test_the_target_is_a_setting(app: Flask, client: FlaskClient, auth: AuthActions, world) -> None:  # type: ignore[no-untyped-def]
    from coso.models import UnitSettings

    with app.app_context():
        db.session.add(UnitSettings(unit_id=world["province"], values={"visit_target": 30}))
        db.session.commit()
    login(auth, "province")
    page = client.get("/visits/ledger").get_data(as_text=True)
    targets = re.findall(r'class="num target">(\d+)</td>', page)
    assert targets and set(targets) == {"30"}


def test_my_visits_page(app: Flask, client: FlaskClient, auth: AuthActions, world) -> None:  # type: ignore[no-untyped-def]
    login(auth, "cadre")
    page = client.get("/visits").get_data(as_text=True)
    with app.app_context():
        total, _ = _stored_days(world["users"]["cadre"], TODAY.year)
        mine = db.session.scalars(
            sa.select(Visit).where(Visit.user_id == world["users"]["cadre"])
        ).all()
        late = [
            v
            for v in mine
            if v.form != "meeting" and not v.report and (TODAY - v.end_date).days > 10
        ]
    assert f'<span id="days-total">{total}</span>' in page
    shown = [int(i) for i in re.findall(r'<tr data-visit-id="(\d+)">', page)]
    assert len(shown) == min(25, len([v for v in mine if v.end_date.year >= TODAY.year]))
    for visit_id in shown:
        row = re.search(rf'<tr data-visit-id="{visit_id}">(.*?)</tr>', page, re.S).group(1)
        assert ("report-missing" in row) == (visit_id in {v.id for v in late})
    assert "/visits/new" in page


def _listed_row(client: FlaskClient, visit_id: int) -> str:
    """The visit's row in the cadre's list, newest first and 25 to a page."""
    for number in range(1, 40):
        listing = client.get(f"/visits?page={number}").get_data(as_text=True)
        found = re.search(rf'<tr data-visit-id="{visit_id}">(.*?)</tr>', listing, re.S)
        if found:
            return found.group(1)
        if 'data-visit-id="' not in listing:
            break
    raise AssertionError(f"visit {visit_id} is not listed")


def test_log_a_visit_and_it_counts(
    app: Flask, client: FlaskClient, auth: AuthActions, world
) -> None:  # type: ignore[no-untyped-def]
    login(auth, "cadre")
    commune = world["communes"][0]
    with app.app_context():
        before = _stored_days(world["users"]["cadre"], TODAY.year)[0]
        taken = {
            day
            for v in db.session.scalars(
                sa.select(Visit).where(Visit.user_id == world["users"]["cadre"])
            )
            for day in [
                v.start_date + timedelta(days=i)
                for i in range((v.end_date - v.start_date).days + 1)
            ]
        }
    # Three free days in a row this year.
    start = next(
        TODAY - timedelta(days=n)
        for n in range(40, 300)
        if not {TODAY - timedelta(days=n + k) for k in range(-2, 1)} & taken
    )
    response = _post(
        client,
        auth,
        "/visits/new",
        {
            "unit_id": commune,
            "form": "inspection",
            "start_date": start.isoformat(),
            "end_date": (start + timedelta(days=2)).isoformat(),
            "report": "",
        },
    )
    assert response.status_code == 303
    with app.app_context():
        visit = db.session.scalars(sa.select(Visit).order_by(Visit.id.desc())).first()
        assert (visit.form, visit.days, visit.report, visit.reported_at) == (
            "inspection",
            3,
            None,
            None,
        )
        assert visit.user_id == world["users"]["cadre"] and visit.unit_id == commune
        assert _stored_days(world["users"]["cadre"], TODAY.year)[0] == before + 3
        assert db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "visit.create")
        ).object_id == str(visit.id)
        visit_id = visit.id
    page = client.get("/visits").get_data(as_text=True)
    assert f'<span id="days-total">{before + 3}</span>' in page
    row = _listed_row(client, visit_id)
    assert "report-missing" in row  # more than 10 days ago, no report

    # The report, later.
    assert client.get(f"/visits/{visit_id}/report").status_code == 200
    empty = _post(client, auth, f"/visits/{visit_id}/report", {"report": "   "})
    assert empty.status_code == 422 and 'id="err-report"' in empty.get_data(as_text=True)
    saved = _post(client, auth, f"/visits/{visit_id}/report", {"report": "Đã kiểm tra sổ sách."})
    assert saved.status_code == 303
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        assert visit.report == "Đã kiểm tra sổ sách." and visit.reported_at is not None
    row = _listed_row(client, visit_id)
    assert "report-missing" not in row


def test_a_visit_with_its_report_at_once(
    app: Flask, client: FlaskClient, auth: AuthActions, world
) -> None:  # type: ignore[no-untyped-def]
    login(auth, "cadre")
    response = _post(
        client,
        auth,
        "/visits/new",
        {
            "unit_id": world["secretary_branch"],
            "form": "research",
            "start_date": TODAY.isoformat(),
            "end_date": TODAY.isoformat(),
            "report": "Khảo sát mô hình sinh hoạt.",
        },
    )
    assert response.status_code == 303
    with app.app_context():
        visit = db.session.scalars(sa.select(Visit).order_by(Visit.id.desc())).first()
        assert visit.report and visit.reported_at is not None and visit.days == 1


def _valid(world: dict[str, Any]) -> dict[str, Any]:
    return {
        "unit_id": world["communes"][0],
        "form": "coorganise",
        "start_date": (TODAY - timedelta(days=3)).isoformat(),
        "end_date": (TODAY - timedelta(days=2)).isoformat(),
        "report": "",
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"unit_id": ""}, "unit_id"),
        ({"unit_id": "abc"}, "unit_id"),
        ({"unit_id": "999999"}, "unit_id"),
        ({"form": ""}, "form"),
        ({"form": "meeting"}, "form"),
        ({"form": "picnic"}, "form"),
        ({"start_date": ""}, "start_date"),
        ({"start_date": "20/11/2025"}, "start_date"),
        ({"start_date": (TODAY + timedelta(days=1)).isoformat()}, "start_date"),
        ({"end_date": (TODAY + timedelta(days=1)).isoformat()}, "end_date"),
        ({"end_date": (TODAY - timedelta(days=5)).isoformat()}, "end_date"),  # before the start
        (
            {
                "start_date": (TODAY - timedelta(days=40)).isoformat(),
                "end_date": (TODAY - timedelta(days=9)).isoformat(),
            },
            "end_date",
        ),  # 32 days
        ({"report": "x" * 5001}, "report"),
    ],
)
def test_bad_visits_are_refused_beside_the_field_and_nothing_is_stored(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    world: dict[str, Any],
    change: dict[str, str],
    field: str,
) -> None:
    login(auth, "cadre")
    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.count()).select_from(Visit))
    response = _post(client, auth, "/visits/new", {**_valid(world), **change})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="err-{field}"' in page and 'aria-invalid="true"' in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Visit)) == before


def test_31_days_is_the_longest_visit(client: FlaskClient, auth: AuthActions, world) -> None:  # type: ignore[no-untyped-def]
    login(auth, "cadre")
    data = {
        **_valid(world),
        "form": "field_study",
        "start_date": (TODAY - timedelta(days=40)).isoformat(),
        "end_date": (TODAY - timedelta(days=10)).isoformat(),
    }
    assert _post(client, auth, "/visits/new", data).status_code == 303


def test_the_form_over_htmx_returns_its_fragment(
    client: FlaskClient, auth: AuthActions, world
) -> None:  # type: ignore[no-untyped-def]
    login(auth, "cadre")
    response = _post(
        client,
        auth,
        "/visits/new",
        {**_valid(world), "form": ""},
        headers={"HX-Request": "true"},
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" not in text and 'id="visit-form"' in text


def test_the_form_over_htmx_redirects_the_whole_page(
    client: FlaskClient, auth: AuthActions, world
) -> None:  # type: ignore[no-untyped-def]
    login(auth, "cadre")
    response = _post(client, auth, "/visits/new", _valid(world), headers={"HX-Request": "true"})
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/visits"


def test_a_unit_outside_the_cadres_area_is_refused(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    with app.app_context():
        # The narrower demo cadre works for the first commune only.
        narrow = db.session.scalars(
            sa.select(User).where(User.unit_id == world["communes"][0], User.roles == "cadre")
        ).first()
        username = narrow.username
    login(auth, username)
    response = _post(
        client, auth, "/visits/new", {**_valid(world), "unit_id": world["communes"][1]}
    )
    assert response.status_code == 422 and 'id="err-unit_id"' in response.get_data(as_text=True)
    assert client.get(f"/visits/new?unit_id={world['communes'][1]}").status_code == 200


@pytest.mark.parametrize("username", ["secretary", "admin"])
def test_who_does_not_go_out_logs_no_visits(
    client: FlaskClient, auth: AuthActions, world, username: str
) -> None:  # type: ignore[no-untyped-def]
    """A branch's own secretary and an administrator alone do not go to the grassroots
    (tests/test_going_out.py: the province and a commune secretary do)."""
    login(auth, username)
    assert client.get("/visits/new").status_code == 403
    assert _post(client, auth, "/visits/new", _valid(world)).status_code == 403
    assert client.get("/visits").status_code == 403


def test_reports_belong_to_their_cadre(
    app: Flask, client: FlaskClient, auth: AuthActions, world
) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        theirs = db.session.scalars(
            sa.select(Visit).where(
                Visit.user_id != world["users"]["cadre"], Visit.form != "meeting"
            )
        ).first()
        meeting = db.session.scalars(
            sa.select(Visit).where(
                Visit.user_id == world["users"]["cadre"], Visit.form == "meeting"
            )
        ).first()
        theirs_id, meeting_id = theirs.id, meeting.id
    login(auth, "cadre")
    assert client.get(f"/visits/{theirs_id}/report").status_code == 403
    assert _post(client, auth, f"/visits/{theirs_id}/report", {"report": "x"}).status_code == 403
    assert client.get(f"/visits/{meeting_id}/report").status_code == 404
    assert client.get("/visits/999999/report").status_code == 404
    with app.app_context():
        assert db.session.get(Visit, theirs_id).report != "x"


def test_province_sees_a_cadres_visits_in_its_area_only(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    with app.app_context():
        other = make_unit("KHAC", "province", name="Tỉnh khác")
        stranger = make_user("stranger", "cadre", other)
        db.session.add(
            Visit(
                user_id=stranger.id,
                unit_id=other.id,
                form="inspection",
                start_date=TODAY,
                end_date=TODAY,
                days=1,
                created_at=datetime.now(UTC),
            )
        )
        db.session.commit()
        stranger_id = stranger.id
    login(auth, "province")
    assert client.get(f"/visits?user={world['users']['cadre']}").status_code == 200
    assert client.get(f"/visits?user={stranger_id}").status_code == 403
    assert client.get("/visits?user=999999").status_code == 404
    assert client.get("/visits?user=abc").status_code == 404
    page = client.get("/visits/ledger").get_data(as_text=True)
    assert f'data-user-id="{stranger_id}"' not in page
    login(auth, "cadre")
    assert client.get(f"/visits?user={world['users']['province']}").status_code == 403


def test_cadre_nav_links_to_the_visit_log(client: FlaskClient, auth: AuthActions, world) -> None:  # type: ignore[no-untyped-def]
    login(auth, "cadre")
    assert 'href="/visits"' in client.get("/").get_data(as_text=True)
