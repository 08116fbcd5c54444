"""Secretaries see feedback and answer it: inbox, acknowledgement, replies, corrective actions.

Every route of the feedback area is also checked against every unit it could leak:
a branch secretary never reaches another branch, a commune secretary never
another commune (``test_scope_*``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from coso.evaluations import service as evaluations
from coso.extensions import db
from coso.feedback import alerts, rules
from coso.feedback.alerts import alerts_for
from coso.feedback.rules import DECLINED, DONE, OPEN, PROPOSED, Alerts
from coso.judging.queries import Thresholds
from coso.models import AuditEvent, CorrectiveAction, Evaluation, Feedback, UnitSettings, User
from tests.builders import payload, small_province, with_checklist
from tests.conftest import AuthActions

TODAY = date.today()
HX = {"HX-Request": "true"}


# ------------------------------------------------------------------ helpers


def _user(username: str) -> User:
    user = db.session.scalar(sa.select(User).where(User.username == username))
    assert user is not None
    return user


def evaluate(
    app: Flask,
    branch_id: int,
    template_id: int,
    guidance_id: int | None = None,
    username: str = "cadre",
    **kw: Any,
) -> int:
    """Store one evaluation through the real service (P10 failed with a note unless told)."""
    values = kw.pop("values", {"P10": "fail", "P7": "partial"})
    item = payload(branch_id, template_id, guidance_id, values=values, **kw)
    for answer in item["answers"]:
        if answer["item"] == "P10":
            answer["note"] = "Không có sổ biên bản."
    with app.test_request_context():
        result = evaluations.submit(item, _user(username))
        assert result.id is not None, result.errors
        db.session.commit()
        return result.id


def add_action(branch_id: int, evaluation_id: int | None, status: str = OPEN, **kw: Any) -> int:
    action = CorrectiveAction(
        branch_id=branch_id,
        evaluation_id=evaluation_id,
        item_code=kw.pop("item_code", "P10"),
        description=kw.pop("description", "Lập sổ biên bản"),
        owner=kw.pop("owner", "Bí thư"),
        due_date=kw.pop("due_date", TODAY + timedelta(days=10)),
        status=status,
        created_by_id=kw.pop("created_by_id", _user("cadre").id),
        **kw,
    )
    db.session.add(action)
    db.session.commit()
    return action.id


def csrf(client: FlaskClient) -> str:
    return AuthActions(client).csrf_token()


def post(client: FlaskClient, url: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
    return client.post(url, data={"csrf_token": csrf(client), **(data or {})}, **kw)


@contextmanager
def count_queries(app: Flask) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    """The small province; in b11, b12 and b21 an evaluation, an open and a proposed action."""
    with app.app_context():
        data = with_checklist(small_province())
        template = data["template"].id
        b11, b12, b21, b22 = (b.id for b in data["branches"])
        c1, c2 = (c.id for c in data["communes"])
        ids: dict[str, Any] = {
            "template": template,
            "province": data["province"].id,
            "c1": c1,
            "c2": c2,
            "b11": b11,
            "b12": b12,
            "b21": b21,
            "b22": b22,
        }
        for name in ("b11", "b12", "b21"):
            ev = evaluate(
                app, ids[name], template, data["guidance"].id, notes="Cần ghi biên bản đầy đủ."
            )
            ids[f"ev_{name}"] = ev
            ids[f"open_{name}"] = add_action(ids[name], ev)
            ids[f"proposed_{name}"] = add_action(ids[name], ev, PROPOSED)
        return ids


@pytest.fixture
def as_user(client: FlaskClient, auth: AuthActions, world: dict) -> Any:
    def login(username: str) -> FlaskClient:
        auth.login(username)
        return client

    return login


# -------------------------------------------------------------------- rules


@pytest.mark.parametrize(
    ("status", "due", "shown"),
    [
        (OPEN, TODAY - timedelta(days=1), rules.OVERDUE),
        (OPEN, TODAY, OPEN),  # due today is not late yet
        (OPEN, TODAY + timedelta(days=1), OPEN),
        (DONE, TODAY - timedelta(days=9), DONE),
        (PROPOSED, TODAY - timedelta(days=9), PROPOSED),
        (DECLINED, TODAY - timedelta(days=9), DECLINED),
    ],
)
def test_overdue_is_derived_from_status_and_date(status: str, due: date, shown: str) -> None:
    assert rules.shown_status(status, due, TODAY) == shown
    assert rules.is_overdue(status, due, TODAY) == (shown == rules.OVERDUE)


@pytest.mark.parametrize(
    ("verb", "current", "result"),
    [("accept", PROPOSED, OPEN), ("decline", PROPOSED, DECLINED), ("close", OPEN, DONE)],
)
def test_allowed_transitions(verb: str, current: str, result: str) -> None:
    assert rules.next_status(verb, current) == result


@pytest.mark.parametrize(
    ("verb", "current"),
    [
        ("accept", OPEN),
        ("decline", DONE),
        ("close", PROPOSED),
        ("close", DONE),
        ("accept", DECLINED),
    ],
)
def test_refused_transitions(verb: str, current: str) -> None:
    with pytest.raises(rules.TransitionError):
        rules.next_status(verb, current)


def test_lateness_counts_whole_days_after_receipt() -> None:
    received = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert not rules.is_late(received, date(2026, 3, 8), 7)  # 7 days: not longer than 7
    assert rules.is_late(received, date(2026, 3, 9), 7)
    assert rules.is_unread(acknowledged=False, superseded=False)
    assert not rules.is_unread(acknowledged=False, superseded=True)


def test_due_date_limits() -> None:
    assert rules.due_date_problem(TODAY - timedelta(days=1), TODAY) == "past"
    assert rules.due_date_problem(TODAY, TODAY) is None
    assert (
        rules.due_date_problem(TODAY + timedelta(days=rules.MAX_DUE_DAYS + 1), TODAY) == "too_far"
    )
    assert rules.default_due(TODAY) == TODAY + timedelta(days=30)


# ------------------------------------------------------------ alerts, notices


def test_alerts_for_counts_per_branch_in_two_grouped_queries(app: Flask, world: dict) -> None:
    with app.app_context():
        add_action(world["b11"], world["ev_b11"], due_date=TODAY - timedelta(days=2))
        add_action(world["b11"], world["ev_b11"], DONE, due_date=TODAY - timedelta(days=2))
        ids = [world[k] for k in ("b11", "b12", "b21", "b22")]
        with count_queries(app) as statements:
            found = alerts_for(ids, TODAY, Thresholds())  # the defaults, already resolved
        assert len(statements) == 2
        assert found[world["b11"]] == Alerts(
            open_actions=2, overdue_actions=1, proposed_actions=1, unacknowledged=1
        )
        assert found[world["b22"]] == Alerts()
        assert found[world["b11"]].shown and not found[world["b12"]].shown
        # Resolving each branch's own setting costs one small query more, not one per branch.
        with count_queries(app) as statements:
            alerts_for(ids, TODAY)
        assert len(statements) == 3


def test_late_acknowledgement_follows_each_branchs_setting(app: Flask, world: dict) -> None:
    with app.app_context():
        eight_days_ago = datetime.now(UTC) - timedelta(days=8)
        db.session.execute(sa.update(Evaluation).values(received_at=eight_days_ago))
        db.session.add(UnitSettings(unit_id=world["c2"], values={"unack_days": 10}))
        db.session.commit()
        found = alerts_for([world["b11"], world["b21"]], TODAY)
        assert found[world["b11"]].unacknowledged_late == 1  # 8 days > default 7
        assert found[world["b21"]].unacknowledged_late == 0  # 8 days <= 10 in commune 2
        assert found[world["b21"]].unacknowledged == 1


def test_a_corrected_evaluation_waits_for_nobody(app: Flask, world: dict) -> None:
    with app.app_context():
        original = db.session.get(Evaluation, world["ev_b12"])
        assert original is not None
        evaluate(app, world["b12"], world["template"], supersedes=original.uuid)
        found = alerts_for([world["b12"]], TODAY, Thresholds())
        assert found[world["b12"]].unacknowledged == 1  # only the correction


def test_notice_counts_are_one_statement(app: Flask, world: dict) -> None:
    with app.app_context():
        add_action(world["b11"], world["ev_b11"], due_date=TODAY - timedelta(days=1))
        add_action(world["b21"], world["ev_b21"], due_date=TODAY - timedelta(days=1))
        user = _user("secretary")
        with count_queries(app) as statements:
            secretary = alerts.notices(user, TODAY)
        assert len(statements) == 1
        assert (secretary.unread, secretary.overdue) == (1, 1)
        commune = alerts.notices(_user("commune"), TODAY)
        assert (commune.unread, commune.overdue) == (2, 1)
        assert alerts.notices(_user("cadre"), TODAY).replies == 0


# -------------------------------------------------------------------- inbox


def test_inbox_lists_my_branch_only_newest_first_unread_marked(as_user: Any, world: dict) -> None:
    client = as_user("secretary")
    page = client.get("/feedback").get_data(as_text=True)
    assert f'data-evaluation-id="{world["ev_b11"]}"' in page
    assert f'data-evaluation-id="{world["ev_b12"]}"' not in page
    assert "fb-unread" in page
    assert 'id="feedback-count"' in page  # the badge


def test_commune_inbox_holds_every_branch_of_the_commune(
    app: Flask, as_user: Any, world: dict
) -> None:
    later = evaluate(app, world["b11"], world["template"])
    client = as_user("commune")
    page = client.get("/feedback").get_data(as_text=True)
    ids = [int(i) for i in re.findall(r'data-evaluation-id="(\d+)"', page)]
    assert ids[0] == later  # newest received first
    assert set(ids) == {later, world["ev_b11"], world["ev_b12"]}
    assert 'class="state state-flagged"' in page  # the branch's state beside each


def test_inbox_filters_and_htmx_fragment(app: Flask, as_user: Any, world: dict) -> None:
    with app.app_context():
        db.session.add(Feedback(evaluation_id=world["ev_b12"], user_id=_user("commune").id))
        db.session.commit()
    client = as_user("commune")
    fragment = client.get("/feedback?show=unread", headers=HX)
    text = fragment.get_data(as_text=True)
    assert "<html" not in text and 'id="inbox"' in text
    assert f'data-evaluation-id="{world["ev_b11"]}"' in text
    assert f'data-evaluation-id="{world["ev_b12"]}"' not in text
    narrowed = client.get(f"/feedback?unit={world['b12']}").get_data(as_text=True)
    assert re.findall(r'data-evaluation-id="(\d+)"', narrowed) == [str(world["ev_b12"])]


@pytest.mark.parametrize("query", ["show=everything", "unit=x1"])
def test_inbox_bad_query_is_422_with_a_message(as_user: Any, query: str) -> None:
    response = as_user("commune").get(f"/feedback?{query}")
    assert response.status_code == 422
    assert 'class="field-error"' in response.get_data(as_text=True)


def test_home_panel_and_branch_list_show_alerts(app: Flask, as_user: Any, world: dict) -> None:
    with app.app_context():
        add_action(world["b11"], world["ev_b11"], due_date=TODAY - timedelta(days=3))
    client = as_user("secretary")
    home = client.get("/").get_data(as_text=True)
    assert 'id="secretary-panel"' in home
    assert re.search(r'id="panel-overdue">1<', home)
    assert f'data-branch-alerts="{world["b11"]}"' in home
    cadre_page = as_user("cadre").get("/evaluate").get_data(as_text=True)
    assert f'data-branch-alerts="{world["b11"]}"' in cadre_page


# ------------------------------------------------------------- feedback page


def test_feedback_page_shows_what_was_found(app: Flask, as_user: Any, world: dict) -> None:
    with app.app_context():
        ev = db.session.get(Evaluation, world["ev_b11"])
        assert ev is not None
        ev.good_practice = "Hái hoa dân chủ"
        db.session.commit()
    page = as_user("secretary").get(f"/feedback/{world['ev_b11']}").get_data(as_text=True)
    for marker in ('id="fb-score"', 'id="fb-procedure-score"', 'id="fb-content-score"'):
        assert marker in page
    assert 'id="fb-item-P10"' in page and "Không có sổ biên bản." in page
    assert 'id="fb-item-P7"' in page  # partial items too
    assert 'id="fb-missed"' in page and "Chủ đề 4" in page  # T4 was not covered
    assert "Cần ghi biên bản đầy đủ." in page and "Hái hoa dân chủ" in page
    assert 'id="acknowledge"' in page and 'id="reply-form"' in page
    assert "js/feedback.js" in page and "data-print" in page


def test_province_reads_but_cannot_answer(as_user: Any, world: dict) -> None:
    client = as_user("province")
    page = client.get(f"/feedback/{world['ev_b21']}").get_data(as_text=True)
    assert 'id="fb-score"' in page and 'id="acknowledge"' not in page
    assert post(client, f"/feedback/{world['ev_b21']}/acknowledge").status_code == 403
    assert client.get("/feedback").status_code == 200  # the list, read-only


def test_acknowledge_once_and_audit(app: Flask, as_user: Any, world: dict) -> None:
    client = as_user("secretary")
    url = f"/feedback/{world['ev_b11']}/acknowledge"
    first = post(client, url)
    assert first.status_code == 303
    again = post(client, url, headers=HX)
    assert again.status_code == 200 and 'id="response"' in again.get_data(as_text=True)
    with app.app_context():
        rows = db.session.scalars(sa.select(Feedback)).all()
        assert len(rows) == 1 and rows[0].user_id == _user("secretary").id
        actions = db.session.scalars(sa.select(AuditEvent.action)).all()
        assert actions.count("feedback.acknowledge") == 1
    assert "fb-unread" not in client.get("/feedback").get_data(as_text=True)


@pytest.mark.parametrize("text", ["", "   ", "x" * 2001])
def test_bad_reply_is_422_and_stores_nothing(
    app: Flask, as_user: Any, world: dict, text: str
) -> None:
    client = as_user("secretary")
    response = post(client, f"/feedback/{world['ev_b11']}/reply", {"reply": text})
    assert response.status_code == 422
    assert 'id="err-reply"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Feedback)) == 0


def test_reply_reaches_the_cadre(
    app: Flask, client: FlaskClient, as_user: Any, world: dict
) -> None:
    secretary = as_user("secretary")
    response = post(
        secretary,
        f"/feedback/{world['ev_b11']}/reply",
        {"reply": "Chi đoàn sẽ khắc phục."},
        headers=HX,
    )
    assert response.status_code == 200
    assert "Chi đoàn sẽ khắc phục." in response.get_data(as_text=True)
    with app.app_context():
        feedback = db.session.scalar(sa.select(Feedback))
        assert feedback is not None and feedback.acknowledged_at and feedback.reply_read_at is None
    AuthActions(client).logout()
    cadre = as_user("cadre")
    home = cadre.get("/").get_data(as_text=True)
    assert re.search(r'id="replies-count"[^>]*>1<', home)
    result = cadre.get(f"/evaluations/{world['ev_b11']}").get_data(as_text=True)
    assert 'id="result-feedback"' in result and "Chi đoàn sẽ khắc phục." in result
    assert "fb-tag-new" in result
    replies = cadre.get("/feedback/replies").get_data(as_text=True)
    assert "Chi đoàn sẽ khắc phục." in replies and "fb-tag-new" in replies
    # Showing the page changes nothing (a GET is safe, issue 17 item 14) ...
    assert re.search(r'id="replies-count"[^>]*>1<', cadre.get("/").get_data(as_text=True))
    with app.app_context():
        assert db.session.scalar(sa.select(Feedback.reply_read_at)) is None
    # ... its button (a POST with the CSRF token) marks the replies read: the badge is gone.
    ids = re.findall(r'name="feedback_id" value="(\d+)"', replies)
    token = re.search(r'name="csrf_token" value="([^"]+)"', replies).group(1)
    done = cadre.post("/feedback/replies/read", data={"csrf_token": token, "feedback_id": ids})
    assert done.status_code == 303
    assert re.search(
        r'data-count-box="replies" hidden><span id="replies-count"[^>]*>0<',
        cadre.get("/").get_data(as_text=True),
    )
    with app.app_context():
        assert db.session.scalar(sa.select(Feedback.reply_read_at)) is not None


def test_cadre_marks_a_reply_read_on_the_result_page(app: Flask, as_user: Any, world: dict) -> None:
    with app.app_context():
        db.session.add(
            Feedback(
                evaluation_id=world["ev_b21"],
                user_id=_user("commune").id,
                reply="Đã tiếp thu",
                replied_at=datetime.now(UTC),
            )
        )
        db.session.commit()
    client = as_user("cadre")
    response = post(client, f"/feedback/{world['ev_b21']}/read", headers=HX)
    assert response.status_code == 200 and "fb-tag-new" not in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(Feedback.reply_read_at)) is not None


# ------------------------------------------------------------------ actions


def _action_form(**overrides: Any) -> dict[str, Any]:
    form = {
        "description": "Lập sổ biên bản mới",
        "owner": "Nguyễn Văn A",
        "due_date": (TODAY + timedelta(days=7)).isoformat(),
        "item_code": "P10",
    }
    form.update(overrides)
    return form


def test_secretary_adds_an_action(app: Flask, as_user: Any, world: dict) -> None:
    client = as_user("secretary")
    response = post(client, f"/feedback/{world['ev_b11']}/actions", _action_form(), headers=HX)
    assert response.status_code == 200
    assert "Lập sổ biên bản mới" in response.get_data(as_text=True)
    with app.app_context():
        action = db.session.scalar(
            sa.select(CorrectiveAction).where(CorrectiveAction.description == "Lập sổ biên bản mới")
        )
        assert action is not None
        assert action.status == OPEN and action.accepted_by_id == _user("secretary").id
        assert action.branch_id == world["b11"] and action.item_code == "P10"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("description", ""),
        ("description", "x" * 1001),
        ("owner", " "),
        ("due_date", "hôm qua"),
        ("due_date", (TODAY - timedelta(days=1)).isoformat()),
        ("due_date", (TODAY + timedelta(days=400)).isoformat()),
        ("item_code", "P1"),  # passed: not an item to correct
        ("item_code", "ZZ"),
    ],
)
def test_bad_action_is_422_beside_the_field(
    app: Flask, as_user: Any, world: dict, field: str, value: str
) -> None:
    client = as_user("secretary")
    response = post(client, f"/feedback/{world['ev_b11']}/actions", _action_form(**{field: value}))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="err-{field}"' in page
    assert "<html" in page  # the whole page without htmx
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CorrectiveAction)) == 6


def test_cadre_proposes_on_a_failed_item_and_secretary_accepts(
    app: Flask, client: FlaskClient, as_user: Any, world: dict
) -> None:
    cadre = as_user("cadre")
    assert 'id="propose-form"' in cadre.get(f"/evaluations/{world['ev_b11']}").get_data(
        as_text=True
    )
    url = f"/feedback/{world['ev_b11']}/propose"
    partial = post(cadre, url, _action_form(item_code="P7"))  # partial, not failed
    assert partial.status_code == 422 and 'id="err-item_code"' in partial.get_data(as_text=True)
    response = post(cadre, url, _action_form(description="Mua sổ biên bản"))
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/evaluations/{world['ev_b11']}#result-feedback")
    with app.app_context():
        action = db.session.scalar(
            sa.select(CorrectiveAction).where(CorrectiveAction.description == "Mua sổ biên bản")
        )
        assert action is not None and action.status == PROPOSED
        action_id = action.id
    AuthActions(client).logout()
    secretary = as_user("secretary")
    due = (TODAY + timedelta(days=14)).isoformat()
    accepted = post(
        secretary,
        f"/feedback/actions/{action_id}/accept",
        {"owner": "Phó bí thư", "due_date": due},
        headers=HX,
    )
    assert accepted.status_code == 200 and 'data-status="open"' in accepted.get_data(as_text=True)
    with app.app_context():
        action = db.session.get(CorrectiveAction, action_id)
        assert action is not None
        assert (action.status, action.owner, action.due_date.isoformat()) == (
            OPEN,
            "Phó bí thư",
            due,
        )
        assert action.accepted_by_id == _user("secretary").id


def test_decline_then_nothing_more(app: Flask, as_user: Any, world: dict) -> None:
    client = as_user("secretary")
    url = f"/feedback/actions/{world['proposed_b11']}"
    assert post(client, f"{url}/decline", {"note": "Đã có việc tương tự"}).status_code == 303
    again = post(client, f"{url}/accept", {"owner": "A", "due_date": TODAY.isoformat()}, headers=HX)
    assert again.status_code == 422
    assert "already" in again.get_data(as_text=True) or "đã" in again.get_data(as_text=True)
    with app.app_context():
        action = db.session.get(CorrectiveAction, world["proposed_b11"])
        assert action is not None and action.status == DECLINED
        assert action.close_note == "Đã có việc tương tự"


def test_closing_takes_a_note(app: Flask, as_user: Any, world: dict) -> None:
    client = as_user("secretary")
    url = f"/feedback/actions/{world['open_b11']}/close"
    missing = post(client, url, {"note": " "})
    assert missing.status_code == 422 and 'id="err-note"' in missing.get_data(as_text=True)
    done = post(client, url, {"note": "Đã lập sổ", "next": f"/feedback/{world['ev_b11']}"})
    assert done.status_code == 303 and done.headers["Location"].endswith(
        f"/feedback/{world['ev_b11']}"
    )
    with app.app_context():
        action = db.session.get(CorrectiveAction, world["open_b11"])
        assert action is not None
        assert (action.status, action.close_note) == (DONE, "Đã lập sổ")
        assert action.closed_by_id == _user("secretary").id


def test_an_action_turns_overdue_when_the_clock_moves(
    app: Flask, as_user: Any, world: dict
) -> None:
    client = as_user("secretary")
    assert 'data-status="overdue"' not in client.get("/feedback/actions").get_data(as_text=True)
    app.config["COSO_TODAY"] = (TODAY + timedelta(days=11)).isoformat()
    page = client.get("/feedback/actions?status=overdue").get_data(as_text=True)
    assert page.count('data-status="overdue"') == 1
    assert "fb-alert-overdue" in client.get(f"/feedback/{world['ev_b11']}").get_data(as_text=True)
    home = client.get("/").get_data(as_text=True)
    assert re.search(r'id="panel-overdue">1<', home)
    # One count for one idea (issue 16, item 10): each badge counts one thing, the menu sums them.
    assert re.search(r'id="feedback-count"[^>]*>1<', home)  # 1 unacknowledged evaluation
    assert re.search(r'id="overdue-count"[^>]*>1<', home)  # 1 overdue action
    assert re.search(r'id="proposed-count"[^>]*>1<', home)  # 1 proposal awaiting review
    assert re.search(r'id="menu-count"[^>]*>3<', home)


def test_open_redirect_is_refused(as_user: Any, world: dict) -> None:
    client = as_user("secretary")
    url = f"/feedback/actions/{world['open_b11']}/close"
    response = post(client, url, {"note": "Đã xong", "next": "//evil.example/"})
    assert response.headers["Location"].endswith(f"/feedback/actions/{world['open_b11']}")


@pytest.mark.parametrize(
    "target", ["/\t/evil.example/", "/\n/x", "/\\evil.example", "https://e.x/"]
)
def test_action_forms_next_stays_on_the_site(as_user: Any, world: dict, target: str) -> None:
    """Werkzeug drops a TAB after the check: the target is normalised first (issue 17, 3)."""
    client = as_user("secretary")
    url = f"/feedback/actions/{world['open_b11']}/close"
    response = post(client, url, {"note": "Đã xong", "next": target})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/feedback/actions/{world['open_b11']}")


@pytest.mark.parametrize("target", ["/\t/evil.example/", "/\r\n/x", "//evil.example"])
def test_mark_read_next_stays_on_the_site(
    app: Flask, as_user: Any, world: dict, target: str
) -> None:
    with app.app_context():
        db.session.add(
            Feedback(
                evaluation_id=world["ev_b21"],
                user_id=_user("commune").id,
                reply="Đã tiếp thu",
                replied_at=datetime.now(UTC),
            )
        )
        db.session.commit()
    client = as_user("cadre")
    response = post(client, f"/feedback/{world['ev_b21']}/read", {"next": target})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/evaluations/{world['ev_b21']}")


# -------------------------------------------------------- scope, on every route

# (method, url with {ev}/{action}/{unit}, which object the url names)
ROUTES = [
    ("GET", "/feedback/{ev}", "ev"),
    ("POST", "/feedback/{ev}/acknowledge", "ev"),
    ("POST", "/feedback/{ev}/reply", "ev"),
    ("POST", "/feedback/{ev}/actions", "ev"),
    ("GET", "/feedback/actions/{open}", "open"),
    ("POST", "/feedback/actions/{open}/close", "open"),
    ("POST", "/feedback/actions/{proposed}/accept", "proposed"),
    ("POST", "/feedback/actions/{proposed}/decline", "proposed"),
    ("GET", "/feedback?unit={unit}", "unit"),
    ("GET", "/feedback/actions?unit={unit}", "unit"),
]
AUTHOR_ROUTES = [
    ("GET", "/feedback/{ev}/propose", "ev"),
    ("POST", "/feedback/{ev}/propose", "ev"),
    ("POST", "/feedback/{ev}/read", "ev"),
]
#: Which branches each secretary's area holds.
AREAS = {"secretary": {"b11"}, "commune": {"b11", "b12"}}


def _url(template: str, world: dict, branch: str) -> str:
    return template.format(
        ev=world[f"ev_{branch}"],
        open=world[f"open_{branch}"],
        proposed=world[f"proposed_{branch}"],
        unit=world[branch],
    )


def _call(client: FlaskClient, method: str, url: str) -> int:
    if method == "GET":
        return client.get(url).status_code
    return post(client, url, {"note": "ghi chú", "reply": "Trả lời"}).status_code


@pytest.mark.parametrize(("method", "template", "kind"), ROUTES)
@pytest.mark.parametrize("username", ["secretary", "commune"])
@pytest.mark.parametrize("branch", ["b11", "b12", "b21"])
def test_scope_secretaries_never_cross_branch_or_commune(
    as_user: Any, world: dict, method: str, template: str, kind: str, username: str, branch: str
) -> None:
    client = as_user(username)
    code = _call(client, method, _url(template, world, branch))
    if branch in AREAS[username]:
        assert code not in (403, 404), code
    else:
        assert code == 403


@pytest.mark.parametrize(("method", "template", "kind"), ROUTES + AUTHOR_ROUTES)
def test_scope_unknown_ids_are_404(
    as_user: Any, world: dict, method: str, template: str, kind: str
) -> None:
    client = as_user("commune" if (method, template, kind) in ROUTES else "cadre")
    url = template.format(ev=999999, open=999999, proposed=999999, unit=999999)
    assert _call(client, method, url) == 404


@pytest.mark.parametrize("unit", ["c2", "province"])
def test_scope_commune_secretary_cannot_list_other_units(
    as_user: Any, world: dict, unit: str
) -> None:
    client = as_user("commune")
    assert client.get(f"/feedback?unit={world[unit]}").status_code == 403
    assert client.get(f"/feedback/actions?unit={world[unit]}").status_code == 403


@pytest.mark.parametrize(("method", "template", "kind"), AUTHOR_ROUTES)
@pytest.mark.parametrize(
    ("username", "branch", "allowed"),
    [
        ("cadre", "b11", True),  # wrote it
        ("cadre", "b21", True),
        ("cadre_b", "b21", False),  # in scope, but not the author
        ("cadre_b", "b11", False),  # out of scope
        ("secretary", "b11", False),
        ("commune", "b12", False),
        ("province", "b11", False),
    ],
)
def test_scope_only_the_author_proposes_or_marks_read(
    app: Flask,
    as_user: Any,
    world: dict,
    method: str,
    template: str,
    kind: str,
    username: str,
    branch: str,
    allowed: bool,
) -> None:
    with app.app_context():  # a reply to mark read
        db.session.add(
            Feedback(
                evaluation_id=world[f"ev_{branch}"],
                user_id=_user("commune").id,
                reply="Đã tiếp thu",
                replied_at=datetime.now(UTC),
            )
        )
        db.session.commit()
    code = _call(as_user(username), method, _url(template, world, branch))
    if allowed:
        assert code not in (403, 404), code
    else:
        assert code == 403


@pytest.mark.parametrize("username", ["cadre", "cadre_b", "province", "admin"])
@pytest.mark.parametrize(
    "template",
    [
        "/feedback/{ev}/acknowledge",
        "/feedback/{ev}/reply",
        "/feedback/{ev}/actions",
        "/feedback/actions/{open}/close",
        "/feedback/actions/{proposed}/accept",
        "/feedback/actions/{proposed}/decline",
    ],
)
def test_scope_only_secretaries_answer(
    app: Flask, as_user: Any, world: dict, username: str, template: str
) -> None:
    assert _call(as_user(username), "POST", _url(template, world, "b21")) == 403
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Feedback)) == 0
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(CorrectiveAction)
                .where(CorrectiveAction.status != PROPOSED, CorrectiveAction.status != OPEN)
            )
            == 0
        )


def test_scope_cadres_have_no_inbox_and_secretaries_no_replies(as_user: Any, world: dict) -> None:
    assert as_user("cadre").get("/feedback").status_code == 403


def test_scope_replies_page_needs_the_cadre_role(as_user: Any, world: dict) -> None:
    assert as_user("secretary").get("/feedback/replies").status_code == 403


def test_scope_needs_login(client: FlaskClient, world: dict) -> None:
    response = client.get(f"/feedback/{world['ev_b11']}")
    assert response.status_code in (302, 401)
