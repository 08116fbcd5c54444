"""Fuzz /api/v1 with schemathesis against its own published contract.

Every operation of ``/api/v1/openapi.json`` (the sync API and the read API) is called with
valid and invalid data (a bounded, derandomised number of examples, so CI is stable) by a
signed-in cadre and secretary sending the CSRF header, by nobody, and by another system
holding an access token: no response is a 5xx, and every status code, content type and body
is one the document declares.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from coso import create_app
from coso.extensions import db
from coso.models import User
from coso.models.types import utcnow
from coso.tokens import service as tokens
from tests.builders import payload, small_province, with_checklist
from tests.conftest import AuthActions

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 40
READ_EXAMPLES = 12
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


# The contract exactly as the app serves it (serving it touches no database). The
# requests themselves go to each test's own app, through the signed-in client.
schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json",
    create_app({"TESTING": True, "SECRET_KEY": "fuzz", "SQLALCHEMY_DATABASE_URI": "sqlite://"}),
)


@pytest.fixture(params=["cadre", "province", "secretary", "anonymous", "token"])
def api_client(
    request: pytest.FixtureRequest, app: Flask, client: FlaskClient, auth: AuthActions
) -> FlaskClient:
    """A cadre (may sync), the province (syncs visits, 403 on evaluations: issue 18, item 5),
    a secretary (403 on sync), nobody (401 everywhere), or another system with the province
    user's access token and no session (reads; 401 elsewhere)."""
    with app.app_context():
        data = with_checklist(small_province())
        ids = (data["branches"][0].id, data["template"].id, data["guidance"].id)
    if request.param == "anonymous":
        return client
    if request.param == "token":
        with app.app_context():
            province = db.session.scalar(sa.select(User).where(User.username == "province"))
            assert province is not None
            _row, secret = tokens.create(province, "fuzz", 30, utcnow())
            db.session.commit()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
        return client
    auth.login("cadre")
    # One stored evaluation, so the field pack carries a last result and an open state.
    token = client.get("/api/v1/session").get_json()["csrf_token"]
    stored = client.post(
        "/api/v1/sync",
        json={"evaluations": [payload(*ids, values={"P1": "fail"})]},
        headers={"X-CSRFToken": token},
    )
    assert stored.get_json()["results"][0]["status"] == "created"
    # And a visit with a report version, so the visit kinds meet stored rows too.
    visit_uuid = "0b7c1c8e-6a3e-4f0e-8f57-3c1c2a6f9d10"
    stored = client.post(
        "/api/v1/sync",
        json={
            "evaluations": [
                {
                    "kind": "visit",
                    "uuid": visit_uuid,
                    "unit_id": ids[0],
                    "form": "inspection",
                    "start_date": "2026-01-05",
                    "end_date": "2026-01-06",
                },
                {
                    "kind": "visit_report",
                    "uuid": "5d0f6f7e-1b2a-4c3d-9e8f-7a6b5c4d3e2f",
                    "visit_uuid": visit_uuid,
                    "version": 1,
                    "report": "Báo cáo",
                },
            ]
        },
        headers={"X-CSRFToken": token},
    )
    assert [r["status"] for r in stored.get_json()["results"]] == ["created", "created"]
    if request.param != "cadre":
        auth.logout()
        auth.login(request.param)
    return client


def _call(case: Any, api_client: FlaskClient) -> None:
    session = api_client.get("/api/v1/session")
    token = session.get_json()["csrf_token"] if session.status_code == 200 else "none"
    response = case.call(
        session=api_client, headers={"X-CSRFToken": token, "Accept-Encoding": "identity"}
    )
    case.validate_response(response, checks=CHECKS)


@schema.exclude(tag="read").parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_honours_its_contract(case: Any, api_client: FlaskClient) -> None:
    _call(case, api_client)


# The read API's seven GETs share one parameter reader (coso/read_api/params.py): fewer
# examples each keep the whole run's time near what the sync API alone took.
@schema.include(tag="read").parametrize()
@settings(
    max_examples=READ_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_read_api_honours_its_contract(case: Any, api_client: FlaskClient) -> None:
    _call(case, api_client)
