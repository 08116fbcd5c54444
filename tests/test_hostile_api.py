"""Hostile inputs against POST /api/v1/sync: a clear 4xx or a per-item rejection, nothing stored.

Every case runs in Vietnamese (the default) and in English (the user's saved
choice): the exact status, the exact message in that language, and the row
counts of every table a stored evaluation touches, before and after.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from coso.extensions import db
from coso.models import AuditEvent, BranchStatus, Evaluation, EvaluationAnswer, User, Visit
from tests.builders import payload, small_province, with_checklist
from tests.conftest import AuthActions

TABLES = (Evaluation, EvaluationAnswer, Visit, AuditEvent, BranchStatus)


@dataclass(frozen=True)
class Case:
    """A hostile request and what must come back.

    ``body`` builds the request body (a dict, or raw bytes) from a valid item;
    ``where`` is the path to the message inside the first item's ``errors``,
    or None when the whole request is refused with ``status``.
    """

    body: Callable[[dict[str, Any]], Any]
    status: int
    where: tuple[str, ...] | None
    vi: str
    en: str


def one(**changes: Any) -> Callable[[dict[str, Any]], Any]:
    """A batch of one valid item with ``changes`` applied."""

    def build(item: dict[str, Any]) -> dict[str, Any]:
        return {"evaluations": [{**item, **changes}]}

    return build


def with_answer(index: int, **changes: Any) -> Callable[[dict[str, Any]], Any]:
    def build(item: dict[str, Any]) -> dict[str, Any]:
        answers = [dict(a) for a in item["answers"]]
        answers[index].update(changes)
        return {"evaluations": [{**item, "answers": answers}]}

    return build


NOT_VALID = ("Giá trị không hợp lệ.", "This value is not valid.")
BAD_UUID = ("Mã định danh (UUID) không hợp lệ.", "Not a valid UUID.")
NUL_TEXT = (
    "Văn bản có ký tự không được phép.",
    "This text contains a character that is not allowed.",
)
FUTURE = (
    "Ngày sinh hoạt không được sau ngày hôm nay.",
    "The meeting date cannot be in the future.",
)
NOT_AN_OBJECT = (
    "Nội dung gửi lên phải là một đối tượng JSON.",
    "The body must be a JSON object.",
)
BATCH = ("Mỗi lần gửi từ 1 đến 100 phiếu đánh giá.", "Send between 1 and 100 evaluations.")
NOT_AN_ITEM = ("Không thuộc bộ tiêu chí này.", "Not an item of this checklist.")

CASES: dict[str, Case] = {
    # NUL: PostgreSQL refuses it in text; it must never get that far.
    "nul-in-notes": Case(one(notes="bình\x00thường"), 200, ("notes",), *NUL_TEXT),
    "nul-in-answer-note": Case(
        with_answer(0, note="a\x00b"), 200, ("answers", "0", "note"), *NUL_TEXT
    ),
    "nul-in-uuid": Case(
        one(uuid="1b4e28ba-2fa1-11d2-883f-0016d3cca4\x00"), 200, ("uuid",), *BAD_UUID
    ),
    "nul-in-topic-code": Case(
        one(topics_covered=["T1\x00"]),
        200,
        ("topics_covered",),
        "Chủ đề không xác định: T1\x00",
        "Unknown topics: T1\x00",
    ),
    "nul-in-device-id": Case(
        lambda item: {"device_id": "phone\x00", "evaluations": [item]},
        400,
        None,
        "device_id phải là chuỗi tối đa 100 ký tự.",
        "device_id must be a string of at most 100 characters.",
    ),
    # Oversized and deeply nested.
    "notes-over-4000-characters": Case(
        one(notes="ệ" * 4001), 200, ("notes",), "Tối đa 4000 ký tự.", "At most 4000 characters."
    ),
    "101-answers": Case(
        one(answers=[{"item": "P1", "value": "pass"}] * 101),
        200,
        ("answers",),
        "Tối đa 100 câu trả lời.",
        "At most 100 answers.",
    ),
    "deeply-nested-body": Case(
        lambda item: b'{"evaluations": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
        400,
        None,
        *NOT_AN_OBJECT,
    ),
    "nested-answer-value": Case(
        with_answer(0, value={"$ne": None}), 200, ("answers", "0", "value"), *NOT_VALID
    ),
    "body-over-2-mb": Case(
        one(notes="x" * (2 * 1024 * 1024 + 1)),
        413,
        None,
        "Dữ liệu gửi lên quá lớn.",
        "What you sent is too large.",
    ),
    "101-evaluations": Case(lambda item: {"evaluations": [item] * 101}, 400, None, *BATCH),
    # Wrong types.
    "body-is-a-string": Case(lambda item: "evaluations", 400, None, *NOT_AN_OBJECT),
    "item-is-a-number": Case(
        lambda item: {"evaluations": [7]},
        200,
        ("_schema",),
        "Mỗi phiếu đánh giá phải là một đối tượng JSON.",
        "Each evaluation must be a JSON object.",
    ),
    "count-as-text": Case(one(members_total="20"), 200, ("members_total",), *NOT_VALID),
    "count-as-boolean": Case(one(members_present=True), 200, ("members_present",), *NOT_VALID),
    "id-as-float": Case(one(branch_id=1.5), 200, ("branch_id",), *NOT_VALID),
    # Negative and absurd counts, ids beyond any column.
    "negative-members": Case(
        one(members_total=-5),
        200,
        ("members_total",),
        "Nhập số từ 1 đến 5000.",
        "Enter a number from 1 to 5000.",
    ),
    "absurd-members-present": Case(
        one(members_present=10**30),
        200,
        ("members_present",),
        "Nhập số từ 0 đến 5000.",
        "Enter a number from 0 to 5000.",
    ),
    "branch-id-beyond-integer": Case(one(branch_id=2**70), 200, ("branch_id",), *NOT_VALID),
    "template-id-beyond-integer": Case(one(template_id=2**63), 200, ("template_id",), *NOT_VALID),
    # Unknown ids.
    "unknown-branch": Case(
        one(branch_id=999_999),
        200,
        ("branch_id",),
        "Chi đoàn này không thuộc phạm vi phụ trách của bạn.",
        "This branch is not in your area.",
    ),
    "unknown-guidance": Case(
        one(guidance_id=2**31 - 1),
        200,
        ("guidance_id",),
        "Hướng dẫn này không tồn tại.",
        "This guidance does not exist.",
    ),
    "unknown-supersedes": Case(
        one(supersedes="00000000-0000-4000-8000-000000000000"),
        200,
        ("supersedes",),
        "Bạn chỉ được sửa phiếu đánh giá của chính mình.",
        "You can only correct your own evaluation.",
    ),
    # Dates far in the past and the future: outside the years 2000-2100 (issue 17, items 7, 16).
    "impossible-date": Case(one(meeting_date="2026-02-30"), 200, ("meeting_date",), *NOT_VALID),
    "meeting-as-iso-week": Case(one(meeting_date="2026-W49-1"), 200, ("meeting_date",), *NOT_VALID),
    "meeting-in-basic-form": Case(one(meeting_date="20261201"), 200, ("meeting_date",), *NOT_VALID),
    "submitted-as-basic-form": Case(
        one(submitted_at="20261201T100000Z"), 200, ("submitted_at",), *NOT_VALID
    ),
    "submitted-before-the-meeting": Case(
        one(submitted_at="2020-01-01T08:00:00+07:00"),
        200,
        ("submitted_at",),
        "Không thể gửi phiếu đánh giá trước ngày sinh hoạt.",
        "An evaluation cannot be filed before its meeting.",
    ),
    "future-meeting-in-range": Case(
        one(meeting_date="2099-12-31"), 200, ("meeting_date",), *FUTURE
    ),
    # SQL-looking strings and odd Unicode where a code is expected.
    "sql-in-meeting-type": Case(
        one(meeting_type="regular'; DROP TABLE evaluation; --"),
        200,
        ("meeting_type",),
        "Chọn loại sinh hoạt.",
        "Choose a meeting type.",
    ),
    "sql-in-uuid": Case(one(uuid="' OR '1'='1"), 200, ("uuid",), *BAD_UUID),
    "combining-mark-in-item-code": Case(
        with_answer(0, item="P1\u0301"), 200, ("answers", "P1\u0301"), *NOT_AN_ITEM
    ),
    "rtl-override-in-mode": Case(
        one(mode="\u202eenilno"),
        200,
        ("mode",),
        "Chọn trực tiếp hoặc trực tuyến.",
        "Choose in person or online.",
    ),
}


YEARS = (
    "Nhập ngày trong khoảng từ năm 2000 đến 2100.",
    "Enter a date from the year 2000 to 2100.",
)
# Every date and time of the item at both ends of what Python can hold; a year-1 stamp
# with +14:00 overflowed (OverflowError, a 500 for the batch) before the strict parser.
for _field, _low, _high in (
    ("meeting_date", "0001-01-01", "9999-12-31"),
    ("started_at", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"),
    ("submitted_at", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"),
):
    CASES[f"{_field}-year-1"] = Case(one(**{_field: _low}), 200, (_field,), *YEARS)
    CASES[f"{_field}-year-9999"] = Case(one(**{_field: _high}), 200, (_field,), *YEARS)

# Text a database cannot store (a lone surrogate is valid JSON: "\\ud800"), in every text
# field of the item: before, one of these failed the whole batch with a 500 (item 6).
UNSTORABLE = ("\ud800", "a\udfffb", "\udc80\ud800", "x\x00y")
for _n, _bad in enumerate(UNSTORABLE):
    for _field in ("notes", "good_practice"):
        CASES[f"unstorable-{_n}-in-{_field}"] = Case(
            one(**{_field: _bad}), 200, (_field,), *NUL_TEXT
        )
    CASES[f"unstorable-{_n}-in-answer-note"] = Case(
        with_answer(0, note=_bad), 200, ("answers", "0", "note"), *NUL_TEXT
    )
    CASES[f"unstorable-{_n}-in-uuid"] = Case(one(uuid=_bad), 200, ("uuid",), *BAD_UUID)
    CASES[f"unstorable-{_n}-in-supersedes"] = Case(
        one(supersedes=_bad), 200, ("supersedes",), *BAD_UUID
    )
    CASES[f"unstorable-{_n}-in-mode"] = Case(
        one(mode=_bad),
        200,
        ("mode",),
        "Chọn trực tiếp hoặc trực tuyến.",
        "Choose in person or online.",
    )
    CASES[f"unstorable-{_n}-in-meeting-type"] = Case(
        one(meeting_type=_bad),
        200,
        ("meeting_type",),
        "Chọn loại sinh hoạt.",
        "Choose a meeting type.",
    )
    CASES[f"unstorable-{_n}-in-meeting-date"] = Case(
        one(meeting_date=_bad), 200, ("meeting_date",), *NOT_VALID
    )
    CASES[f"unstorable-{_n}-in-submitted-at"] = Case(
        one(submitted_at=_bad), 200, ("submitted_at",), *NOT_VALID
    )
    CASES[f"unstorable-{_n}-in-answer-value"] = Case(
        with_answer(0, value=_bad),
        200,
        ("answers", "0", "value"),
        "Chọn Đạt, Đạt một phần, Không đạt hoặc Không áp dụng.",
        "Choose pass, partial, fail or not applicable.",
    )
    CASES[f"unstorable-{_n}-in-device-id"] = Case(
        lambda item, bad=_bad: {"device_id": bad, "evaluations": [item]},
        400,
        None,
        "device_id phải là chuỗi tối đa 100 ký tự.",
        "device_id must be a string of at most 100 characters.",
    )


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    with app.app_context():
        data = with_checklist(small_province())
        return {
            "branch": data["branches"][0].id,
            "template": data["template"].id,
            "guidance": data["guidance"].id,
        }


def counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        return {
            model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in TABLES
        }


def choose_language(app: Flask, username: str, lang: str) -> None:
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == username))
        user.locale = lang
        db.session.commit()


def message_at(errors: Any, where: tuple[str, ...]) -> list[str]:
    for key in where:
        errors = errors[key]
    return errors


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("name", list(CASES))
def test_hostile_sync_input_is_refused_and_nothing_is_stored(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any], name: str, lang: str
) -> None:
    case = CASES[name]
    choose_language(app, "cadre", lang)
    auth.login("cadre")
    token = auth.csrf_token()
    valid = payload(world["branch"], world["template"], world["guidance"])
    body = case.body(valid)
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    before = counts(app)

    response = client.post(
        "/api/v1/sync",
        data=data,
        headers={"X-CSRFToken": token},
        content_type="application/json",
    )

    assert response.status_code == case.status
    assert response.is_json
    expected = case.vi if lang == "vi" else case.en
    answer = response.get_json()
    if case.where is None:
        assert answer["message"] == expected
    else:
        (result,) = answer["results"]
        assert result["status"] == "rejected"
        assert result["id"] is None
        assert expected in message_at(result["errors"], case.where)
    assert counts(app) == before


def test_the_valid_item_the_cases_start_from_is_stored(
    app: Flask, client: FlaskClient, auth: AuthActions, world: dict[str, Any]
) -> None:
    """The oracle is sound: without the hostile change, the same request stores one row."""
    auth.login("cadre")
    before = counts(app)
    item = payload(world["branch"], world["template"], world["guidance"])
    response = client.post(
        "/api/v1/sync", json={"evaluations": [item]}, headers={"X-CSRFToken": auth.csrf_token()}
    )
    assert response.get_json()["results"][0]["status"] == "created"
    after = counts(app)
    assert after["Evaluation"] == before["Evaluation"] + 1
