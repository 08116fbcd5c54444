"""Fuzz /api/v1 with schemathesis against its own published contract.

Every operation of ``/api/v1/openapi.json`` is called with valid and invalid
data (a bounded, derandomised number of examples, so CI is stable) by a signed-in
cadre sending the CSRF header: no response is a 5xx, and every status code,
content type and body is one the document declares.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
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
from tests.builders import payload, small_province, with_checklist
from tests.conftest import AuthActions

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 40
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


@pytest.fixture(params=["cadre", "secretary", "anonymous"])
def api_client(
    request: pytest.FixtureRequest, app: Flask, client: FlaskClient, auth: AuthActions
) -> FlaskClient:
    """A cadre (may sync), a secretary (403 on sync) or nobody (401 everywhere)."""
    with app.app_context():
        data = with_checklist(small_province())
        ids = (data["branches"][0].id, data["template"].id, data["guidance"].id)
    if request.param == "anonymous":
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
    if request.param != "cadre":
        auth.logout()
        auth.login(request.param)
    return client


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_honours_its_contract(case: Any, api_client: FlaskClient) -> None:
    session = api_client.get("/api/v1/session")
    token = session.get_json()["csrf_token"] if session.status_code == 200 else "none"
    response = case.call(
        session=api_client, headers={"X-CSRFToken": token, "Accept-Encoding": "identity"}
    )
    case.validate_response(response, checks=CHECKS)
