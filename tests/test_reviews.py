"""Quality review of visits (issue 19, item 2): the rules, needs more -> amend -> approved,
the scope of reviewers and cadres, the ledger's quality column and its export."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from coso.extensions import db
from coso.models import AuditEvent, ReviewRubric, Unit, Visit, VisitReview
from coso.reviews import queries, rules
from tests.builders import make_user, small_province
from tests.conftest import AuthActions

TODAY = date(2026, 12, 1)
GOOD = {f"score_{k}": "2" for k in rules.CRITERIA}


def test_rules() -> None:
    assert rules.current_state([]) == rules.RECEIVED
    assert rules.current_state(["needs_more", "received", "approved"]) == "approved"
    assert rules.may_amend("needs_more") and not rules.may_amend("approved")
    scores = dict.fromkeys(rules.CRITERIA, 1)
    assert rules.check("needs_more", scores, " ", rules.DEFAULT_RUBRIC) == {"comment": "no_comment"}
    assert rules.check("approved", {**scores, "specific": 3}, "", rules.DEFAULT_RUBRIC) == {
        "specific": "bad_score"
    }
    assert "state" in rules.check("received", scores, "", rules.DEFAULT_RUBRIC)
    assert rules.share(scores, rules.DEFAULT_RUBRIC) == 0.5
    assert rules.quality([("approved", 1.0), ("needs_more", 0.5), ("received", None)]) == {
        "reviewed": 2,
        "approved": 1,
        "mean": 75.0,
    }
    assert rules.rubric_of([{"key": "x", "max": 5}]) == rules.DEFAULT_RUBRIC
    assert rules.rubric_of([{"key": "x", "max": 1}]) == ({"key": "x", "max": 1},)


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    app.config["COSO_TODAY"] = TODAY.isoformat()
    with app.app_context():
        data = small_province()
        users = data["users"]
        visit = Visit(
            user_id=users["cadre"].id,
            unit_id=data["branches"][0].id,
            form="inspection",
            start_date=date(2026, 11, 20),
            end_date=date(2026, 11, 20),
            days=1,
            report="Đã kiểm tra.",
        )
        other = Visit(
            user_id=users["cadre_b"].id,
            unit_id=data["branches"][2].id,
            form="inspection",
            start_date=date(2026, 11, 21),
            end_date=date(2026, 11, 21),
            days=1,
            report="Báo cáo.",
        )
        db.session.add_all([visit, other])
        db.session.commit()
        return {"visit": visit.id, "other": other.id}


def _post(client: FlaskClient, auth: AuthActions, url: str, data: dict[str, str]) -> Any:
    return client.post(url, data={**data, "csrf_token": auth.csrf_token()})


def test_needs_more_amend_approve(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    vid = world["visit"]
    auth.login("province")
    page = client.get("/reviews?state=received").get_data(as_text=True)
    assert f'data-visit-id="{vid}"' in page
    # Bad input: needs more without a comment -> 422, nothing stored.
    r = _post(client, auth, f"/reviews/{vid}", {**GOOD, "state": "needs_more"})
    assert r.status_code == 422
    r = _post(client, auth, f"/reviews/{vid}", {"score_on_time": "9", "state": "approved"})
    assert r.status_code == 422
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(VisitReview)) == 0
    r = _post(
        client,
        auth,
        f"/reviews/{vid}",
        {**GOOD, "score_recommendations": "0", "state": "needs_more", "comment": "Thiếu kiến nghị"},
    )
    assert r.status_code == 303
    auth.logout()
    auth.login("cadre")
    mine = client.get("/reviews/mine").get_data(as_text=True)
    assert "Thiếu kiến nghị" in mine
    assert 'data-state="needs_more"' in client.get("/visits").get_data(as_text=True)
    assert "Thiếu kiến nghị" in client.get(f"/visits/{vid}/report").get_data(as_text=True)
    assert client.get(f"/reviews/{vid}").status_code == 200
    assert _post(client, auth, f"/reviews/{vid}", {**GOOD, "state": "approved"}).status_code == 403
    r = _post(client, auth, f"/visits/{vid}/report", {"report": "Đã kiểm tra. Kiến nghị: họp lại."})
    assert r.status_code == 303
    auth.logout()
    auth.login("province")
    assert f'data-visit-id="{vid}"' in client.get("/reviews?state=received").get_data(as_text=True)
    r = _post(client, auth, f"/reviews/{vid}", {**GOOD, "state": "approved", "comment": "Tốt"})
    assert r.status_code == 303
    with app.app_context():
        states = db.session.scalars(sa.select(VisitReview.state).order_by(VisitReview.id)).all()
        assert states == ["needs_more", "received", "approved"]
        actions = db.session.scalars(sa.select(AuditEvent.action)).all()
        assert "visit.review" in actions and "visit.amend" in actions
    ledger = client.get("/visits/ledger?year=2026").get_data(as_text=True)
    assert "num quality" in ledger
    csv_text = client.get("/visits/ledger.csv?year=2026").get_data(as_text=True)
    assert any(",1,1,100" in line for line in csv_text.splitlines())


def test_scope(client: FlaskClient, auth: AuthActions, world: dict[str, Any]) -> None:
    auth.login("commune")  # XA-A: cadre_b is at XA-B, cadre at the province
    assert client.get(f"/reviews/{world['other']}").status_code == 403
    assert client.get(f"/reviews/{world['visit']}").status_code == 403
    assert f'data-visit-id="{world["other"]}"' not in client.get("/reviews").get_data(as_text=True)
    auth.logout()
    auth.login("cadre")
    assert client.get("/reviews").status_code == 403
    assert client.get(f"/reviews/{world['other']}").status_code == 403
    auth.logout()
    auth.login("province")
    assert client.get("/reviews?state=bogus").status_code == 422


def test_a_commune_reviews_its_own_cadres(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    with app.app_context():
        commune = db.session.scalar(sa.select(Unit).where(Unit.code == "XA-A"))
        own = make_user("cadre_a", "cadre", commune)
        visit = Visit(
            user_id=own.id,
            unit_id=commune.id,
            form="inspection",
            start_date=date(2026, 11, 25),
            end_date=date(2026, 11, 25),
            days=1,
            report="Báo cáo xã.",
        )
        db.session.add(visit)
        db.session.commit()
        vid = visit.id
    auth.login("commune")
    assert f'data-visit-id="{vid}"' in client.get("/reviews").get_data(as_text=True)
    r = _post(client, auth, f"/reviews/{vid}", {**GOOD, "state": "approved"})
    assert r.status_code == 303
    auth.logout()
    auth.login("cadre")  # another cadre's reviews stay theirs
    assert client.get(f"/reviews/{vid}").status_code == 403
    assert "Báo cáo xã" not in client.get("/reviews/mine").get_data(as_text=True)


def test_the_province_sets_its_rubric(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    assert rules.rubric_from({"on_time": "1"}) == (({"key": "on_time", "max": 1},), None)
    assert rules.rubric_from({})[1] == rules.NO_CRITERION
    assert rules.rubric_from({"on_time": "7"})[1] == rules.BAD_SCORE
    auth.login("province")
    assert _post(client, auth, "/reviews/rubric", {"on_time": "0"}).status_code == 422
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ReviewRubric)) == 0
    r = _post(client, auth, "/reviews/rubric", {"on_time": "1", "specific": "2"})
    assert r.status_code == 303
    page = client.get(f"/reviews/{world['visit']}").get_data(as_text=True)
    assert 'name="score_on_time"' in page and 'name="score_followed_up"' not in page
    r = _post(
        client,
        auth,
        f"/reviews/{world['visit']}",
        {"score_on_time": "1", "score_specific": "1", "state": "reviewed"},
    )
    assert r.status_code == 303
    with app.app_context():
        review = db.session.scalars(sa.select(VisitReview)).one()
        assert queries.share_of(review) == pytest.approx(2 / 3)
        assert "review.rubric" in db.session.scalars(sa.select(AuditEvent.action)).all()


def test_the_queue_pages_and_filters_by_state_in_the_database(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    """Every visit of the area is reachable (a pager, 50 a page) and a state's filter counts
    them all, not the first 200 read."""
    from datetime import timedelta

    from coso.models import User
    from coso.web import PAGE_SIZE

    with app.app_context():
        cadre = db.session.scalar(sa.select(User).where(User.username == "cadre"))
        branch = db.session.get(Visit, world["visit"]).unit_id
        extra = [
            Visit(user_id=cadre.id, unit_id=branch, form="inspection", days=1,
                  start_date=date(2026, 6, 1) + timedelta(days=i % 150),
                  end_date=date(2026, 6, 1) + timedelta(days=i % 150), report=f"Báo cáo {i}")
            for i in range(PAGE_SIZE * 5)
        ]  # fmt: skip
        db.session.add_all(extra)
        db.session.flush()
        approved = extra[-1]  # the oldest end date is on the last page
        approved.end_date = approved.start_date = date(2026, 1, 5)
        db.session.add(VisitReview(visit_id=approved.id, user_id=cadre.id, state="approved"))
        db.session.commit()
        approved_id = approved.id
    auth.login("province")
    first = client.get("/reviews").get_data(as_text=True)
    total = PAGE_SIZE * 5 + 2
    assert first.count("data-visit-id=") == PAGE_SIZE and 'rel="next"' in first
    last = client.get(f"/reviews?page={-(-total // PAGE_SIZE)}").get_data(as_text=True)
    assert f'data-visit-id="{approved_id}"' in last
    only = client.get("/reviews?state=approved").get_data(as_text=True)
    assert only.count("data-visit-id=") == 1 and f'data-visit-id="{approved_id}"' in only
    received = client.get("/reviews?state=received&page=2").get_data(as_text=True)
    assert f'data-visit-id="{approved_id}"' not in received
    assert 'rel="prev"' in received


def test_a_review_of_a_meeting_survives_the_evaluations_correction(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    """Correcting an evaluation replaces its meeting's visit: the review moves with it."""
    from coso.checklists.service import create_default_template
    from tests.builders import payload

    with app.app_context():
        data = small_province()
        template = create_default_template(data["province"])
        db.session.commit()
        branch, template_id = data["branches"][0].id, template.id
    auth.login("cadre")
    token = client.get("/api/v1/session").get_json()["csrf_token"]
    first = payload(branch, template_id)
    sent = client.post(
        "/api/v1/sync", json={"evaluations": [first]}, headers={"X-CSRFToken": token}
    )
    evaluation_id = sent.get_json()["results"][0]["id"]
    with app.app_context():
        visit_id = db.session.scalar(
            sa.select(Visit.id).where(Visit.evaluation_id == evaluation_id)
        )
    auth.logout()
    auth.login("province")
    reviewed = _post(client, auth, f"/reviews/{visit_id}", {**GOOD, "state": "approved"})
    assert reviewed.status_code == 303
    auth.logout()
    auth.login("cadre")
    token = client.get("/api/v1/session").get_json()["csrf_token"]
    fixed = payload(branch, template_id, supersedes=first["uuid"], members_present=17)
    answer = client.post(
        "/api/v1/sync", json={"evaluations": [fixed]}, headers={"X-CSRFToken": token}
    ).get_json()["results"][0]
    assert answer["status"] == "created", answer
    with app.app_context():
        new_visit = db.session.scalar(sa.select(Visit).where(Visit.evaluation_id == answer["id"]))
        assert new_visit is not None
        assert db.session.get(Visit, visit_id) is None  # the original's day is gone
        reviews = db.session.scalars(sa.select(VisitReview)).all()
        assert [(r.visit_id, r.state) for r in reviews] == [(new_visit.id, "approved")]
