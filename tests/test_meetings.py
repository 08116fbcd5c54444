"""The branch meeting calendar: declaring, patterns, moving, cancelling, the area's week and
day, the export, the branch page, the field pack — with scope, audit and hostile input."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from coso.extensions import db
from coso.models import AuditEvent, Meeting, MeetingPattern
from tests.builders import small_province
from tests.conftest import AuthActions

TODAY = date(2026, 12, 1)  # a Tuesday; the 2nd Sunday of December is the 13th
PATTERN = {
    "nth": "2",
    "weekday": "6",
    "time": "19:30",
    "place": "Nhà văn hoá ấp 1",
    "link": "",
    "kind": "regular",
    "months": "2",
}


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    app.config["COSO_TODAY"] = TODAY.isoformat()
    with app.app_context():
        data = small_province()
        return {
            "branches": [b.id for b in data["branches"]],
            "communes": [c.id for c in data["communes"]],
            "province": data["province"].id,
        }


def _as(auth: AuthActions, client: FlaskClient, username: str) -> None:
    client.post("/logout", data={"csrf_token": auth.csrf_token()})
    assert auth.login(username).status_code == 302


def _post(client: FlaskClient, auth: AuthActions, url: str, data: dict[str, Any]) -> Any:
    return client.post(url, data={**data, "csrf_token": auth.csrf_token()})


def _meetings(app: Flask, branch_id: int) -> list[tuple[date, str | None, bool, date | None]]:
    with app.app_context():
        rows = db.session.scalars(
            sa.select(Meeting).where(Meeting.branch_id == branch_id).order_by(Meeting.day)
        ).all()
        return [(m.day, m.slot, m.cancelled, m.moved_from) for m in rows]


def _actions(app: Flask) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(AuditEvent.action)
                .where(AuditEvent.action.like("meeting%"))
                .order_by(AuditEvent.id)
            )
        )


def _pack(client: FlaskClient, etag: str | None = None) -> tuple[int, dict[str, Any], str]:
    headers = {"If-None-Match": etag} if etag else {}
    response = client.get("/api/v1/field-pack", headers=headers)
    return response.status_code, response.get_json(silent=True) or {}, response.headers["ETag"]


def _meeting_id(app: Flask, branch_id: int, day: date) -> int:
    with app.app_context():
        return int(
            db.session.scalar(
                sa.select(Meeting.id).where(Meeting.branch_id == branch_id, Meeting.day == day)
            )
        )


def test_a_pattern_and_a_moved_meeting_change_the_cadres_field_pack(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    """Done when (issue 18): a secretary declares a monthly pattern and moves one meeting;
    the cadre's field pack carries the change and its ETag changes."""
    branch = world["branches"][0]
    cadre = app.test_client()
    AuthActions(cadre).login("cadre")
    status, before, etag0 = _pack(cadre)
    assert status == 200 and before["meetings"] == []
    assert all(b["next_meeting"] is None for b in before["branches"])

    _as(auth, client, "secretary")
    response = _post(client, auth, f"/meetings/branch/{branch}/pattern", PATTERN)
    assert response.status_code == 303
    assert [(d, s) for d, s, *_ in _meetings(app, branch)] == [
        (date(2026, 12, 13), "2026-12"),
        (date(2027, 1, 10), "2027-01"),
    ]
    status, after, etag1 = _pack(cadre, etag0)
    assert status == 200 and etag1 != etag0
    entry = next(b for b in after["branches"] if b["id"] == branch)
    assert entry["next_meeting"]["date"] == "2026-12-13"
    assert entry["next_meeting"]["time"] == "19:30"
    assert entry["next_meeting"]["place"] == "Nhà văn hoá ấp 1"
    assert [m["date"] for m in after["meetings"]] == ["2026-12-13", "2027-01-10"]
    assert _pack(cadre, etag1)[0] == 304  # unchanged: nothing to fetch

    first = _meeting_id(app, branch, date(2026, 12, 13))
    moved = {"day": "2026-12-20", "time": "20:00", "place": "Hội trường xã", "kind": "themed"}
    assert _post(client, auth, f"/meetings/{first}/move", moved).status_code == 303
    status, later, etag2 = _pack(cadre, etag1)
    assert status == 200 and etag2 != etag1
    entry = next(b for b in later["branches"] if b["id"] == branch)
    assert entry["next_meeting"] == {
        "id": first,
        "branch_id": branch,
        "date": "2026-12-20",
        "time": "20:00",
        "place": "Hội trường xã",
        "link": None,
        "kind": "themed",
        "moved_from": "2026-12-13",
        "cancelled": False,
        "cancel_reason": None,
    }

    assert (
        _post(client, auth, f"/meetings/{first}/cancel", {"reason": "Mưa bão"}).status_code == 303
    )
    status, last, etag3 = _pack(cadre, etag2)
    assert status == 200 and etag3 != etag2
    entry = next(b for b in last["branches"] if b["id"] == branch)
    assert entry["next_meeting"]["date"] == "2027-01-10"  # the cancelled one is not "next"
    cancelled = next(m for m in last["meetings"] if m["id"] == first)
    assert cancelled["cancelled"] is True and cancelled["cancel_reason"] == "Mưa bão"
    assert _actions(app) == [
        "meeting_pattern.create",
        "meeting_pattern.fill",
        "meeting.move",
        "meeting.cancel",
    ]


def test_filling_again_never_duplicates_nor_overwrites_a_moved_or_cancelled_meeting(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    branch = world["branches"][0]
    _as(auth, client, "commune")
    _post(client, auth, f"/meetings/branch/{branch}/pattern", PATTERN)
    december = _meeting_id(app, branch, date(2026, 12, 13))
    january = _meeting_id(app, branch, date(2027, 1, 10))
    moved = {"day": "2026-12-27", "time": "19:00", "place": "Sân bóng", "kind": "regular"}
    assert _post(client, auth, f"/meetings/{december}/move", moved).status_code == 303
    assert _post(client, auth, f"/meetings/{january}/cancel", {"reason": "Tết"}).status_code == 303
    with app.app_context():
        pattern_id = db.session.scalar(sa.select(MeetingPattern.id))
    for _ in range(2):  # twice: the second adds nothing
        assert _post(client, auth, f"/meetings/pattern/{pattern_id}/fill", {}).status_code == 303
    assert _meetings(app, branch) == [
        (date(2026, 12, 27), "2026-12", False, date(2026, 12, 13)),
        (date(2027, 1, 10), "2027-01", True, None),
        (date(2027, 2, 14), "2027-02", False, None),  # only the month nobody had filled
    ]
    # Ending the pattern removes its untouched coming meetings, keeps the moved and cancelled.
    assert _post(client, auth, f"/meetings/pattern/{pattern_id}/end", {}).status_code == 303
    assert [d for d, *_ in _meetings(app, branch)] == [date(2026, 12, 27), date(2027, 1, 10)]
    assert _post(client, auth, f"/meetings/pattern/{pattern_id}/fill", {}).status_code == 303
    assert len(_meetings(app, branch)) == 2  # an ended pattern fills nothing
    assert _actions(app).count("meeting_pattern.end") == 1


def test_one_meeting_declared_by_hand_shows_on_the_branch_page(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    branch = world["branches"][0]
    _as(auth, client, "secretary")
    online = {
        "day": "2026-12-05",
        "time": "08:00",
        "link": "https://meet.example.org/chi-doan-ap-1",
        "kind": "other",
    }
    assert _post(client, auth, f"/meetings/branch/{branch}/new", online).status_code == 303
    _as(auth, client, "cadre")
    page = client.get(f"/units/{branch}").get_data(as_text=True)
    section = page[page.index('id="next-meeting"') :]
    assert "05/12/2026 08:00" in section and "meet.example.org" in section
    calendar = client.get(f"/meetings/branch/{branch}").get_data(as_text=True)
    assert "05/12/2026" in calendar and 'data-move="' not in calendar  # a cadre only reads
    assert _actions(app) == ["meeting.create"]


def _declare(app: Flask, branch_id: int, day: date, place: str) -> None:
    from datetime import time

    with app.app_context():
        db.session.add(
            Meeting(branch_id=branch_id, day=day, time=time(19, 30), place=place, kind="regular")
        )
        db.session.commit()


def test_the_calendar_shows_the_area_by_week_and_by_day(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    a1, _a2, b1, _b2 = world["branches"]
    _declare(app, a1, date(2026, 12, 3), "Nơi họp A1")
    _declare(app, b1, date(2026, 12, 6), "Nơi họp B1")
    _declare(app, b1, date(2026, 12, 8), "Tuần sau B1")
    _as(auth, client, "cadre")
    week = client.get("/meetings").get_data(as_text=True)  # the week of 1 December
    assert "Nơi họp A1" in week and "Nơi họp B1" in week and "Tuần sau B1" not in week
    following = client.get("/meetings?day=2026-12-08").get_data(as_text=True)
    assert "Tuần sau B1" in following and "Nơi họp A1" not in following
    day = client.get("/meetings?view=day&day=2026-12-03").get_data(as_text=True)
    assert "Nơi họp A1" in day and "Nơi họp B1" not in day
    # The links step by a week, push the URL (the back button), and htmx gets the fragment.
    assert (
        'href="/meetings?day=2026-12-08' in week.replace("&amp;", "&") or "day=2026-12-08" in week
    )
    fragment = client.get("/meetings?day=2026-12-08", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)
    # A branch's secretary sees only the branch; a commune only its own.
    _as(auth, client, "secretary")
    mine = client.get("/meetings").get_data(as_text=True)
    assert "Nơi họp A1" in mine and "Nơi họp B1" not in mine
    assert client.get(f"/meetings?unit={world['communes'][1]}").status_code == 403


@pytest.mark.parametrize(
    "query",
    ["day=2026-13-01", "day=31/02/2026", "day=abc", "day=99999-01-01", "view=month", "unit=abc"],
)
def test_the_calendar_refuses_bad_arguments_with_a_message(
    client: FlaskClient, auth: AuthActions, world: dict[str, Any], query: str
) -> None:
    _as(auth, client, "cadre")
    response = client.get(f"/meetings?{query}")
    assert response.status_code == 422
    assert 'class="field-error"' in response.get_data(as_text=True)


def test_the_province_exports_the_week(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    _declare(app, world["branches"][2], date(2026, 12, 6), "Nơi họp B1")
    _as(auth, client, "province")
    csv = client.get("/meetings/export.csv?day=2026-12-01")
    assert csv.status_code == 200 and "Nơi họp B1" in csv.get_data(as_text=True)
    assert "2026-12-06" in csv.get_data(as_text=True)
    assert "coso-meetings-TINH-2026-11-30-2026-12-06" in csv.headers["Content-Disposition"]
    xlsx = client.get("/meetings/export.xlsx?day=2026-12-01")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    assert client.get("/meetings/export.csv?day=nonsense").status_code == 422
    _as(auth, client, "cadre")
    assert client.get("/meetings/export.csv").status_code == 403


@pytest.mark.parametrize(
    ("user", "branch_index", "status"),
    [
        ("secretary", 0, 303),  # the branch's own secretary
        ("secretary", 1, 403),  # ... not the neighbour's
        ("commune", 1, 303),  # the commune secretary, every branch of the commune
        ("commune", 2, 403),  # ... not another commune's
        ("province", 3, 303),
        ("admin", 3, 303),
        ("cadre", 0, 403),  # a cadre reads the calendar, declares nothing
    ],
)
def test_who_declares_for_which_branch(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    world: dict[str, Any],
    user: str,
    branch_index: int,
    status: int,
) -> None:
    branch = world["branches"][branch_index]
    _as(auth, client, user)
    one = {"day": "2026-12-10", "time": "19:00", "place": "Nhà văn hoá", "kind": "regular"}
    assert _post(client, auth, f"/meetings/branch/{branch}/new", one).status_code == status
    assert _post(client, auth, f"/meetings/branch/{branch}/pattern", PATTERN).status_code == status
    assert len(_meetings(app, branch)) == (3 if status == 303 else 0)


def test_units_that_are_not_branches_and_unknown_ids_are_404(
    client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    _as(auth, client, "province")
    one = {"day": "2026-12-10", "time": "19:00", "place": "Nhà văn hoá", "kind": "regular"}
    for url in (
        f"/meetings/branch/{world['communes'][0]}/new",
        "/meetings/branch/999999/new",
        "/meetings/branch/99999999999999999999/new",
    ):
        assert _post(client, auth, url, one).status_code == 404, url
    assert client.get(f"/meetings/branch/{world['communes'][0]}").status_code == 404
    assert client.get("/meetings/424242/move").status_code == 404
    assert _post(client, auth, "/meetings/424242/cancel", {"reason": "x"}).status_code == 404
    assert _post(client, auth, "/meetings/pattern/424242/fill", {}).status_code == 404


HOSTILE_ONE = [
    ({"day": ""}, "day"),
    ({"day": "2026-13-01"}, "day"),
    ({"day": "31/02/2026"}, "day"),
    ({"day": "2026-11-30"}, "day"),  # yesterday
    ({"day": "2029-01-01"}, "day"),  # years ahead
    ({"day": "0001-01-01"}, "day"),
    ({"place": "Nhà\x00văn hoá"}, None),  # NUL: refused before any view (coso.errors)
    ({"time": "25:00"}, "time"),
    ({"time": "7pm"}, "time"),
    ({"time": ""}, "time"),
    ({"kind": "party"}, "kind"),
    ({"place": "", "link": ""}, "place"),
    ({"place": "", "link": "javascript:alert(1)"}, "link"),
    ({"place": "", "link": "ftp://example.org/x"}, "link"),
    ({"place": "x" * 201}, "place"),
    ({"place": "   ", "link": "   "}, "place"),
]


@pytest.mark.parametrize(("change", "field"), HOSTILE_ONE)
def test_hostile_meetings_store_nothing_and_say_why(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    world: dict[str, Any],
    change: dict[str, str],
    field: str | None,
) -> None:
    branch = world["branches"][0]
    _as(auth, client, "secretary")
    one = {"day": "2026-12-10", "time": "19:00", "place": "Nhà văn hoá", "kind": "regular"}
    response = _post(client, auth, f"/meetings/branch/{branch}/new", {**one, **change})
    if field is None:
        assert response.status_code == 400 and _meetings(app, branch) == []
        return
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and f'id="err-m-{field}"' in page, page[:2000]
    assert "Chưa có gì được lưu" in page
    assert _meetings(app, branch) == [] and _actions(app) == []


HOSTILE_PATTERN = [
    ({"nth": "0"}, "nth"),
    ({"nth": "6"}, "nth"),
    ({"nth": "second"}, "nth"),
    ({"nth": ""}, "nth"),
    ({"weekday": "7"}, "weekday"),
    ({"weekday": "-1"}, "weekday"),
    ({"weekday": "Sunday"}, "weekday"),
    ({"months": "0"}, "months"),
    ({"months": "13"}, "months"),
    ({"months": "1e9"}, "months"),
    ({"months": "99999999999999999999999"}, "months"),
    ({"time": "19:60"}, "time"),
    ({"kind": ""}, "kind"),
    ({"place": ""}, "place"),
]


@pytest.mark.parametrize(("change", "field"), HOSTILE_PATTERN)
def test_pattern_nonsense_stores_nothing(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    world: dict[str, Any],
    change: dict[str, str],
    field: str,
) -> None:
    branch = world["branches"][0]
    _as(auth, client, "secretary")
    response = _post(client, auth, f"/meetings/branch/{branch}/pattern", {**PATTERN, **change})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and f'id="err-p-{field}"' in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MeetingPattern)) == 0
    assert _meetings(app, branch) == [] and _actions(app) == []


def test_moving_and_cancelling_refuse_bad_input_and_closed_meetings(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    branch = world["branches"][0]
    _as(auth, client, "secretary")
    _post(client, auth, f"/meetings/branch/{branch}/pattern", PATTERN)
    first = _meeting_id(app, branch, date(2026, 12, 13))
    assert client.get(f"/meetings/{first}/move").status_code == 200
    bad_move = {"day": "2026-11-01", "time": "19:00", "place": "x", "kind": "regular"}
    response = _post(client, auth, f"/meetings/{first}/move", bad_move)
    assert response.status_code == 422 and 'id="err-v-day"' in response.get_data(as_text=True)
    response = _post(client, auth, f"/meetings/{first}/cancel", {"reason": "   "})
    assert response.status_code == 422 and 'id="err-reason"' in response.get_data(as_text=True)
    long = _post(client, auth, f"/meetings/{first}/cancel", {"reason": "x" * 501})
    assert long.status_code == 422
    assert _meetings(app, branch)[0] == (date(2026, 12, 13), "2026-12", False, None)
    assert (
        _post(client, auth, f"/meetings/{first}/cancel", {"reason": "Họp chung"}).status_code == 303
    )
    again = _post(client, auth, f"/meetings/{first}/move", {**bad_move, "day": "2026-12-20"})
    assert again.status_code == 422  # a cancelled meeting is not moved
    assert _meetings(app, branch)[0] == (date(2026, 12, 13), "2026-12", True, None)
    # Someone else's meeting: the neighbour branch's secretary, a cadre.
    _as(auth, client, "cadre")
    assert client.get(f"/meetings/{first}/move").status_code == 403
    assert _post(client, auth, f"/meetings/{first}/cancel", {"reason": "x"}).status_code == 403
    assert _actions(app).count("meeting.cancel") == 1


def test_a_past_meeting_is_neither_moved_nor_cancelled(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    branch = world["branches"][0]
    _declare(app, branch, date(2026, 11, 20), "Đã họp")
    past = _meeting_id(app, branch, date(2026, 11, 20))
    _as(auth, client, "secretary")
    response = _post(client, auth, f"/meetings/{past}/cancel", {"reason": "x"})
    assert response.status_code == 422
    assert re.search(r"already taken place|đã diễn ra", response.get_data(as_text=True))
    assert _meetings(app, branch)[0][2] is False
