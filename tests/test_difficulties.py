"""Difficulties and proposals (issue 19, item 1): raise, pass up, answer, close — the service."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from coso.difficulties import queries, rules, service
from coso.extensions import db
from coso.models import AuditEvent, Difficulty, DifficultyCategory, DifficultyPass, Unit, User
from tests.builders import small_province

UUID = "6f1c2b1e-8a51-4c1e-9d7a-0b3c4d5e6f70"


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    with app.app_context():
        data = small_province()
        return {
            "province": data["province"].id,
            "communes": [c.id for c in data["communes"]],
            "branches": [b.id for b in data["branches"]],
        }


def _user(name: str) -> User:
    return db.session.scalar(sa.select(User).where(User.username == name))


def test_the_secretary_raises_the_commune_passes_up_the_province_answers_and_closes(
    app: Flask, world: dict[str, Any]
) -> None:
    with app.app_context():
        branch = db.session.get(Unit, world["branches"][0])
        data = {"uuid": UUID, "category": "funds", "text": "  Thiếu kinh phí sinh hoạt  "}
        difficulty, created = service.raise_difficulty(branch, data, _user("secretary"))
        assert created and difficulty.routed_to_id == world["communes"][0]
        assert difficulty.text == "Thiếu kinh phí sinh hoạt" and difficulty.state == rules.OPEN
        again, created = service.raise_difficulty(branch, data, _user("secretary"))
        assert not created and again.id == difficulty.id
        db.session.commit()

        service.assign(difficulty, _user("commune"), date(2026, 6, 1), _user("commune"))
        service.pass_up(difficulty, _user("commune"), "Cần tỉnh hỗ trợ")
        assert difficulty.routed_to_id == world["province"] and difficulty.owner_id is None
        with pytest.raises(service.Refused):
            service.pass_up(difficulty, _user("province"))
        service.answer(difficulty, "Tỉnh cấp 2 triệu", _user("province"))
        assert difficulty.state == rules.ANSWERED and difficulty.answered_at is not None
        service.close(difficulty, "Đã chuyển kinh phí", _user("province"))
        db.session.commit()

        stored = queries.by_uuid(UUID)
        assert stored is not None and stored.state == rules.CLOSED
        assert stored.answer == "Tỉnh cấp 2 triệu" and stored.resolution == "Đã chuyển kinh phí"
        passes = db.session.scalars(sa.select(DifficultyPass)).all()
        assert [(p.from_unit_id, p.to_unit_id) for p in passes] == [
            (world["communes"][0], world["province"])
        ]
        actions = db.session.scalars(
            sa.select(AuditEvent.action)
            .where(AuditEvent.action.like("difficulty.%"))
            .order_by(AuditEvent.id)
        ).all()
        assert actions == [
            "difficulty.raise",
            "difficulty.assign",
            "difficulty.pass_up",
            "difficulty.answer",
            "difficulty.close",
        ]
        with pytest.raises(service.Refused):
            service.answer(stored, "again", _user("province"))
        with pytest.raises(service.Refused):
            service.close(stored, "again", _user("province"))


def test_bad_input_is_refused_and_nothing_stored(app: Flask, world: dict[str, Any]) -> None:
    with app.app_context():
        branch = db.session.get(Unit, world["branches"][0])
        for data, problem in (
            ({"uuid": UUID, "category": "weather", "text": "x"}, "unknown_category"),
            ({"uuid": UUID, "category": "funds", "text": "   "}, "text_required"),
        ):
            with pytest.raises(service.Refused) as caught:
                service.raise_difficulty(branch, data, _user("secretary"))
            assert caught.value.problem == problem
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Difficulty)) == 0


def test_an_owner_must_be_of_the_receiving_level(app: Flask, world: dict[str, Any]) -> None:
    with app.app_context():
        branch = db.session.get(Unit, world["branches"][0])
        data = {"uuid": UUID, "category": "venue", "text": "Không có hội trường"}
        difficulty, _ = service.raise_difficulty(branch, data, _user("secretary"))
        with pytest.raises(service.Refused) as caught:
            service.assign(difficulty, _user("province"), None, _user("commune"))
        assert caught.value.problem == "owner_not_of_level"


def test_a_commune_difficulty_goes_to_the_province(app: Flask, world: dict[str, Any]) -> None:
    with app.app_context():
        commune = db.session.get(Unit, world["communes"][0])
        assert service.default_receiver(commune).id == world["province"]


def test_a_province_edits_its_list_of_categories(app: Flask, world: dict[str, Any]) -> None:
    with app.app_context():
        province = db.session.get(Unit, world["province"])
        assert queries.categories(province)[0][0] == "funds"
        db.session.add(
            DifficultyCategory(province_id=province.id, code="land", label="Đất đai", position=1)
        )
        db.session.add(
            DifficultyCategory(
                province_id=province.id, code="funds", label="Kinh phí", position=0, active=False
            )
        )
        db.session.commit()
        assert queries.categories(province) == [("land", "Đất đai")]
        branch = db.session.get(Unit, world["branches"][0])
        with pytest.raises(service.Refused):
            service.raise_difficulty(
                branch, {"uuid": UUID, "category": "funds", "text": "x"}, _user("secretary")
            )


def test_overdue_counts_per_branch(app: Flask, world: dict[str, Any]) -> None:
    with app.app_context():
        b11, b12 = (db.session.get(Unit, i) for i in world["branches"][:2])
        rows = (
            (b11, "a", date(2026, 5, 1), False),
            (b11, "b", date(2026, 5, 1), True),
            (b11, "c", date(2026, 7, 1), False),
            (b12, "d", None, False),
        )
        for unit, key, due, closed in rows:
            item, _ = service.raise_difficulty(
                unit,
                {
                    "uuid": f"00000000-0000-4000-8000-00000000000{key}",
                    "category": "other",
                    "text": key,
                },
                _user("secretary"),
            )
            service.assign(item, None, due, _user("commune"))
            if closed:
                service.close(item, "done", _user("commune"))
        db.session.commit()
        assert queries.overdue_counts([b11.id, b12.id], date(2026, 6, 1)) == {b11.id: 1}


def test_category_labels_in_vietnamese_unless_the_province_wrote_its_own(app: Flask) -> None:
    from coso.difficulties.words import category_label

    with app.test_request_context(headers={"Accept-Language": "vi"}):
        assert category_label("funds", "Funds") == "Kinh phí"
        assert category_label("members_away", "Members working away") == "Đoàn viên đi làm ăn xa"
        assert category_label("funds", "Quỹ hoạt động") == "Quỹ hoạt động"
        assert category_label("land", "Đất đai") == "Đất đai"


# ------------------------------------------------------------------ the pages


def _as(auth: Any, client: Any, username: str) -> None:
    client.post("/logout", data={"csrf_token": auth.csrf_token()})
    assert auth.login(username).status_code == 302


def _post(client: Any, auth: Any, url: str, data: dict[str, Any]) -> Any:
    return client.post(url, data={**data, "csrf_token": auth.csrf_token()})


def test_through_the_pages_raise_pass_up_answer_close_and_read(
    app: Flask, client: Any, auth: Any, world: dict[str, Any]
) -> None:
    branch = world["branches"][0]
    _as(auth, client, "secretary")
    page = client.get("/difficulties/new")
    assert page.status_code == 200 and "Đoàn viên đi làm ăn xa" in page.get_data(as_text=True)
    form = {"uuid": UUID, "unit_id": branch, "category": "venue", "text": "Không có hội trường"}
    assert _post(client, auth, "/difficulties/new", form).status_code == 303
    assert _post(client, auth, "/difficulties/new", form).status_code == 303  # same uuid: one
    bad = _post(client, auth, "/difficulties/new", {**form, "uuid": "x", "text": " "})
    assert bad.status_code == 422 and "Hãy ghi nội dung khó khăn." in bad.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Difficulty)) == 1
        difficulty_id = queries.by_uuid(UUID).id  # type: ignore[union-attr]
    url = f"/difficulties/{difficulty_id}"
    assert client.get("/difficulties/inbox").status_code == 403  # a branch has no inbox
    assert _post(client, auth, url + "/pass-up", {}).status_code == 403

    _as(auth, client, "commune")
    inbox = client.get("/difficulties/inbox").get_data(as_text=True)
    assert f'data-difficulty-id="{difficulty_id}"' in inbox
    assert _post(client, auth, url + "/pass-up", {"note": "Cần tỉnh"}).status_code == 303
    assert f'data-difficulty-id="{difficulty_id}"' not in client.get(
        "/difficulties/inbox"
    ).get_data(as_text=True)
    assert _post(client, auth, url + "/answer", {"answer": "x"}).status_code == 403

    _as(auth, client, "province")
    assert f'data-difficulty-id="{difficulty_id}"' in client.get("/difficulties/inbox").get_data(
        as_text=True
    )
    assert _post(client, auth, url + "/answer", {"answer": " "}).status_code == 422
    assert _post(client, auth, url + "/answer", {"answer": "Mượn nhà văn hoá"}).status_code == 303
    assert _post(client, auth, url + "/assign", {"due": "bad"}).status_code == 422
    assert _post(client, auth, url + "/close", {"resolution": "Đã mượn"}).status_code == 303
    overview = client.get("/difficulties/overview").get_data(as_text=True)
    assert "difficulty-figures" in overview
    xlsx = client.get("/difficulties/export.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"

    _as(auth, client, "secretary")
    mine = client.get("/difficulties/").get_data(as_text=True)
    assert "Mượn nhà văn hoá" in mine and "Đã mượn" in mine and 'data-state="closed"' in mine
    with app.app_context():
        stored = db.session.get(Difficulty, difficulty_id)
        assert stored is not None and stored.routed_to_id == world["province"]
        assert stored.state == rules.CLOSED


def test_an_overdue_difficulty_shows_beside_the_branch_flag(
    app: Flask, client: Any, auth: Any, world: dict[str, Any]
) -> None:
    app.config["COSO_TODAY"] = "2026-06-01"
    with app.app_context():
        branch = db.session.get(Unit, world["branches"][0])
        item, _ = service.raise_difficulty(
            branch, {"uuid": UUID, "category": "funds", "text": "x"}, _user("secretary")
        )
        service.assign(item, None, date(2026, 5, 1), _user("commune"))
        db.session.commit()
    _as(auth, client, "province")
    page = client.get(f"/units/{world['communes'][0]}").get_data(as_text=True)
    assert 'data-difficulties-overdue="1"' in page and "1 khó khăn quá hạn" in page


def test_the_inbox_pages_every_open_difficulty(
    app: Flask, client: Any, auth: Any, world: dict[str, Any]
) -> None:
    """A province's inbox of many is paged (50 a page), oldest first, none out of reach."""
    from datetime import UTC, datetime, timedelta

    with app.app_context():
        branch = db.session.get(Unit, world["branches"][0])
        secretary = _user("secretary")
        start = datetime(2026, 1, 1, tzinfo=UTC)
        for i in range(120):
            data = {"uuid": f"00000000-0000-4000-8000-{i:012d}", "category": "funds",
                    "text": f"Khó khăn {i}", "raised_at": start + timedelta(hours=i)}  # fmt: skip
            service.raise_difficulty(branch, data, secretary)
        db.session.commit()
        newest = queries.by_uuid(f"00000000-0000-4000-8000-{119:012d}")
        assert newest is not None
        newest_id = newest.id
    _as(auth, client, "commune")
    first = client.get("/difficulties/inbox").get_data(as_text=True)
    assert first.count("data-difficulty-id=") == 50 and 'rel="next"' in first
    last = client.get("/difficulties/inbox?page=3").get_data(as_text=True)
    assert last.count("data-difficulty-id=") == 20
    assert f'data-difficulty-id="{newest_id}"' in last


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"owner_id": "9" * 30}, "owner_id"),  # past what the database holds: not a 500
        ({"owner_id": "abc"}, "owner_id"),
        ({"due": "2026-13-40"}, "due"),
        ({"due": "0001-01-01"}, "due"),  # a day the app's one strict reader refuses
        ({"due": "2026-W49-1"}, "due"),
    ],
)
def test_bad_owner_or_due_is_said_and_nothing_changes(
    app: Flask, client: Any, auth: Any, world: dict[str, Any], form: dict[str, str], field: str
) -> None:
    _as(auth, client, "secretary")
    raised = {"uuid": UUID, "unit_id": world["branches"][0], "category": "venue", "text": "x"}
    assert _post(client, auth, "/difficulties/new", raised).status_code == 303
    with app.app_context():
        difficulty_id = queries.by_uuid(UUID).id  # type: ignore[union-attr]
    _as(auth, client, "commune")
    response = _post(client, auth, f"/difficulties/{difficulty_id}/assign", form)
    assert response.status_code == 422
    assert f'id="err-d-{field.replace("_id", "")}"' in response.get_data(as_text=True)
    with app.app_context():
        stored = db.session.get(Difficulty, difficulty_id)
        assert stored is not None and stored.owner_id is None and stored.due is None
