"""Photo evidence (issue 20): upload once whatever the replays, refuse what is not a photo,
serve only to those who may see the evaluation."""

from __future__ import annotations

import hashlib
import io
import uuid
import zlib
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from coso.extensions import db
from coso.models import Photo
from tests.builders import make_user, payload, small_province, with_checklist
from tests.conftest import AuthActions


@pytest.fixture
def world(app: Flask, tmp_path: Path) -> dict[str, Any]:
    app.config["MEDIA_DIR"] = str(tmp_path / "media")
    with app.app_context():
        data = with_checklist(small_province())
        make_user("secretary_other", "secretary", data["branches"][1])
        db.session.commit()
        return {
            "branches": [b.id for b in data["branches"]],
            "template": data["template"].id,
            "guidance": data["guidance"].id,
            "media": tmp_path / "media",
        }


def jpeg(color: str = "red", size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG")
    return out.getvalue()


def png(size: tuple[int, int] = (20, 10)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "blue").save(out, "PNG")
    return out.getvalue()


def token(client: FlaskClient) -> str:
    return client.get("/api/v1/session").get_json()["csrf_token"]


def put(client: FlaskClient, ev: str, body: bytes, item: str | None = None, sha: str | None = None):  # type: ignore[no-untyped-def]
    sha = sha or hashlib.sha256(body).hexdigest()
    query = f"?item={item}" if item else ""
    return client.put(
        f"/api/v1/photos/{ev}/{sha}{query}",
        data=body,
        headers={"X-CSRFToken": token(client), "Content-Type": "image/jpeg"},
    )


def count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Photo))


def stored_files(world: dict[str, Any]) -> list[Path]:
    root = world["media"]
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def sync(client: FlaskClient, world: dict[str, Any], ev: str, **overrides: Any) -> None:
    """Send one evaluation of the first branch under ``ev``; ``overrides`` go to the payload
    builder (``values={"P10": "fail"}``, ``supersedes=...``)."""
    item = payload(world["branches"][0], world["template"], world["guidance"], **overrides)
    item["uuid"] = ev
    answer = client.post(
        "/api/v1/sync", json={"evaluations": [item]}, headers={"X-CSRFToken": token(client)}
    )
    assert answer.get_json()["results"][0]["status"] == "created", answer.get_json()


def test_upload_then_replay_is_one_copy(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    auth.login("cadre")
    ev = str(uuid.uuid4())
    body = jpeg()
    first = put(client, ev, body, item="P10")
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["status"] == "created"
    again = put(client, ev, body, item="P10")  # the response was lost: sent again
    assert again.status_code == 200
    assert again.get_json()["status"] == "duplicate"
    assert put(client, ev, body).status_code == 201  # the same bytes for the whole evaluation
    with app.app_context():
        assert count() == 2
        items = sorted(p.item_code for p in db.session.scalars(sa.select(Photo)))
        assert items == ["", "P10"]
    assert len(stored_files(world)) == 2  # one original and one thumbnail, shared


def test_photo_before_its_evaluation_is_kept(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    auth.login("cadre")
    ev = str(uuid.uuid4())
    photo_id = put(client, ev, png(), item="P10").get_json()["id"]
    # The author sees it before the evaluation arrives.
    answer = client.get(f"/photos/{photo_id}")
    assert answer.status_code == 200
    assert answer.mimetype == "image/png"
    sync(client, world, ev)
    auth.logout()
    auth.login("secretary")
    assert client.get(f"/photos/{photo_id}/thumb").status_code == 200


@pytest.mark.parametrize(
    ("name", "body", "code"),
    [
        ("html named jpg", b"<html><script>alert(1)</script></html>", "not_image"),
        ("php", b"<?php system($_GET['c']); ?>", "not_image"),
        ("svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>x()</script></svg>', "not_image"),
        ("zero bytes", b"", "empty"),
        ("truncated jpeg", None, "not_image"),
        ("bomb png", None, "too_many_pixels"),
        ("gif", None, "not_image"),
        ("too large", b"\xff" * (5 * 1024 * 1024 + 1), "too_large"),
    ],
)
def test_hostile_uploads_are_refused_and_nothing_kept(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    world: dict,
    name: str,
    body: bytes | None,
    code: str,
) -> None:
    if name == "truncated jpeg":
        body = jpeg(size=(400, 300))[:200]
    elif name == "bomb png":
        body = bomb_png(50_000, 50_000)
    elif name == "gif":
        out = io.BytesIO()
        Image.new("RGB", (4, 4)).save(out, "GIF")
        body = out.getvalue()
    assert body is not None
    auth.login("cadre")
    answer = put(client, str(uuid.uuid4()), body, item="P10")
    assert 400 <= answer.status_code < 500
    data = answer.get_json()
    assert data["error"] == code
    assert data["message"]
    with app.app_context():
        assert count() == 0
    assert stored_files(world) == []


def bomb_png(width: int, height: int) -> bytes:
    """A valid PNG header claiming width × height, with a tiny compressed body."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")
        )

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])
    rows = zlib.compress(b"\x00" * 1000)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


def test_hash_must_match_and_address_must_be_valid(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    auth.login("cadre")
    ev = str(uuid.uuid4())
    wrong = put(client, ev, jpeg(), sha="0" * 64)
    assert wrong.status_code == 400
    assert wrong.get_json()["error"] == "hash_mismatch"
    assert put(client, "not-a-uuid", jpeg()).get_json()["error"] == "bad_address"
    assert put(client, ev, jpeg(), item="<script>").get_json()["error"] == "bad_address"
    with app.app_context():
        assert count() == 0


def test_upload_needs_login_csrf_and_role(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    body = jpeg()
    sha = hashlib.sha256(body).hexdigest()
    ev = str(uuid.uuid4())
    assert client.put(f"/api/v1/photos/{ev}/{sha}", data=body).status_code == 401
    auth.login("cadre")
    assert client.put(f"/api/v1/photos/{ev}/{sha}", data=body).status_code in (400, 403)
    auth.logout()
    auth.login("admin")  # an administrator alone sends nothing through the outbox
    assert put(client, ev, body).status_code == 403
    with app.app_context():
        assert count() == 0
    auth.logout()
    auth.login("secretary")  # raises difficulties offline: may send their photos
    assert put(client, ev, body).status_code == 201


def test_served_only_within_scope(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    auth.login("cadre")
    ev = str(uuid.uuid4())
    sync(client, world, ev)
    photo_id = put(client, ev, jpeg(), item="P10").get_json()["id"]
    answer = client.get(f"/photos/{photo_id}")
    assert answer.status_code == 200
    assert answer.mimetype == "image/jpeg"
    assert "private" in answer.headers["Cache-Control"]
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    thumb = client.get(f"/photos/{photo_id}/thumb")
    assert thumb.mimetype == "image/jpeg"
    assert max(Image.open(io.BytesIO(thumb.data)).size) <= 320
    auth.logout()
    auth.login("secretary")  # the branch's own secretary
    assert client.get(f"/photos/{photo_id}").status_code == 200
    auth.logout()
    auth.login("secretary_other")  # another branch's secretary
    assert client.get(f"/photos/{photo_id}").status_code == 404
    assert client.get(f"/photos/{photo_id}/thumb").status_code == 404
    auth.logout()
    auth.login("cadre_b")  # a cadre of another commune
    assert client.get(f"/photos/{photo_id}").status_code == 404
    auth.logout()
    assert client.get(f"/photos/{photo_id}").status_code in (302, 401)


def test_the_contract_describes_the_upload(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    upload = document["paths"]["/api/v1/photos/{evaluation_uuid}/{sha256}"]["put"]
    assert {"200", "201", "400", "413"} <= set(upload["responses"])
    assert "image/jpeg" in upload["requestBody"]["content"]


def test_pages_show_thumbnails_in_scope_only(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    auth.login("cadre")
    ev = str(uuid.uuid4())
    sync(client, world, ev)
    p10 = put(client, ev, jpeg("red"), item="P10").get_json()["id"]
    whole = put(client, ev, jpeg("green")).get_json()["id"]
    with app.app_context():
        from coso.models import Evaluation

        evaluation_id = db.session.scalar(sa.select(Evaluation.id).filter_by(uuid=ev))
    page = client.get(f"/evaluations/{evaluation_id}").get_data(as_text=True)
    assert f'/photos/{p10}/thumb" loading="lazy"' in page
    assert f'href="/photos/{whole}"' in page
    auth.logout()
    auth.login("secretary")
    page = client.get(f"/feedback/{evaluation_id}").get_data(as_text=True)
    assert f"/photos/{p10}/thumb" in page and f"/photos/{whole}/thumb" in page
    auth.logout()
    auth.login("secretary_other")
    assert client.get(f"/feedback/{evaluation_id}").status_code in (403, 404)
    assert client.get(f"/photos/{p10}/thumb").status_code == 404


def test_someone_elses_photo_on_my_evaluation_is_not_shown(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    auth.login("cadre")
    ev = str(uuid.uuid4())
    sync(client, world, ev)
    auth.logout()
    auth.login("cadre_b")
    stranger = put(client, ev, jpeg("black")).get_json()["id"]
    auth.logout()
    auth.login("secretary")
    assert client.get(f"/photos/{stranger}").status_code == 404
