"""Photos through an evaluation's life (issue 20): a correction carries the photos of the
evaluation it replaces; the retention setting removes old originals and keeps thumbnails."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from coso.extensions import db
from coso.models import Evaluation, Photo
from coso.models.types import utcnow
from coso.photos import service, storage
from tests.conftest import AuthActions
from tests.test_photos import jpeg, put, stored_files, sync, token, world  # noqa: F401


def evaluation_id(ev: str) -> int:
    return db.session.scalar(sa.select(Evaluation.id).filter_by(uuid=ev))


def test_a_correction_carries_the_photos_it_replaces(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    world: dict[str, Any],  # noqa: F811
) -> None:
    auth.login("cadre")
    first = str(uuid.uuid4())
    sync(client, world, first)
    minutes = put(client, first, jpeg("red"), item="P10").get_json()["id"]
    whole = put(client, first, jpeg("green")).get_json()["id"]
    correction = str(uuid.uuid4())
    sync(client, world, correction, supersedes=first)
    # The correction retakes the whole-meeting photo (the same picture: shown once) and adds one.
    put(client, correction, jpeg("green"))
    extra = put(client, correction, jpeg("blue"), item="P3").get_json()["id"]
    with app.app_context():
        page_id = evaluation_id(correction)
    page = client.get(f"/evaluations/{page_id}").get_data(as_text=True)
    for photo in (minutes, whole, extra):
        assert f"/photos/{photo}/thumb" in page
    assert page.count('loading="lazy"') == 3
    auth.logout()
    auth.login("secretary")
    page = client.get(f"/feedback/{page_id}").get_data(as_text=True)
    assert f"/photos/{minutes}/thumb" in page and f"/photos/{extra}/thumb" in page


def test_retention_removes_old_originals_and_keeps_thumbnails(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    world: dict[str, Any],  # noqa: F811
) -> None:
    auth.login("cadre")
    ev = str(uuid.uuid4())
    sync(client, world, ev)
    old = put(client, ev, jpeg("red"), item="P10").get_json()["id"]
    shared = put(client, ev, jpeg("green"), item="P10").get_json()["id"]
    recent = put(client, ev, jpeg("green")).get_json()["id"]  # same bytes as "shared", new
    with app.app_context():
        long_ago = utcnow() - timedelta(days=400)
        db.session.execute(
            sa.update(Photo).where(Photo.id.in_([old, shared])).values(uploaded_at=long_ago)
        )
        db.session.commit()
        assert service.purge_originals(365) == 2
        assert service.purge_originals(365) == 0  # nothing left to do: idempotent
        rows = {p.id: p for p in db.session.scalars(sa.select(Photo))}
        assert rows[old].original_purged_at is not None
        assert rows[recent].original_purged_at is None
        files = storage.storage()
        assert files.get(storage.original_key(rows[old].sha256)) is None
        assert files.get(storage.thumbnail_key(rows[old].sha256)) is not None
        # Still needed by the recent photo of the same bytes: the file stays.
        assert files.get(storage.original_key(rows[shared].sha256)) is not None
    # The purged photo opens as its thumbnail; the page still shows it.
    answer = client.get(f"/photos/{old}")
    assert answer.status_code == 200 and answer.mimetype == "image/jpeg"
    assert client.get(f"/photos/{shared}").status_code == 200
    assert len(stored_files(world)) == 3  # two thumbnails (the bytes are shared) + one original


def test_the_purge_command(app: Flask, world: dict[str, Any]) -> None:  # noqa: F811
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["photos", "purge"])
    assert refused.exit_code != 0 and "COSO_PHOTO_KEEP_DAYS" in refused.output
    assert runner.invoke(args=["photos", "purge", "--older-than", "0"]).exit_code != 0
    done = runner.invoke(args=["photos", "purge", "--older-than", "30"])
    assert done.exit_code == 0 and "0 photo" in done.output
    app.config["PHOTO_KEEP_DAYS"] = 90
    assert "older than 90 days" in runner.invoke(args=["photos", "purge"]).output


@pytest.mark.parametrize("value", ["abc", "0", "-3", "1.5"])
def test_a_bad_retention_setting_stops_the_start(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    from coso import create_app

    monkeypatch.setenv("COSO_PHOTO_KEEP_DAYS", value)
    with pytest.raises(ValueError, match="COSO_PHOTO_KEEP_DAYS"):
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_the_review_shows_each_failed_item_beside_its_photos(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    world: dict[str, Any],  # noqa: F811
) -> None:
    auth.login("cadre")
    ev = str(uuid.uuid4())
    sync(client, world, ev, values={"P10": "fail"})
    minutes = put(client, ev, jpeg("red"), item="P10").get_json()["id"]
    passed = put(client, ev, jpeg("blue"), item="P3").get_json()["id"]  # P3 passed: not shown
    whole = put(client, ev, jpeg("green")).get_json()["id"]
    auth.logout()
    with app.app_context():
        from coso.models import Visit

        visit_id = db.session.scalar(
            sa.select(Visit.id).where(Visit.evaluation_id == evaluation_id(ev))
        )
    auth.login("province")
    page = client.get(f"/reviews/{visit_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    evidence = html[html.index('id="review-evidence"') :]
    p10 = evidence[evidence.index('data-item="P10"') :]
    assert f"/photos/{minutes}/thumb" in p10[: p10.index("</li>")]
    assert f"/photos/{passed}/thumb" not in html
    assert f"/photos/{whole}/thumb" in evidence
    # And the reviewer may open them.
    assert client.get(f"/photos/{minutes}/thumb").status_code == 200


def test_the_branch_timeline_counts_each_meetings_photos(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    world: dict[str, Any],  # noqa: F811
) -> None:
    auth.login("cadre")
    ev = str(uuid.uuid4())
    sync(client, world, ev)
    put(client, ev, jpeg("red"), item="P10")
    put(client, ev, jpeg("green"))
    auth.logout()
    auth.login("cadre_b")
    put(client, ev, jpeg("black"))  # someone else's photo on that uuid counts for nothing
    auth.logout()
    with app.app_context():
        page_id = evaluation_id(ev)
    auth.login("province")
    html = client.get(f"/units/{world['branches'][0]}").get_data(as_text=True)
    entry = html[html.index(f'data-evaluation-id="{page_id}"') :]
    assert f'href="/evaluations/{page_id}#photos">2 ảnh</a>' in entry[: entry.index("</li>")]


def test_the_evaluations_export_counts_photos(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    world: dict[str, Any],  # noqa: F811
) -> None:
    import csv
    import io
    from datetime import date

    auth.login("cadre")
    ev = str(uuid.uuid4())
    sync(client, world, ev)
    put(client, ev, jpeg("red"), item="P10")
    put(client, ev, jpeg("green"), item="P10")
    auth.logout()
    with app.app_context():
        number = evaluation_id(ev)
        branch = db.session.scalar(sa.select(Evaluation.branch_id).filter_by(uuid=ev))
    auth.login("province")
    today = date.today().isoformat()
    answer = client.get(f"/exports/{branch}/evaluations.csv?from={today}&to={today}")
    assert answer.status_code == 200
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))
    header = next(i for i, row in enumerate(rows) if "Ảnh" in row)
    photos = rows[header].index("Ảnh")
    mine = [row for row in rows[header + 1 :] if row and row[0] == str(number)]
    assert mine and mine[0][photos] == "2"


def test_an_original_gone_under_a_row_opens_as_its_thumbnail(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    world: dict[str, Any],  # noqa: F811
) -> None:
    """An upload of the same picture racing a purge may keep a row whose original the purge
    then removes: the photo still opens, as its thumbnail."""
    auth.login("cadre")
    ev = str(uuid.uuid4())
    photo = put(client, ev, jpeg("red", (400, 300))).get_json()["id"]
    with app.app_context():
        sha = db.session.get(Photo, photo).sha256
        storage.storage().delete(storage.original_key(sha))
    answer = client.get(f"/photos/{photo}")
    assert answer.status_code == 200 and answer.mimetype == "image/jpeg"
    assert answer.data == client.get(f"/photos/{photo}/thumb").data
