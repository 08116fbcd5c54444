"""The cadre's pages: branch search, the checklist (plain and htmx), the result, corrections."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from coso.checklists.rules import DEFAULT_ITEMS
from coso.extensions import db
from coso.models import BranchStatus, Evaluation
from tests.builders import small_province, with_checklist
from tests.conftest import AuthActions


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    with app.app_context():
        data = with_checklist(small_province())
        return {"branches": [b.id for b in data["branches"]], "template": data["template"].id}


@pytest.fixture
def cadre(client: FlaskClient, auth: AuthActions, world: dict) -> FlaskClient:
    auth.login("cadre")
    return client


def form_values(page: str, **overrides: Any) -> dict[str, Any]:
    """What a cadre would submit: the hidden fields of the page, every item passed."""
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    values: dict[str, Any] = {
        **hidden,
        "meeting_date": date.today().isoformat(),
        "meeting_type": "regular",
        "mode": "in_person",
        "members_total": "20",
        "members_present": "17",
        "topics": ["T1", "T2", "T3"],
    }
    for item in DEFAULT_ITEMS:
        if item["kind"] == "choice":
            values[f"answer-{item['code']}"] = "pass"
    values.update(overrides)
    return values


def test_start_lists_branches_in_scope_and_searches(cadre: FlaskClient, world: dict) -> None:
    page = cadre.get("/evaluate").get_data(as_text=True)
    assert "Chi đoàn ấp 1" in page and "Chi đoàn khu phố 2" in page
    fragment = cadre.get("/evaluate?q=khu", headers={"HX-Request": "true"})
    text = fragment.get_data(as_text=True)
    assert "<html" not in text
    assert "khu phố 1" in text and "ấp 1" not in text
    assert "HX-Request" in fragment.headers["Vary"]


def test_checklist_renders_every_item(cadre: FlaskClient, world: dict) -> None:
    page = cadre.get(f"/evaluate/{world['branches'][0]}").get_data(as_text=True)
    for item in DEFAULT_ITEMS:
        assert f'id="item-{item["code"]}"' in page
    assert 'name="answer-P4"' not in page  # computed from the counts
    assert 'name="topics" value="T1"' in page
    assert 'name="uuid"' in page


def test_submit_compliant_then_result_page(app: Flask, cadre: FlaskClient, world: dict) -> None:
    page = cadre.get(f"/evaluate/{world['branches'][0]}").get_data(as_text=True)
    response = cadre.post(f"/evaluate/{world['branches'][0]}", data=form_values(page))
    assert response.status_code == 303
    result = cadre.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="score"' in result and "100" in result
    with app.app_context():
        status = db.session.get(BranchStatus, world["branches"][0])
        assert status.state == "ok"


def test_double_submit_stores_once(app: Flask, cadre: FlaskClient, world: dict) -> None:
    page = cadre.get(f"/evaluate/{world['branches'][0]}").get_data(as_text=True)
    values = form_values(page)
    first = cadre.post(f"/evaluate/{world['branches'][0]}", data=values)
    second = cadre.post(f"/evaluate/{world['branches'][0]}", data=values)
    assert first.headers["Location"] == second.headers["Location"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Evaluation)) == 1


def test_non_compliant_shows_reasons_and_flags_branch(
    app: Flask, cadre: FlaskClient, world: dict
) -> None:
    branch = world["branches"][1]
    page = cadre.get(f"/evaluate/{branch}").get_data(as_text=True)
    values = form_values(page, **{"answer-P10": "fail", "members_present": "6", "topics": ["T1"]})
    response = cadre.post(f"/evaluate/{branch}", data=values)
    result = cadre.get(response.headers["Location"]).get_data(as_text=True)
    reasons = re.search(r'<ul id="reasons">(.*?)</ul>', result, re.S)
    assert reasons is not None
    assert reasons.group(1).count("<li>") >= 3  # critical, attendance, content (+ serious)
    assert "P10" in reasons.group(1)
    with app.app_context():
        assert db.session.get(BranchStatus, branch).state == "flagged"


def test_invalid_form_keeps_values_and_shows_errors_beside_fields(
    app: Flask, cadre: FlaskClient, world: dict
) -> None:
    branch = world["branches"][0]
    page = cadre.get(f"/evaluate/{branch}").get_data(as_text=True)
    values = form_values(page, members_present="40", notes="Ghi chú giữ lại")
    del values["answer-C5"]
    response = cadre.post(f"/evaluate/{branch}", data=values)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert 'id="err-members_present"' in text
    assert 'id="err-item-C5"' in text
    assert "Ghi chú giữ lại" in text
    assert 'value="pass" checked' in text
    assert "<html" in text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Evaluation)) == 0


def test_invalid_form_over_htmx_returns_the_fragment(cadre: FlaskClient, world: dict) -> None:
    branch = world["branches"][0]
    page = cadre.get(f"/evaluate/{branch}").get_data(as_text=True)
    values = form_values(page, members_total="abc")
    response = cadre.post(f"/evaluate/{branch}", data=values, headers={"HX-Request": "true"})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert text.lstrip().startswith("{#") or text.lstrip().startswith("<form")
    assert "<html" not in text
    assert 'id="err-members_total"' in text


def test_htmx_success_redirects_with_header(cadre: FlaskClient, world: dict) -> None:
    branch = world["branches"][0]
    page = cadre.get(f"/evaluate/{branch}").get_data(as_text=True)
    response = cadre.post(
        f"/evaluate/{branch}", data=form_values(page), headers={"HX-Request": "true"}
    )
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/evaluations/")


def test_topics_follow_the_meeting_month(cadre: FlaskClient, world: dict) -> None:
    branch = world["branches"][0]
    fragment = cadre.get(f"/evaluate/{branch}/topics?meeting_date=2020-01-05").get_data(
        as_text=True
    )
    assert 'name="topics"' not in fragment


def test_correction_flow(app: Flask, cadre: FlaskClient, world: dict) -> None:
    branch = world["branches"][0]
    page = cadre.get(f"/evaluate/{branch}").get_data(as_text=True)
    response = cadre.post(f"/evaluate/{branch}", data=form_values(page, **{"answer-C8": "fail"}))
    first_url = response.headers["Location"]
    result = cadre.get(first_url).get_data(as_text=True)
    link = re.search(r'href="(/evaluate/\d+\?correct=[^"]+)"', result)
    assert link, "the author sees a correct link within the window"
    form = cadre.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert 'name="supersedes"' in form
    assert 'name="answer-C8" value="fail" checked' in form
    values = form_values(form)
    response = cadre.post(f"/evaluate/{branch}", data=values)
    assert response.status_code == 303
    old = cadre.get(first_url).get_data(as_text=True)
    assert "/evaluations/" in old and "?correct=" not in old
    with app.app_context():
        assert db.session.get(BranchStatus, branch).state == "ok"


@pytest.mark.parametrize("username", ["secretary", "commune"])
def test_secretaries_cannot_evaluate(
    client: FlaskClient, auth: AuthActions, world: dict, username: str
) -> None:
    auth.login(username)
    assert client.get("/evaluate").status_code == 403
    assert client.get(f"/evaluate/{world['branches'][0]}").status_code == 403


def test_cadre_cannot_open_branch_outside_scope(
    client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    auth.login("cadre_b")
    assert client.get(f"/evaluate/{world['branches'][0]}").status_code == 403
    assert client.get(f"/evaluate/{world['branches'][2]}").status_code == 200


def test_result_page_respects_scope(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    auth.login("cadre")
    page = client.get(f"/evaluate/{world['branches'][0]}").get_data(as_text=True)
    url = client.post(f"/evaluate/{world['branches'][0]}", data=form_values(page)).headers[
        "Location"
    ]
    auth.logout()
    auth.login("cadre_b")
    assert client.get(url).status_code == 403
    auth.logout()
    auth.login("secretary")
    assert client.get(url).status_code == 200
