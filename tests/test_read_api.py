"""The read API and personal access tokens (issue 21, item 5).

A token reads exactly what its user may see, through every list and filter; revoked,
expired, malformed and a deactivated user's tokens get 401; it opens no page and no write;
lists page by cursor without losing or repeating a row; every bad parameter is a 400 naming
it; each use is attributable (the row's last use, a log line).
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from coso.checklists.service import create_default_template
from coso.evaluations import service as evaluations
from coso.extensions import db
from coso.models import AccessToken, AuditEvent, CorrectiveAction, EvaluationAnswer, User, Visit
from coso.models.types import utcnow
from coso.tokens import rules, service
from tests.builders import make_unit, make_user, payload, small_province, with_checklist
from tests.conftest import AuthActions

# ------------------------------------------------------------------ rules (pure)


def test_a_new_token_is_well_formed_unique_and_only_its_hash_is_kept() -> None:
    one, two = rules.new_token(), rules.new_token()
    assert one != two and one.startswith(rules.PREFIX)
    assert rules.well_formed(one) and rules.well_formed(two)
    assert rules.digest(one) == rules.digest(one) != rules.digest(two)
    assert len(rules.digest(one)) == 64 and one not in rules.digest(one)
    assert rules.hint(one) == one[: rules.HINT_LENGTH]


@pytest.mark.parametrize(
    "text",
    ["", "coso_pat_", "coso_pat_short", "ghp_" + "a" * 40, "coso_pat_" + "a" * 80,
     "coso_pat_" + "é" * 40, "coso_pat_" + "a" * 39 + "!", "coso_pat_" + "a" * 30 + "\x00" * 5],
)  # fmt: skip
def test_what_is_not_a_token_is_refused_before_any_lookup(text: str) -> None:
    assert not rules.well_formed(text)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("Basic dXNlcjpwdw==", None),
        ("Bearer coso_pat_x", "coso_pat_x"),
        ("bearer   coso_pat_x  ", "coso_pat_x"),
        ("Bearer", ""),
    ],
)
def test_the_bearer_header_is_read_as_written(header: str | None, expected: str | None) -> None:
    assert rules.bearer(header) == expected


def test_a_token_works_until_it_expires_or_is_revoked() -> None:
    made = utcnow()
    ends = rules.expiry(made, 30)
    assert ends - made == timedelta(days=30)
    assert rules.usable(ends, None, made)
    assert not rules.usable(ends, None, ends)  # the moment it expires
    assert not rules.usable(ends, made, made + timedelta(seconds=1))
    with pytest.raises(ValueError):
        rules.expiry(made, 5)  # only the lifetimes offered
    assert rules.touch_due(None, made)
    assert not rules.touch_due(made, made + timedelta(seconds=59))
    assert rules.touch_due(made, made + timedelta(seconds=60))


# ------------------------------------------------------------------ the world


def _world(app: Flask) -> dict[str, Any]:
    """The test province with an evaluation in each commune's first branch, an action and
    visits; a second province outside everyone's area with the same."""
    with app.app_context():
        data = with_checklist(small_province())
        users = data["users"]
        other = make_unit("TINH-Z", "province", name="Tỉnh khác")
        other_commune = make_unit("XA-Z", "commune", other)
        other_branch = make_unit("CD-Z1", "branch", other_commune, member_count=20)
        other_cadre = make_user("cadre_z", "cadre", other)
        other_template = create_default_template(other)
        db.session.commit()
        ids: dict[str, Any] = {"branches": [b.id for b in data["branches"]]}
        made = []
        with app.test_request_context():
            for branch, days, values in (
                (data["branches"][0], 3, {"P10": "fail"}),
                (data["branches"][0], 40, {}),
                (data["branches"][2], 5, {"P2": "fail"}),
            ):
                day = (date.today() - timedelta(days=days)).isoformat()
                item = payload(
                    branch.id, data["template"].id, None, values=values, meeting_date=day
                )
                made.append(evaluations.submit(item, users["cadre"]).id)
            outside = evaluations.submit(
                payload(other_branch.id, other_template.id, None), other_cadre
            ).id
        ids.update(
            a1=made[0], a1_old=made[1], b1=made[2], outside=outside,
            commune_a=data["communes"][0].id, commune_b=data["communes"][1].id,
            other=other.id, other_branch=other_branch.id, province=data["province"].id,
        )  # fmt: skip
        db.session.add(
            CorrectiveAction(
                branch_id=data["branches"][0].id,
                evaluation_id=made[0],
                item_code="P10",
                description="Lập sổ biên bản",
                owner="Bí thư",
                due_date=date.today() + timedelta(days=7),
                created_by_id=users["secretary"].id,
            )
        )
        start = date.today() - timedelta(days=2)
        for user, unit in (
            (users["cadre"], data["branches"][0]),
            (users["cadre_b"], data["branches"][2]),
            (other_cadre, other_branch),
        ):
            db.session.add(
                Visit(user_id=user.id, unit_id=unit.id, form="inspection",
                      start_date=start, end_date=start)
            )  # fmt: skip
        db.session.commit()
    return ids


def _token(app: Flask, username: str, days: int = 90) -> str:
    with app.app_context(), app.test_request_context():
        user = db.session.scalar(sa.select(User).where(User.username == username))
        assert user is not None
        _row, secret = service.create(user, f"hệ thống của {username}", days, utcnow())
        db.session.commit()
    return secret


def _get(client: FlaskClient, url: str, token: str | None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return client.get(url, headers=headers)


def _all(client: FlaskClient, url: str, token: str, limit: int = 2) -> list[dict[str, Any]]:
    """Every row of a list, page by page."""
    rows: list[dict[str, Any]] = []
    sep = "&" if "?" in url else "?"
    cursor = None
    for _ in range(200):
        page_url = f"{url}{sep}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        response = _get(client, page_url, token)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert len(body["items"]) <= limit
        rows += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return rows
    raise AssertionError("the cursor never ended")


# ------------------------------------------------------------------ reading with a token


def test_a_token_reads_its_users_area_and_nothing_else(app: Flask, client: FlaskClient) -> None:
    ids = _world(app)
    commune = _token(app, "commune")  # the secretary of XA-A
    province = _token(app, "province")
    branches = {r["id"] for r in _all(client, "/api/v1/branches", commune)}
    assert branches == set(ids["branches"][:2])
    assert {r["id"] for r in _all(client, "/api/v1/branches", province)} == set(ids["branches"])
    evaluated = {r["id"] for r in _all(client, "/api/v1/evaluations", commune)}
    assert evaluated == {ids["a1"], ids["a1_old"]}
    assert ids["outside"] not in {r["id"] for r in _all(client, "/api/v1/evaluations", province)}
    # Another commune, another province: refused, whatever the list.
    for url in ("/api/v1/units", "/api/v1/branches", "/api/v1/evaluations", "/api/v1/answers",
                "/api/v1/actions", "/api/v1/visits"):  # fmt: skip
        assert _get(client, f"{url}?unit={ids['commune_b']}", commune).status_code == 403
        assert _get(client, f"{url}?unit={ids['other']}", province).status_code == 403
        assert _get(client, f"{url}?unit=2147483647", province).status_code == 404
    assert _get(client, f"/api/v1/evaluations/{ids['b1']}", commune).status_code == 403
    assert _get(client, f"/api/v1/evaluations/{ids['outside']}", province).status_code == 403
    detail = _get(client, f"/api/v1/evaluations/{ids['a1']}", commune).get_json()
    assert {a["item_code"]: a["value"] for a in detail["answers"]}["P10"] == "fail"
    assert detail["compliant"] is False


def test_the_branch_list_says_each_state_as_the_province_sees_it(
    app: Flask, client: FlaskClient
) -> None:
    ids = _world(app)
    token = _token(app, "province")
    rows = {r["id"]: r for r in _all(client, "/api/v1/branches", token)}
    a1, a2, b1 = ids["branches"][0], ids["branches"][1], ids["branches"][2]
    assert rows[a1]["state"] == "flagged" and rows[a1]["last_evaluation_id"] == ids["a1"]
    assert rows[a2]["state"] == "never" and rows[a2]["last_evaluation_id"] is None
    assert rows[b1]["state"] == "flagged"
    never = _all(client, "/api/v1/branches?state=never", token)
    assert {r["id"] for r in never} == {a2, ids["branches"][3]}
    assert _get(client, "/api/v1/branches?state=nonsense", token).status_code == 400


def test_every_answer_pages_out_row_for_row(app: Flask, client: FlaskClient) -> None:
    ids = _world(app)
    token = _token(app, "province")
    rows = _all(client, "/api/v1/answers", token, limit=7)
    got = [(r["evaluation_id"], r["item_code"], r["value"], r["note"]) for r in rows]
    with app.app_context():
        expected = [
            tuple(r)
            for r in db.session.execute(
                sa.select(
                    EvaluationAnswer.evaluation_id,
                    EvaluationAnswer.item_code,
                    EvaluationAnswer.value,
                    EvaluationAnswer.note,
                )
                .where(EvaluationAnswer.evaluation_id != ids["outside"])
                .order_by(EvaluationAnswer.evaluation_id, EvaluationAnswer.item_code)
            )
        ]
    assert got == expected and len(got) > 7  # several pages, nothing lost or repeated
    # The period narrows to meetings held in it.
    recent = _all(client, f"/api/v1/evaluations?from={date.today() - timedelta(days=10)}", token)
    assert {r["id"] for r in recent} == {ids["a1"], ids["b1"]}
    old = _all(client, f"/api/v1/evaluations?to={date.today() - timedelta(days=30)}", token)
    assert {r["id"] for r in old} == {ids["a1_old"]}


def test_visits_are_the_areas_for_the_province_and_ones_own_for_a_cadre(
    app: Flask, client: FlaskClient
) -> None:
    _world(app)
    with app.app_context():
        by_user = dict(db.session.execute(sa.select(User.username, User.id)).all())
    province = _all(client, "/api/v1/visits", _token(app, "province"))
    assert {r["user_id"] for r in province} == {by_user["cadre"], by_user["cadre_b"]}
    own = _all(client, "/api/v1/visits", _token(app, "cadre"))
    assert {r["user_id"] for r in own} == {by_user["cadre"]}
    actions = _all(client, "/api/v1/actions?status=open", _token(app, "secretary"))
    assert [a["item_code"] for a in actions] == ["P10"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=abc", "limit"),
        ("cursor=!!!", "cursor"),
        ("cursor=djI6MQ", "cursor"),  # "v2:1": not ours
        ("cursor=djE6LTE", "cursor"),  # "v1:-1"
        ("cursor=" + "A" * 300, "cursor"),
        ("from=2026-13-01", "from"),
        ("from=1900-01-01", "from"),
        ("to=tomorrow", "to"),
        ("from=2026-12-02&to=2026-12-01", "from"),
        ("unit=-1", "unit"),
        ("unit=99999999999", "unit"),
        ("unit=%00", "unit"),
    ],
)
def test_a_bad_parameter_is_a_400_that_names_it(
    app: Flask, client: FlaskClient, query: str, parameter: str
) -> None:
    _world(app)
    token = _token(app, "province")
    response = _get(client, f"/api/v1/evaluations?{query}", token)
    assert response.status_code == 400
    body = response.get_json()
    assert body["parameter"] == parameter and body["message"]


def test_an_answers_cursor_from_elsewhere_is_refused(app: Flask, client: FlaskClient) -> None:
    _world(app)
    token = _token(app, "province")
    first = _get(client, "/api/v1/answers?limit=1", token).get_json()["next_cursor"]
    assert _get(client, f"/api/v1/answers?cursor={first}", token).status_code == 200
    # An id cursor where a (evaluation, item) one belongs, and the other way round.
    by_id = _get(client, "/api/v1/evaluations?limit=1", token).get_json()["next_cursor"]
    assert _get(client, f"/api/v1/answers?cursor={by_id}", token).status_code == 400
    assert _get(client, f"/api/v1/evaluations?cursor={first}", token).status_code == 400


# ------------------------------------------------------------------ when a token opens nothing


def test_revoked_expired_unknown_and_deactivated_tokens_get_401(
    app: Flask, client: FlaskClient
) -> None:
    _world(app)
    revoked, expired, inactive, good = (
        _token(app, "province"), _token(app, "province"), _token(app, "cadre_b"),
        _token(app, "province"),
    )  # fmt: skip
    with app.app_context(), app.test_request_context():
        row = db.session.scalar(
            sa.select(AccessToken).where(AccessToken.token_hash == rules.digest(revoked))
        )
        assert row is not None
        service.revoke(row, row.user, utcnow())
        db.session.execute(
            sa.update(AccessToken)
            .where(AccessToken.token_hash == rules.digest(expired))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.execute(sa.update(User).where(User.username == "cadre_b").values(active=False))
        db.session.commit()
    assert _get(client, "/api/v1/units", good).status_code == 200
    for token in (revoked, expired, inactive, good[:-1] + ("A" if good[-1] != "A" else "B"),
                  "coso_pat_" + "x" * 43, "", "not a token"):  # fmt: skip
        response = _get(client, "/api/v1/units", token)
        assert response.status_code == 401, token
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.get_json()["error"] == "invalid_token"
    assert _get(client, "/api/v1/units", None).status_code == 401  # nothing at all


def test_a_token_opens_no_page_and_no_write(app: Flask, client: FlaskClient) -> None:
    ids = _world(app)
    token = _token(app, "cadre")
    headers = {"Authorization": f"Bearer {token}"}
    page = client.get("/feedback", headers=headers)
    assert page.status_code == 302 and page.headers["Location"].startswith("/login")
    assert client.get("/api/v1/session", headers=headers).status_code == 401
    item = payload(ids["branches"][1], 1, None)
    assert (
        client.post("/api/v1/sync", json={"evaluations": [item]}, headers=headers).status_code
        == 401
    )
    made = client.post("/account/tokens", data={"name": "x"}, headers=headers)
    assert made.status_code in (302, 403)  # the login, or the missing CSRF token: never made
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AccessToken)) == 1
    # Nor does it leave a session behind: the next request without it is anonymous.
    assert client.get("/api/v1/units").status_code == 401


def test_each_use_is_attributable(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    _world(app)
    token = _token(app, "province")
    with caplog.at_level(logging.INFO):
        assert _get(client, "/api/v1/units", token).status_code == 200
    with app.app_context():
        row = db.session.scalar(
            sa.select(AccessToken).where(AccessToken.token_hash == rules.digest(token))
        )
        assert row is not None
        assert row.last_used_at is not None and row.last_used_from == "127.0.0.1"
        line = f"by token {row.id} of user {row.user_id}"
    assert any(line in record.getMessage() for record in caplog.records)


def test_the_read_api_is_rate_limited_per_token(app: Flask, client: FlaskClient) -> None:
    _world(app)
    app.config["READ_API_LIMIT"] = "3 per minute"
    one, two = _token(app, "province"), _token(app, "province")
    for _ in range(3):
        assert _get(client, "/api/v1/units", one).status_code == 200
    limited = _get(client, "/api/v1/units", one)
    assert limited.status_code == 429 and limited.headers.get("Retry-After")
    assert _get(client, "/api/v1/units", two).status_code == 200  # another token, its own count


# ------------------------------------------------------------------ the page /account/tokens


def test_a_token_is_made_shown_once_and_revoked_on_the_page(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    _world(app)
    auth.login("secretary")
    page = client.get("/account/tokens")
    assert page.status_code == 200 and "Mã truy cập" in page.get_data(as_text=True)
    made = client.post(
        "/account/tokens",
        data={"name": "  Bảng tính   của xã ", "days": "30", "csrf_token": auth.csrf_token()},
    )
    assert made.status_code == 201
    html = made.get_data(as_text=True)
    secret = html.split('id="token-secret" class="secret">')[1].split("<")[0]
    assert rules.well_formed(secret)
    assert _get(client, "/api/v1/branches", secret).status_code == 200
    again = client.get("/account/tokens").get_data(as_text=True)
    assert secret not in again and secret[: rules.HINT_LENGTH] in again  # shown only once
    with app.app_context():
        row = db.session.scalar(sa.select(AccessToken))
        assert row is not None and row.name == "Bảng tính của xã"
        assert row.expires_at - row.created_at == timedelta(days=30)
        events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action.like("token.%")))
        assert all(secret not in str(e.details) for e in events)
        token_id = row.id
    revoked = client.post(
        f"/account/tokens/{token_id}/revoke", data={"csrf_token": auth.csrf_token()}
    )
    assert revoked.status_code == 303
    assert _get(client, "/api/v1/branches", secret).status_code == 401
    with app.app_context():
        actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
        assert actions[-2:] == ["token.create", "token.revoke"]


def test_another_users_token_cannot_be_revoked(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    _world(app)
    theirs = _token(app, "province")
    with app.app_context():
        token_id = db.session.scalar(sa.select(AccessToken.id))
    auth.login("cadre")
    response = client.post(
        f"/account/tokens/{token_id}/revoke", data={"csrf_token": auth.csrf_token()}
    )
    assert response.status_code == 404
    assert _get(client, "/api/v1/units", theirs).status_code == 200


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"name": ""}, "name", "Hãy đặt tên"),
        ({"name": "   "}, "name", "Hãy đặt tên"),
        ({"name": "x" * 81}, "name", "81"),
        ({"name": "ok", "days": "-30"}, "days", "thời hạn"),
        ({"name": "ok", "days": "5"}, "days", "thời hạn"),
        ({"name": "ok", "days": "abc"}, "days", "thời hạn"),
        ({"name": "ok", "days": "99999999999999999999"}, "days", "thời hạn"),
    ],
)
def test_a_bad_token_form_says_why_and_stores_nothing(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    form: dict[str, str],
    field: str,
    message: str,
) -> None:
    _world(app)
    auth.login("cadre")
    response = client.post("/account/tokens", data={**form, "csrf_token": auth.csrf_token()})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="err-t-{field}"' in html
    assert message in html or message == "81"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AccessToken)) == 0


def test_a_user_holds_at_most_twenty_live_tokens(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    _world(app)
    for _ in range(rules.MAX_LIVE):
        _token(app, "cadre")
    auth.login("cadre")
    response = client.post(
        "/account/tokens", data={"name": "one more", "csrf_token": auth.csrf_token()}
    )
    assert response.status_code == 422
    with app.app_context():
        count = db.session.scalar(sa.select(sa.func.count()).select_from(AccessToken))
    assert count == rules.MAX_LIVE


def test_a_nul_in_the_token_form_is_refused_before_anything(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    _world(app)
    auth.login("cadre")
    response = client.post(
        "/account/tokens", data={"name": "a\x00b", "csrf_token": auth.csrf_token()}
    )
    assert response.status_code == 400
    assert "NUL" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AccessToken)) == 0
