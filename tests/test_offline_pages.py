"""What the service worker relies on: /sw.js, the manifest, the outbox page, the shell."""

from __future__ import annotations

import json
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


@pytest.mark.parametrize(
    ("username", "badge"),
    # Whoever's work may wait on the phone sees what waits: a cadre's evaluations, the
    # visits of the province and the commune (issue 18), a secretary's difficulties (issue
    # 19); an administrator alone queues nothing.
    [("cadre", True), ("province", True), ("commune", True), ("secretary", True), ("admin", False)],
)
def test_every_page_carries_the_badge_for_whoever_queues(
    client: FlaskClient, auth: AuthActions, world: None, username: str, badge: bool
) -> None:
    auth.login(username)
    assert ('id="outbox-count"' in client.get("/").get_data(as_text=True)) is badge


def test_secretaries_do_not_get_the_checklist_shell(
    client: FlaskClient, auth: AuthActions, world: None
) -> None:
    auth.login("secretary")
    assert client.get("/evaluate/form").status_code == 302


def offline_pages(client: FlaskClient) -> list[str]:
    """The list the page hands its worker when preparing for the field."""
    html = client.get("/").get_data(as_text=True)
    return json.loads(re.search(r"data-offline-pages='([^']*)'", html).group(1))


@pytest.mark.parametrize("username", ["cadre", "secretary", "commune", "province", "admin"])
def test_worker_precaches_only_pages_the_user_may_open(
    client: FlaskClient, auth: AuthActions, world: None, username: str
) -> None:
    """Issue 16, item 18: no 403 in the log for a non-cadre's worker asking for cadre pages."""
    auth.login(username)
    pages = offline_pages(client)
    assert "/offline" in pages and "/" in pages
    assert ("/evaluate/form" in pages) == (username == "cadre")
    # Everyone who goes out logs visits and drafts reports offline (issue 18, item 5).
    goes_out = username in ("cadre", "province", "commune")
    assert ("/visits/new" in pages) == goes_out and ("/visits/drafts" in pages) == goes_out
    # Cadres and secretaries raise difficulties offline (issue 19, item 1).
    raises = username in ("cadre", "secretary", "commune")
    assert ("/difficulties/new" in pages) == raises and ("/difficulties/" in pages) == raises
    assert ("/practices" in pages) == raises  # the practices spread to them, read offline
    assert ("/outbox" in pages) == (username != "admin")
    for path in pages:
        response = client.get(path)
        assert response.status_code in (200, 302), (path, response.status_code)


def test_the_worker_itself_keeps_only_public_pages(
    client: FlaskClient, auth: AuthActions, world: None
) -> None:
    """The script is one for all: installed by anyone, it asks for no page needing a role."""
    auth.login("cadre")
    body = client.get("/sw.js").get_data(as_text=True)
    listed = re.search(r"const SHELL_PAGES = (\[.*?\]);", body).group(1)
    assert json.loads(listed) == ["/", "/offline"]


def test_htmx_never_settles_style(client: FlaskClient, auth: AuthActions, world: None) -> None:
    """Issue 16, item 16: settling copies ``style`` onto the new element, which the CSP refuses."""
    auth.login("cadre")
    html = client.get("/").get_data(as_text=True)
    config = re.search(r'<meta name="htmx-config" content=\'([^\']+)\'', html).group(1)
    settle = json.loads(config)["attributesToSettle"]
    assert "style" not in settle and "class" in settle


def test_alert_counts_come_with_a_legend(app: Flask) -> None:
    """Issue 16, item 8: "5 chưa xác nhận" is explained in words, not only in a hover title."""
    from flask import render_template

    from coso.feedback.rules import Alerts

    with app.test_request_context():
        quiet = render_template("feedback/_alerts_legend.html", branch_alerts={1: Alerts()})
        assert "alerts-legend" not in quiet
        shown = render_template(
            "feedback/_alerts_legend.html",
            branch_alerts={1: Alerts(unacknowledged=5, unacknowledged_late=5)},
        )
        assert 'id="alerts-legend"' in shown and "chưa xác nhận (đánh dấu đã đọc)" in shown
        assert "quá hạn" not in shown
