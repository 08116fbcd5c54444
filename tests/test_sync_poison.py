"""Issue 17: a poison item never fails its batch; the server's clock rules; huge ids are 404.

Each test here failed on the code before the fix (a 500, a stored row, or a leak)
and runs on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from coso.evaluations import service
from coso.extensions import db
from coso.models import Evaluation, User
from tests.builders import payload, small_province, with_checklist
from tests.conftest import AuthActions


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    with app.app_context():
        data = with_checklist(small_province())
        return {
            "branches": [b.id for b in data["branches"]],
            "template": data["template"].id,
            "guidance": data["guidance"].id,
        }


@pytest.fixture
def cadre(client: FlaskClient, auth: AuthActions, world: dict) -> FlaskClient:
    auth.login("cadre")
    return client


def item(world: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    base = payload(world["branches"][0], world["template"], world["guidance"])
    base.update(overrides)
    return base


def sync(client: FlaskClient, items: list[dict[str, Any]], **extra: Any) -> Any:
    """POST a batch as raw JSON (lone surrogates survive ``json.dumps``, escaped)."""
    token = client.get("/api/v1/session").get_json()["csrf_token"]
    return client.post(
        "/api/v1/sync",
        data=json.dumps({"evaluations": items, **extra}),
        headers={"X-CSRFToken": token},
        content_type="application/json",
    )


def stored_uuids(app: Flask) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(sa.select(Evaluation.uuid)))


# ------------------------------------------------------- one bad item, the rest stored

POISONS: dict[str, dict[str, Any]] = {
    "surrogate-in-notes": {"notes": "\ud800"},
    "surrogate-in-good-practice": {"good_practice": "ok \udfff"},
    "surrogate-pair-reversed": {"notes": "\udc00\ud800"},
    "year-1-started-at-plus-14": {"started_at": "0001-01-01T00:00:00+14:00"},
    "year-1-submitted-at-plus-14": {"submitted_at": "0001-01-01T00:00:00+14:00"},
    "year-9999-submitted-at-minus-12": {"submitted_at": "9999-12-31T23:59:59-12:00"},
    "submitted-in-1900": {"submitted_at": "1900-01-01T00:00:00+00:00"},
    "meeting-as-iso-week": {"meeting_date": "2026-W49-1"},
}


@pytest.mark.parametrize("name", list(POISONS))
def test_a_poison_item_is_rejected_and_its_neighbours_are_stored(
    app: Flask, cadre: FlaskClient, world: dict, name: str
) -> None:
    before, after = item(world), item(world, branch_id=world["branches"][1])
    poison = item(world, **POISONS[name])
    response = sync(cadre, [before, poison, after])
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == ["created", "rejected", "created"]
    assert results[1]["errors"] and results[1]["id"] is None
    assert stored_uuids(app) == {before["uuid"], after["uuid"]}


def test_a_surrogate_in_an_answer_note_is_a_field_error(
    app: Flask, cadre: FlaskClient, world: dict
) -> None:
    poison = item(world)
    poison["answers"][3]["note"] = "ghi chú \ud83d"
    good = item(world)
    results = sync(cadre, [poison, good]).get_json()["results"]
    assert results[0]["status"] == "rejected"
    assert "note" in results[0]["errors"]["answers"]["3"]
    assert results[1]["status"] == "created"


def test_a_surrogate_in_device_id_is_a_clear_400(cadre: FlaskClient, world: dict) -> None:
    response = sync(cadre, [item(world)], device_id="phone-\ud800")
    assert response.status_code == 400
    assert "device_id" in response.get_json()["message"]


def test_an_unexpected_error_in_the_checks_costs_one_item(
    app: Flask, cadre: FlaskClient, world: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hole in the checks (here: one that raises) rejects that item, never the batch."""
    from coso.evaluations.schema import EvaluationSchema

    real = EvaluationSchema.load_item
    poison = item(world, notes="boom")

    def load_item(self: EvaluationSchema, raw: dict[str, Any]) -> dict[str, Any]:
        if raw.get("notes") == "boom":
            raise OverflowError("date value out of range")
        return real(self, raw)

    monkeypatch.setattr(EvaluationSchema, "load_item", load_item)
    good = item(world)
    results = sync(cadre, [poison, good]).get_json()["results"]
    assert [r["status"] for r in results] == ["rejected", "created"]
    assert results[0]["errors"]["_schema"]
    assert stored_uuids(app) == {good["uuid"]}


# ------------------------------------------------------- the server's clock decides


def test_the_correction_window_ignores_the_phones_clock(
    app: Flask, cadre: FlaskClient, world: dict
) -> None:
    """A correction 37 days later, claiming to be filed an hour after the original: refused."""
    original = item(
        world,
        meeting_date=(date.today() - timedelta(days=38)).isoformat(),
        guidance_id=None,
        topics_covered=[],
    )
    assert sync(cadre, [original]).get_json()["results"][0]["status"] == "created"
    long_ago = datetime.now(UTC) - timedelta(days=37)
    with app.app_context():
        stored = db.session.scalar(sa.select(Evaluation).where(Evaluation.uuid == original["uuid"]))
        stored.received_at = long_ago
        stored.submitted_at = long_ago
        db.session.commit()
    fix = item(
        world,
        meeting_date=original["meeting_date"],
        guidance_id=None,
        topics_covered=[],
        supersedes=original["uuid"],
        submitted_at=(long_ago + timedelta(hours=1)).isoformat(),
    )
    result = sync(cadre, [fix]).get_json()["results"][0]
    assert result["status"] == "rejected"
    assert "supersedes" in result["errors"]
    assert fix["uuid"] not in stored_uuids(app)


def test_the_window_runs_on_the_receipt_time_given_to_submit_batch(app: Flask, world: dict) -> None:
    """``received_at`` of submit_batch is the clock of the checks and the stored receipt."""
    with app.app_context():
        cadre = db.session.scalar(sa.select(User).where(User.username == "cadre"))
        original = item(world)
        (first,) = service.submit_batch([original], cadre)
        db.session.commit()
        assert first.status == "created"
        late = datetime.now(UTC) + timedelta(hours=49)
        fix = item(world, supersedes=original["uuid"])
        (refused,) = service.submit_batch([fix], cadre, received_at=late)
        assert refused.status == "rejected" and "supersedes" in (refused.errors or {})
        db.session.rollback()
        soon = datetime.now(UTC) + timedelta(hours=47)
        (taken,) = service.submit_batch([fix], cadre, received_at=soon)
        assert taken.status == "created"
        db.session.commit()
        stored = db.session.get(Evaluation, taken.id)
        assert abs(stored.received_at - soon) < timedelta(seconds=1)


def test_submitted_before_the_meeting_is_refused(cadre: FlaskClient, world: dict) -> None:
    meeting = date.today() - timedelta(days=3)
    early = item(
        world,
        meeting_date=meeting.isoformat(),
        submitted_at=f"{meeting - timedelta(days=1)}T09:00:00+00:00",
    )
    result = sync(cadre, [early]).get_json()["results"][0]
    assert result["status"] == "rejected" and "submitted_at" in result["errors"]
    # Phones send UTC: 06:30 in Hà Nội on the meeting day is 23:30 "Z" the day before.
    on_time = item(
        world,
        meeting_date=meeting.isoformat(),
        submitted_at=f"{meeting - timedelta(days=1)}T23:30:00.000Z",
    )
    assert sync(cadre, [on_time]).get_json()["results"][0]["status"] == "created"


# ------------------------------------------------------- huge ids: 404, never 500

HUGE = (2**31, 2**31 + 1, 2**63, 2**64, 10**30, 10**400)


def _int_routes(app: Flask) -> list[tuple[str, str, str]]:
    """(endpoint, method, URL with every int argument set to {n}) of each int route."""
    out = []
    for rule in app.url_map.iter_rules():
        if "int" not in {type(c).__name__.lower() for c in rule._converters.values()} and not any(
            f"<int:{arg}>" in rule.rule for arg in rule.arguments
        ):
            continue
        url = re.sub(r"<int:[a-z_]+>", "{n}", rule.rule)
        url = re.sub(r"<(?:string:)?[a-z_]+>", "csv", url)
        method = "GET" if "GET" in (rule.methods or ()) else "POST"
        out.append((rule.endpoint, method, url))
    return out


def test_every_int_route_answers_404_to_huge_ids(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    routes = _int_routes(app)
    assert len(routes) >= 20
    auth.login("admin")
    token = auth.csrf_token()
    for endpoint, method, url in routes:
        for n in HUGE:
            path = url.format(n=n)
            if method == "GET":
                response = client.get(path)
            else:
                response = client.post(path, data={"csrf_token": token})
            assert response.status_code == 404, (endpoint, path, response.status_code)


def test_the_largest_id_still_reaches_its_view(
    client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    """2^31 - 1 is a real id the column holds: routed, then not found by the view."""
    auth.login("province")
    assert client.get(f"/evaluations/{2**31 - 1}").status_code == 404
    assert client.get(f"/units/{2**31 - 1}").status_code == 404
    assert client.get("/evaluations/0").status_code == 404


# ------------------------------------------------------- Retry-After only when waiting


def test_a_200_sync_carries_no_retry_after(cadre: FlaskClient, world: dict) -> None:
    response = sync(cadre, [item(world)])
    assert response.status_code == 200
    assert "Retry-After" not in response.headers


def test_the_busy_503_says_the_intended_wait(
    cadre: FlaskClient, world: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    from coso.errors import RETRY_AFTER_BUSY

    def busy(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("INSERT ...", {}, Exception("database is locked"))

    monkeypatch.setattr(service, "submit_batch", busy)
    response = sync(cadre, [item(world)])
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(RETRY_AFTER_BUSY) == "2"


# ------------------------------------------------------- a refused correction reveals nothing


def test_a_refused_supersedes_of_another_cadres_evaluation_shows_nothing(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict
) -> None:
    branch = world["branches"][2]  # both cadres may evaluate it
    meeting = date.today() - timedelta(days=9)
    shown = f"{meeting:%d/%m/%Y}"
    theirs = payload(branch, world["template"], meeting_date=meeting.isoformat())
    auth.login("cadre")
    assert sync(client, [theirs]).get_json()["results"][0]["status"] == "created"
    auth.logout()
    auth.login("cadre_b")
    page = client.get(f"/evaluate/{branch}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    response = client.post(
        f"/evaluate/{branch}",
        data={"csrf_token": token, "supersedes": theirs["uuid"], "template_id": world["template"]},
    )
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    # (The branch's last evaluation is public in the area; the correction notice is not.)
    assert not re.search(rf'role="status">[^<]*{shown}', text)
    # The oracle: the author's own refused correction does name the meeting.
    auth.logout()
    auth.login("cadre")
    page = client.get(f"/evaluate/{branch}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    own = client.post(
        f"/evaluate/{branch}",
        data={"csrf_token": token, "supersedes": theirs["uuid"], "template_id": world["template"]},
    )
    assert own.status_code == 422
    assert re.search(rf'role="status">[^<]*{shown}', own.get_data(as_text=True))
