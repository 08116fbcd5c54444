"""GET /api/v1/field-pack and the OpenAPI document."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.builders import small_province, with_checklist
from tests.conftest import AuthActions


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    with app.app_context():
        data = with_checklist(small_province())
        return {
            "branches": {b.code: b.id for b in data["branches"]},
            "template": data["template"].id,
        }


def test_field_pack_holds_what_the_phone_needs(
    client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    auth.login("cadre_b")  # home: the second commune
    response = client.get("/api/v1/field-pack")
    assert response.status_code == 200
    pack = response.get_json()
    assert {b["code"] for b in pack["branches"]} == {"CD-B1", "CD-B2"}
    branch = pack["branches"][0]
    assert branch["state"] == "never"
    assert branch["template_id"] == world["template"]
    assert branch["guidance_id"] == pack["guidance"][0]["id"]
    assert [len(t["items"]) for t in pack["templates"]] == [21]
    assert pack["guidance"][0]["topics"][0]["code"] == "T1"
    assert pack["settings"]["score_threshold"] == 70
    assert pack["user"]["username"] == "cadre_b"
    assert pack["generated_at"]


def test_field_pack_etag_and_304(client: FlaskClient, auth: AuthActions, world: dict) -> None:
    auth.login("cadre")
    first = client.get("/api/v1/field-pack")
    etag = first.headers["ETag"]
    again = client.get("/api/v1/field-pack", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""


def test_field_pack_changes_when_a_branch_is_evaluated(
    client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    from tests.builders import payload

    auth.login("cadre")
    etag = client.get("/api/v1/field-pack").headers["ETag"]
    token = client.get("/api/v1/session").get_json()["csrf_token"]
    item = payload(world["branches"]["CD-A1"], world["template"])
    client.post("/api/v1/sync", json={"evaluations": [item]}, headers={"X-CSRFToken": token})
    response = client.get("/api/v1/field-pack", headers={"If-None-Match": etag})
    assert response.status_code == 200
    branch = next(b for b in response.get_json()["branches"] if b["code"] == "CD-A1")
    assert branch["state"] == "ok"
    assert branch["last_evaluation"]["score"] == 100.0


def test_field_pack_needs_login(client: FlaskClient, world: dict) -> None:
    assert client.get("/api/v1/field-pack").status_code == 401


def test_openapi_documents_the_contract(client: FlaskClient, world: dict) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    read = {f"/api/v1/{name}" for name in ("units", "branches", "evaluations", "answers",
                                           "actions", "visits")}  # fmt: skip
    assert set(spec["paths"]) == {
        "/api/v1/session", "/api/v1/field-pack", "/api/v1/sync",
        "/api/v1/evaluations/{evaluation_id}", "/api/v1/photos/{evaluation_uuid}/{sha256}",
        *read,
    }  # fmt: skip
    photo = spec["paths"]["/api/v1/photos/{evaluation_uuid}/{sha256}"]["put"]
    assert set(photo["responses"]) == {"200", "201", "400", "401", "403", "413"}
    assert set(photo["requestBody"]["content"]) == {"image/jpeg", "image/png", "image/webp"}
    sync = spec["paths"]["/api/v1/sync"]["post"]
    assert set(sync["responses"]) == {"200", "400", "401", "403", "413", "429", "503"}
    evaluation = spec["components"]["schemas"]["Evaluation"]
    assert {"uuid", "branch_id", "template_id", "answers", "meeting_date"} <= set(
        evaluation["required"]
    )


def test_field_pack_is_utf8_json_compressed_as_the_browser_asks(
    client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    """One serialisation: the ETag is the content's (not the stamp's), names stay UTF-8,
    and a browser asking for brotli (Chromium over HTTPS) gets it."""
    import json

    import brotli

    auth.login("cadre")
    plain = client.get("/api/v1/field-pack", headers={"Accept-Encoding": "identity"})
    assert plain.mimetype == "application/json"
    assert "Content-Encoding" not in plain.headers
    body = plain.get_data()
    assert b"\\u" not in body  # Vietnamese names as UTF-8, not escaped
    pack = json.loads(body)
    assert next(iter(pack)) == "generated_at" and pack["branches"]
    squeezed = client.get("/api/v1/field-pack", headers={"Accept-Encoding": "gzip, br, zstd"})
    assert squeezed.headers["Content-Encoding"] == "br"
    unpacked = json.loads(brotli.decompress(squeezed.get_data()))
    del unpacked["generated_at"], pack["generated_at"]
    assert unpacked == pack
    assert squeezed.headers["ETag"] == plain.headers["ETag"].rstrip('"') + ':br"'
    # The tag as the browser holds it (compressed) answers 304 before any compression.
    held = squeezed.headers["ETag"]
    again = client.get(
        "/api/v1/field-pack", headers={"Accept-Encoding": "br", "If-None-Match": held}
    )
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == held  # the tag as the phone holds it
    for odd in ('"other:br"', '""', "W/", ",", '"' + held):
        assert client.get("/api/v1/field-pack", headers={"If-None-Match": odd}).status_code == 200
