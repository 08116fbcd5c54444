"""``EvaluationSchema.load_item`` (the sync's fast path) gives exactly what ``load`` gives.

The fast path (coso.evaluations.fastpath) converts well-formed items itself and
hands anything else to marshmallow; these tests hold it to the same data and the
same errors over thousands of generated items, valid and broken field by field.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from coso.checklists.rules import DEFAULT_ITEMS
from coso.evaluations.fastpath import quick_fields
from coso.evaluations.queries import Catalog
from coso.evaluations.schema import EvaluationSchema
from coso.evaluations.service import CONTENT_FIELDS
from coso.extensions import db
from coso.fields import plain_errors
from coso.models import User
from tests.builders import payload, small_province, with_checklist

TODAY = date.today()
NOW = datetime.now(UTC)
CHOICE = [item["code"] for item in DEFAULT_ITEMS if item["kind"] == "choice"]
COMPUTED = [item["code"] for item in DEFAULT_ITEMS if item["kind"] != "choice"]
A_UUID = "6f1c1f0e-3a55-4d8e-9a3c-2b1f5e7d9c10"


def _answers(**change: Any) -> list[dict[str, Any]]:
    return [{"item": code, "value": change.get(code, "pass")} for code in CHOICE]


ODD: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    -1,
    7,
    2**31 - 1,
    2**31,
    5000,
    5001,
    1.0,
    2.5,
    "",
    " ",
    "1",
    "true",
    "abc",
    "a\x00b",
    "x" * 11,
    "x" * 4001,
    [],
    {},
    ["T1"],
    ["T1", "T1", "T2"],
    ["T9"],
    ["x" * 11],
    ["T1"] * 51,
    [1],
    TODAY.isoformat(),
    (TODAY - timedelta(days=1)).isoformat(),
    (TODAY + timedelta(days=3)).isoformat(),
    (TODAY - timedelta(days=500)).isoformat(),
    TODAY.strftime("%Y%m%d"),
    TODAY.strftime("%G-W%V-%u"),
    "2026-13-01",
    NOW.isoformat(),
    NOW.replace(tzinfo=None).isoformat(),
    NOW.strftime("%Y-%m-%dT%H:%M:%SZ"),
    NOW.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+07:00"),
    NOW.strftime("%Y-%m-%d %H:%M"),
    NOW.strftime("%Y-%m-%dT%H:%M:%S.1234567+00:00"),
    (NOW + timedelta(days=5)).isoformat(),
    A_UUID,
    A_UUID.upper(),
    "{" + A_UUID + "}",
    "urn:uuid:" + A_UUID,
    A_UUID.replace("-", ""),
    A_UUID[:-1],
    "regular",
    "theme",
    "REGULAR",
    "in_person",
    "online",
    _answers(),
    _answers()[:-1],
    _answers() + _answers()[:1],
    _answers(P1="bad"),
    _answers(P1="fail", P2="na", C1="partial"),
    [dict(a, note="ghi chú") for a in _answers()],
    [dict(a, note=5) for a in _answers()],
    [dict(a, note="x" * 1001) for a in _answers()],
    [*_answers(), {"item": COMPUTED[0], "value": "pass"}] if COMPUTED else _answers(),
    [*_answers(), {"item": "ZZ", "value": "pass"}],
    [*_answers()[:-1], "P1"],
    [*_answers()[:-1], {"value": "pass"}],
    [{"item": "P1", "value": "pass"}] * 101,
]
FIELDS = [*CONTENT_FIELDS, "unknown_field"]
DELETE = object()
change = st.one_of(
    st.sampled_from(ODD),
    st.just(DELETE),
    st.text(max_size=12),
    st.integers(min_value=-3, max_value=2**32),
)


@pytest.fixture
def schema_world(app: Flask) -> Any:
    with app.test_request_context():
        data = with_checklist(small_province())
        user = db.session.get(User, data["users"]["cadre"].id)
        base = payload(data["branches"][0].id, data["template"].id, data["guidance"].id)
        yield user, base, data


def _outcome(load: Any, item: dict[str, Any]) -> tuple[str, str]:
    """What a load gave, spelled out exactly (``repr``: ``1`` is not ``True``)."""
    try:
        return "data", repr(sorted(load(item).items()))
    except ValidationError as exc:
        return "errors", repr(plain_errors(exc.messages))


def _schema(user: User, items: list[dict[str, Any]]) -> EvaluationSchema:
    return EvaluationSchema(Catalog.load(user, items), now=NOW)


def test_the_usual_item_takes_the_fast_path(schema_world: Any) -> None:
    user, base, data = schema_world
    assert quick_fields(base) is not None
    schema = _schema(user, [base])
    assert _outcome(schema.load_item, base) == _outcome(schema.load, base)
    assert _outcome(schema.load_item, base)[0] == "data"
    # A well-formed item with a reference problem still gets the schema's error.
    other = dict(base, branch_id=data["branches"][2].id, topics_covered=["T1", "T9"])
    schema = _schema(user, [other])
    kind, text = _outcome(schema.load_item, other)
    assert kind == "errors" and "topics_covered" in text
    assert (kind, text) == _outcome(schema.load, other)


def test_same_data_and_same_errors_as_marshmallow(schema_world: Any) -> None:
    user, base, data = schema_world
    branches = [branch.id for branch in data["branches"]]

    @settings(max_examples=600, deadline=None, database=None)
    @given(
        changes=st.dictionaries(st.sampled_from(FIELDS), change, max_size=4),
        branch=st.sampled_from(branches),
    )
    def check(changes: dict[str, Any], branch: int) -> None:
        item = dict(base, branch_id=branch, uuid=str(uuid.uuid4()))
        for key, value in changes.items():
            if value is DELETE:
                item.pop(key, None)
            else:
                item[key] = value
        schema = _schema(user, [item])
        assert _outcome(schema.load_item, item) == _outcome(schema.load, item)

    check()
