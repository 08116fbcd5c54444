"""What the service worker relies on: /sw.js, the manifest, the outbox page, the shell."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.builders import small_province, with_checklist
from tests.conftest import AuthActions


@pytest.fixture
def world(app: Flask) -> None:
    with app.app_context():
        with_checklist(small_province())


def test_service_worker_is_served_from_the_root(client: FlaskClient, world: None) -> None:
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    body = response.get_data(as_text=True)
    version = re.search(r'const VERSION = "([0-9a-f]{12})"', body)
    assert version
    # Every precached asset URL carries its content hash.
    assets = re.search(r"const ASSETS = (\[.*?\]);", body).group(1)
    assert all("?v=" in url for url in re.findall(r'"([^"]+)"', assets))
    for url in re.findall(r'"([^"]+)"', assets):
        asset = client.get(url)
        asset.close()
        assert asset.status_code == 200
        assert "immutable" in asset.headers["Cache-Control"]


def test_manifest_is_installable_and_vietnamese(client: FlaskClient, world: None) -> None:
    response = client.get("/manifest.webmanifest")
    assert response.mimetype == "application/manifest+json"
    manifest = response.get_json()
    assert manifest["lang"] == "vi"
    assert "chi đoàn" in manifest["name"]
    assert {icon["sizes"] for icon in manifest["icons"]} >= {"192x192", "512x512"}
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/"


def test_shell_and_outbox_pages(client: FlaskClient, auth: AuthActions, world: None) -> None:
    assert client.get("/outbox").status_code == 302  # sign in first
    auth.login("cadre")
    shell = client.get("/evaluate/form").get_data(as_text=True)
    assert 'data-generic="1"' in shell
    assert 'id="item-P1"' in shell
    outbox = client.get("/outbox").get_data(as_text=True)
    assert 'id="outbox-list"' in outbox and 'id="export-outbox"' in outbox
    assert client.get("/offline").status_code == 200


def test_every_page_carries_the_badge_for_cadres(
    client: FlaskClient, auth: AuthActions, world: None
) -> None:
    auth.login("cadre")
    assert 'id="outbox-count"' in client.get("/").get_data(as_text=True)
    auth.logout()
    auth.login("province")
    assert 'id="outbox-count"' not in client.get("/").get_data(as_text=True)


def test_secretaries_do_not_get_the_checklist_shell(
    client: FlaskClient, auth: AuthActions, world: None
) -> None:
    auth.login("secretary")
    assert client.get("/evaluate/form").status_code == 302
