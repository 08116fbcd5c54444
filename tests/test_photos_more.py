"""Photos of a visit report and of a difficulty (issue 20, items 1 and 5): uploaded under the
visit's or the difficulty's uuid by its author, shown to whoever may read that report or that
difficulty (the review page's and the difficulty page's rules) and to no one else; a photo
someone else sent under the same uuid attaches nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from coso.extensions import db
from coso.models import Difficulty, Visit
from tests.builders import make_user, small_province
from tests.conftest import AuthActions
from tests.test_photos import jpeg, put, token

TODAY = date(2026, 6, 15)


@pytest.fixture
def world(app: Flask, tmp_path: Path) -> dict[str, Any]:
    app.config["MEDIA_DIR"] = str(tmp_path / "media")
    app.config["COSO_TODAY"] = TODAY.isoformat()
    with app.app_context():
        data = small_province()
        c1 = data["communes"][0]
        make_user("cadre_a", "cadre", c1)  # a cadre of the first commune
        make_user("secretary_other", "secretary", data["branches"][1])
        db.session.commit()
        return {"branches": [b.id for b in data["branches"]]}


def sync(client: FlaskClient, item: dict[str, Any]) -> dict[str, Any]:
    answer = client.post(
        "/api/v1/sync", json={"evaluations": [item]}, headers={"X-CSRFToken": token(client)}
    )
    result = answer.get_json()["results"][0]
    assert result["status"] == "created", result
    return result  # type: ignore[no-any-return]


def log_visit(client: FlaskClient, world: dict[str, Any]) -> tuple[str, int]:
    """A visit with its report, sent from the phone: its uuid and id."""
    visit_uuid = str(uuid.uuid4())
    day = (TODAY - timedelta(days=2)).isoformat()
    visit = sync(
        client,
        {
            "kind": "visit",
            "uuid": visit_uuid,
            "unit_id": world["branches"][0],
            "form": "coorganise",
            "start_date": day,
            "end_date": day,
            "submitted_at": f"{day}T15:00:00Z",
        },
    )
    sync(
        client,
        {
            "kind": "visit_report",
            "uuid": str(uuid.uuid4()),
            "visit_uuid": visit_uuid,
            "version": 1,
            "report": "Phối hợp tổ chức ngày hội thanh niên, 32 đoàn viên tham gia.",
            "submitted_at": f"{TODAY}T08:00:00Z",
        },
    )
    return visit_uuid, visit["id"]


def raise_difficulty(client: FlaskClient, world: dict[str, Any]) -> tuple[str, int]:
    """A difficulty about the first branch, sent from the phone: its uuid and id."""
    difficulty_uuid = str(uuid.uuid4())
    result = sync(
        client,
        {
            "kind": "difficulty",
            "uuid": difficulty_uuid,
            "unit_id": world["branches"][0],
            "category": "venue",
            "text": "Chi đoàn không có chỗ sinh hoạt khi trời mưa",
            "raised_at": (datetime.now(UTC) - timedelta(hours=3)).isoformat(),
        },
    )
    return difficulty_uuid, result["id"]


def switch(auth: AuthActions, username: str) -> None:
    auth.logout()
    auth.login(username)


def test_visit_photos_reach_the_reports_readers_only(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    auth.login("cadre_a")
    visit_uuid, visit_id = log_visit(client, world)
    with app.app_context():
        assert db.session.get(Visit, visit_id).uuid == visit_uuid  # type: ignore[union-attr]
    first = put(client, visit_uuid, jpeg("red"))
    assert first.status_code == 201, first.get_json()
    photo = first.get_json()["id"]
    assert put(client, visit_uuid, jpeg("red")).status_code == 200  # a replay: still one
    # The cadre's own report page shows it: a lazy thumbnail opening the full photo.
    page = client.get(f"/visits/{visit_id}/report").get_data(as_text=True)
    assert f'/photos/{photo}/thumb" loading="lazy"' in page
    assert f'href="/photos/{photo}"' in page
    assert client.get(f"/photos/{photo}").status_code == 200
    # Those who may review the cadre read the report, so they see its photos.
    for reviewer in ("commune", "province"):
        switch(auth, reviewer)
        assert client.get(f"/photos/{photo}").status_code == 200, reviewer
        assert client.get(f"/photos/{photo}/thumb").status_code == 200, reviewer
        review = client.get(f"/reviews/{visit_id}")
        assert review.status_code == 200
        assert f"/photos/{photo}/thumb" in review.get_data(as_text=True)
    # The branch's secretary may not read the report; nor may a cadre of another commune.
    for outsider in ("secretary", "cadre_b"):
        switch(auth, outsider)
        assert client.get(f"/photos/{photo}").status_code == 404, outsider
        assert client.get(f"/photos/{photo}/thumb").status_code == 404, outsider


def test_difficulty_photos_reach_the_difficultys_readers_only(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    auth.login("cadre")
    difficulty_uuid, difficulty_id = raise_difficulty(client, world)
    with app.app_context():
        assert db.session.get(Difficulty, difficulty_id).uuid == difficulty_uuid  # type: ignore[union-attr]
    photo = put(client, difficulty_uuid, jpeg("green")).get_json()["id"]
    page = client.get(f"/difficulties/{difficulty_id}").get_data(as_text=True)
    assert f'/photos/{photo}/thumb" loading="lazy"' in page
    assert client.get(f"/photos/{photo}").status_code == 200
    # The commune it went to, the branch it is about and the province read it: and its photos.
    for reader in ("commune", "secretary", "province"):
        switch(auth, reader)
        shown = client.get(f"/difficulties/{difficulty_id}")
        assert shown.status_code == 200, reader
        assert f"/photos/{photo}/thumb" in shown.get_data(as_text=True), reader
        assert client.get(f"/photos/{photo}").status_code == 200, reader
    # Another branch's secretary and another commune's cadre do not.
    for outsider in ("secretary_other", "cadre_b"):
        switch(auth, outsider)
        assert client.get(f"/difficulties/{difficulty_id}").status_code == 403, outsider
        assert client.get(f"/photos/{photo}").status_code == 404, outsider
        assert client.get(f"/photos/{photo}/thumb").status_code == 404, outsider


def test_a_photo_someone_else_sent_under_the_uuid_attaches_nothing(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    auth.login("cadre_a")
    visit_uuid, visit_id = log_visit(client, world)
    difficulty_uuid, difficulty_id = raise_difficulty(client, world)
    switch(auth, "cadre")  # a province cadre who learnt both uuids
    strangers = [
        put(client, u, jpeg("black")).get_json()["id"] for u in (visit_uuid, difficulty_uuid)
    ]
    assert all(client.get(f"/photos/{p}").status_code == 200 for p in strangers)  # its author
    switch(auth, "commune")  # reads the visit's report and the difficulty, not these photos
    for photo in strangers:
        assert client.get(f"/photos/{photo}").status_code == 404
    assert "/photos/" not in client.get(f"/reviews/{visit_id}").get_data(as_text=True)
    assert "/photos/" not in client.get(f"/difficulties/{difficulty_id}").get_data(as_text=True)
    switch(auth, "cadre_a")  # nor on the author's own pages
    assert "/photos/" not in client.get(f"/visits/{visit_id}/report").get_data(as_text=True)
    assert "/photos/" not in client.get(f"/difficulties/{difficulty_id}").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/visits/new", "/visits/drafts", "/difficulties/new"])
def test_the_phone_forms_take_photos_for_whoever_sends_them(
    client: FlaskClient, auth: AuthActions, world: dict[str, Any], path: str
) -> None:
    auth.login("cadre")
    page = client.get(path).get_data(as_text=True)
    assert "js/photos.js" in page
    assert page.index("js/photos.js") < page.index("-offline.js")  # loaded before the form's
    assert 'id="photos-card"' in page or 'data-photos="' in page
    if path != "/visits/drafts":
        assert 'name="uuid"' in page
    # Whoever else goes out or raises difficulties (a commune secretary) takes photos too,
    # and the upload takes them.
    switch(auth, "commune")
    page = client.get(path).get_data(as_text=True)
    assert 'id="photos-card"' in page or 'data-photos="' in page
