"""Hostile inputs against the HTML forms and query strings: a clear 4xx in the user's language,
nothing stored; and markup typed into free text comes back escaped on every page that shows it.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from coso.evaluations import service as evaluations
from coso.extensions import db
from coso.models import (
    AuditEvent,
    CorrectiveAction,
    Evaluation,
    EvaluationAnswer,
    Feedback,
    Guidance,
    Unit,
    User,
    Visit,
)
from tests.builders import payload, small_province, with_checklist
from tests.conftest import AuthActions

TODAY = date.today()
TABLES = (
    Evaluation,
    EvaluationAnswer,
    Visit,
    Feedback,
    CorrectiveAction,
    Unit,
    User,
    Guidance,
    AuditEvent,
)
SCRIPT = "<script>alert(1)</script>"
BREAKOUT = '"><img src=x onerror=alert(1)>'


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    with app.app_context():
        data = with_checklist(small_province())
        b11, _b12, b21, _b22 = data["branches"]
        ids = {
            "b11": b11.id,
            "b21": b21.id,
            "template": data["template"].id,
            "guidance": data["guidance"].id,
        }
        ids["ev_b11"] = _evaluate(b11.id, ids, "cadre")
        ids["ev_b21"] = _evaluate(b21.id, ids, "cadre")
        return ids


def _user(username: str) -> User:
    user = db.session.scalar(sa.select(User).where(User.username == username))
    assert user is not None
    return user


def _evaluate(branch_id: int, ids: dict[str, int], username: str, **kw: Any) -> int:
    """One stored evaluation with P10 failed, through the real service."""
    item = payload(branch_id, ids["template"], ids["guidance"], values={"P10": "fail"}, **kw)
    from flask import current_app

    with current_app.test_request_context():
        result = evaluations.submit(item, _user(username))
        assert result.id is not None, result.errors
        db.session.commit()
        return result.id


def counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        return {
            model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in TABLES
        }


def choose_language(app: Flask, username: str, lang: str) -> None:
    with app.app_context():
        _user(username).locale = lang
        db.session.commit()


def checklist_form(world: dict[str, Any], **changes: str) -> dict[str, str]:
    """The checklist form as the page posts it, every choice item passed."""
    from coso.checklists.rules import DEFAULT_ITEMS

    form = {
        "uuid": "5a0c4f4e-8a49-4d5e-9f57-1d0b3c1f2a77",
        "template_id": str(world["template"]),
        "guidance_id": str(world["guidance"]),
        "meeting_date": TODAY.isoformat(),
        "meeting_type": "regular",
        "mode": "in_person",
        "members_total": "20",
        "members_present": "15",
    }
    for item in DEFAULT_ITEMS:
        if item["kind"] == "choice":
            form[f"answer-{item['code']}"] = "pass"
    form.update(changes)
    return form


def action_form(**changes: str) -> dict[str, str]:
    form = {
        "description": "Lập sổ biên bản mới",
        "owner": "Nguyễn Văn A",
        "due_date": (TODAY + timedelta(days=7)).isoformat(),
        "item_code": "P10",
    }
    form.update(changes)
    return form


NUL = (
    "Dữ liệu gửi lên có ký tự không được phép (NUL).",
    "What you sent contains a character that is not allowed (NUL).",
)
NOT_VALID = ("Giá trị không hợp lệ.", "This value is not valid.")
OUTSIDE = ("Đơn vị này nằm ngoài phạm vi phụ trách của bạn.", "This unit is outside your area.")
NOT_FOUND = ("Trang này không tồn tại.", "This page does not exist.")


@dataclass(frozen=True)
class FormCase:
    """``method`` to ``url`` (``{ev_b11}``-style ids filled from the world) as ``user``."""

    user: str
    url: str
    data: Callable[[dict[str, Any]], dict[str, str]] | None
    status: int
    vi: str
    en: str
    method: str = "POST"
    extra: dict[str, str] = field(default_factory=dict)


def checklist(**changes: str) -> Callable[[dict[str, Any]], dict[str, str]]:
    return lambda world: checklist_form(world, **changes)


def action(**changes: str) -> Callable[[dict[str, Any]], dict[str, str]]:
    return lambda world: action_form(**changes)


CASES: dict[str, FormCase] = {
    "checklist-nul-in-notes": FormCase(
        "cadre", "/evaluate/{b11}", checklist(notes="a\x00b"), 400, *NUL
    ),
    "checklist-nul-in-answer-note": FormCase(
        "cadre", "/evaluate/{b11}", checklist(**{"note-P1": "\x00"}), 400, *NUL
    ),
    "checklist-negative-members": FormCase(
        "cadre",
        "/evaluate/{b11}",
        checklist(members_total="-5"),
        422,
        "Nhập số từ 1 đến 5000.",
        "Enter a number from 1 to 5000.",
    ),
    "checklist-absurd-members-present": FormCase(
        "cadre",
        "/evaluate/{b11}",
        checklist(members_present="9" * 40),
        422,
        "Nhập số từ 0 đến 5000.",
        "Enter a number from 0 to 5000.",
    ),
    "checklist-members-as-words": FormCase(
        "cadre", "/evaluate/{b11}", checklist(members_total="hai mươi"), 422, *NOT_VALID
    ),
    "checklist-meeting-in-year-9999": FormCase(
        "cadre",
        "/evaluate/{b11}",
        checklist(meeting_date="9999-12-31"),
        422,
        "Nhập ngày trong khoảng từ năm 2000 đến 2100.",
        "Enter a date from the year 2000 to 2100.",
    ),
    "checklist-meeting-in-year-1": FormCase(
        "cadre",
        "/evaluate/{b11}",
        checklist(meeting_date="0001-01-01"),
        422,
        "Nhập ngày trong khoảng từ năm 2000 đến 2100.",
        "Enter a date from the year 2000 to 2100.",
    ),
    "checklist-notes-over-4000": FormCase(
        "cadre",
        "/evaluate/{b11}",
        checklist(notes="ệ" * 4001),
        422,
        "Tối đa 4000 ký tự.",
        "At most 4000 characters.",
    ),
    "checklist-branch-outside-scope": FormCase(
        "cadre_b", "/evaluate/{b11}", checklist(), 403, *OUTSIDE
    ),
    "reply-nul": FormCase(
        "secretary", "/feedback/{ev_b11}/reply", lambda w: {"reply": "ok\x00"}, 400, *NUL
    ),
    "reply-over-2000": FormCase(
        "secretary",
        "/feedback/{ev_b11}/reply",
        lambda w: {"reply": "x" * 2001},
        422,
        "Từ 1 đến 2000 ký tự.",
        "Between 1 and 2000 characters.",
    ),
    "reply-to-unknown-evaluation": FormCase(
        "secretary", "/feedback/2147483647/reply", lambda w: {"reply": "ok"}, 404, *NOT_FOUND
    ),
    "reply-outside-scope": FormCase(
        "secretary", "/feedback/{ev_b21}/reply", lambda w: {"reply": "ok"}, 403, *OUTSIDE
    ),
    "action-due-in-year-9999": FormCase(
        "secretary",
        "/feedback/{ev_b11}/actions",
        action(due_date="9999-12-31"),
        422,
        "Nhập ngày trong khoảng từ năm 2000 đến 2100.",
        "Enter a date from the year 2000 to 2100.",
    ),
    "action-due-in-1900": FormCase(
        "secretary",
        "/feedback/{ev_b11}/actions",
        action(due_date="1900-01-01"),
        422,
        "Nhập ngày trong khoảng từ năm 2000 đến 2100.",
        "Enter a date from the year 2000 to 2100.",
    ),
    "action-sql-item-code": FormCase(
        "secretary",
        "/feedback/{ev_b11}/actions",
        action(item_code="P10' OR '1'='1"),
        422,
        "Hãy chọn một tiêu chí trong danh sách.",
        "Choose an item from the list.",
    ),
    "unit-rename-nul": FormCase(
        "admin", "/admin/units/{b11}/edit", lambda w: {"name": "Chi đoàn\x00"}, 400, *NUL
    ),
    "query-superscript-digit-unit": FormCase(
        "province",
        "/feedback?unit=%C2%B2",
        None,
        422,
        "Hãy chọn một đơn vị trong danh sách.",
        "Choose a unit from the list.",
        method="GET",
    ),
    "query-nul-search": FormCase("cadre", "/evaluate?q=%00", None, 400, *NUL, method="GET"),
}


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("name", list(CASES))
def test_hostile_form_input_is_refused_and_nothing_is_stored(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    world: dict[str, Any],
    name: str,
    lang: str,
) -> None:
    case = CASES[name]
    choose_language(app, case.user, lang)
    auth.login(case.user)
    url = case.url.format(**world)
    before = counts(app)
    if case.method == "GET":
        response = client.get(url)
    else:
        data = {**(case.data(world) if case.data else {}), "csrf_token": auth.csrf_token()}
        response = client.post(url, data=data)
    assert response.status_code == case.status
    page = response.get_data(as_text=True)
    assert html.escape(case.vi if lang == "vi" else case.en) in page
    assert counts(app) == before


def test_nul_in_the_login_form_is_a_clear_400(
    app: Flask, client: FlaskClient, world: dict[str, Any]
) -> None:
    import re

    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    before = counts(app)
    response = client.post(
        "/login",
        data={"username": "cadre\x00", "password": "x", "csrf_token": token.group(1)},
    )
    assert response.status_code == 400
    assert NUL[0] in response.get_data(as_text=True)
    assert counts(app) == before


# ----------------------------------------------- markup in free text comes back escaped


def _escaped_everywhere(pages: dict[str, str], texts: list[str]) -> None:
    for url, page in pages.items():
        for text in texts:
            assert text not in page, f"{url} shows {text!r} unescaped"
        assert any(html.escape(text) in page for text in texts), f"{url} does not show it"


def _get(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def test_markup_in_evaluation_text_is_escaped_on_every_page(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    hostile = SCRIPT + BREAKOUT
    item = payload(
        world["b11"],
        world["template"],
        world["guidance"],
        values={"P10": "fail"},
        notes=hostile,
        good_practice=hostile,
        recommend_practice=True,
    )
    for answer in item["answers"]:
        if answer["item"] == "P10":
            answer["note"] = hostile
    auth.login("cadre")
    result = client.post(
        "/api/v1/sync", json={"evaluations": [item]}, headers={"X-CSRFToken": auth.csrf_token()}
    ).get_json()["results"][0]
    assert result["status"] == "created"
    ev = result["id"]
    with app.app_context():
        stored = db.session.get(Evaluation, ev)
        assert stored is not None and stored.notes == hostile  # stored as typed, as text
    pages = {f"/evaluations/{ev}": _get(client, f"/evaluations/{ev}")}
    auth.logout()
    auth.login("secretary")
    pages[f"/feedback/{ev}"] = _get(client, f"/feedback/{ev}")
    auth.logout()
    auth.login("province")
    for url in ("/dashboard/practices", f"/dashboard/branch/{world['b11']}"):
        response = client.get(url)
        if response.status_code == 200:
            pages[url] = response.get_data(as_text=True)
    _escaped_everywhere(pages, [SCRIPT, BREAKOUT])


def test_markup_in_replies_and_actions_is_escaped_on_every_page(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    ev = world["ev_b11"]
    auth.login("secretary")
    token = auth.csrf_token()
    reply = client.post(f"/feedback/{ev}/reply", data={"reply": SCRIPT, "csrf_token": token})
    assert reply.status_code in (200, 303)
    made = client.post(
        f"/feedback/{ev}/actions",
        data={**action_form(description=BREAKOUT, owner=SCRIPT), "csrf_token": token},
    )
    assert made.status_code in (200, 303)
    with app.app_context():
        assert db.session.scalar(sa.select(CorrectiveAction.description)) == BREAKOUT
    pages = {url: _get(client, url) for url in (f"/feedback/{ev}", "/feedback/actions")}
    auth.logout()
    auth.login("cadre")
    pages[f"/evaluations/{ev}"] = _get(client, f"/evaluations/{ev}")
    _escaped_everywhere(pages, [SCRIPT, BREAKOUT])


def test_markup_in_admin_names_is_escaped_on_every_page(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    auth.login("admin")
    token = auth.csrf_token()
    renamed = client.post(
        f"/admin/units/{world['b11']}/edit",
        data={"name": SCRIPT + BREAKOUT, "code": "CD-A1", "kind": "branch", "csrf_token": token},
    )
    assert renamed.status_code in (200, 303)
    with app.app_context():
        assert db.session.get(Unit, world["b11"]).name == SCRIPT + BREAKOUT
        guidance = db.session.get(Guidance, world["guidance"])
        guidance.title = SCRIPT + BREAKOUT  # as the guidance form stores it
        db.session.commit()
    pages = {
        url: _get(client, url)
        for url in (f"/admin/units/{world['b11']}", "/admin/units/search?q=CD-A", "/admin/guidance")
    }
    auth.logout()
    auth.login("cadre")
    for url in ("/evaluate", f"/evaluate/{world['b11']}", f"/evaluations/{world['ev_b11']}"):
        pages[url] = _get(client, url)
    _escaped_everywhere(pages, [SCRIPT, BREAKOUT])
