"""The fast path of ``EvaluationSchema``: the same loading, written as plain loops.

Why a second form: a sync batch holds up to 100 evaluations and some 2,000
answers, and marshmallow's per-field machinery was the largest single cost of
storing them. These functions check the plain JSON shapes a client sends and
convert them exactly as the schema's fields do (the same ``parse_day``/``parse_stamp``,
``UUID``, limits and defaults). ``quick_fields`` answers None for anything it
does not take as it is, and the schema then loads the item itself, so every
error message about an evaluation's fields still comes from the schema.
tests/test_schema_fast.py holds this module to marshmallow: over thousands of
generated items, valid and broken field by field, the same data and the same errors.
"""

from __future__ import annotations

import uuid as uuid_module
from datetime import UTC, datetime
from typing import Any

from flask_babel import lazy_gettext as _l

from coso.evaluations.rules import (
    MAX_CODE,
    MAX_ID,
    MAX_ITEMS,
    MAX_MEMBERS,
    MAX_NOTE,
    MAX_SEEN_DONE,
    MAX_TEXT,
    MAX_TOPICS,
)
from coso.fields import is_storable, parse_day, parse_stamp
from coso.judging.scoring import VALUES
from coso.models.evaluations import MEETING_TYPES, MODES

_MISSING = object()


def load_answers(value: list[Any] | tuple[Any, ...]) -> tuple[list[dict[str, Any]], dict[int, Any]]:
    """The answers as ``AnswerSchema`` would load them, and the errors by position."""
    answers: list[dict[str, Any]] = []
    errors: dict[int, dict[str, list[Any]]] = {}
    for index, raw in enumerate(value):
        if not isinstance(raw, dict):
            errors[index] = {"_schema": [_l("This value is not valid.")]}
            continue
        problems: dict[str, list[Any]] = {}
        item, choice, note = (
            raw.get("item", _MISSING),
            raw.get("value", _MISSING),
            raw.get("note"),
        )
        if item is _MISSING or item is None:
            problems["item"] = [_l("This field is required.")]
        elif not isinstance(item, str) or not 1 <= len(item) <= MAX_CODE:
            problems["item"] = [_l("This value is not valid.")]
        if choice is _MISSING or choice is None:
            problems["value"] = [_l("This field is required.")]
        elif not isinstance(choice, str):
            problems["value"] = [_l("This value is not valid.")]
        elif choice not in VALUES:
            problems["value"] = [_l("Choose pass, partial, fail or not applicable.")]
        if note is not None:
            if not isinstance(note, str):
                problems["note"] = [_l("This value is not valid.")]
            else:
                note_errors = []
                if len(note) > MAX_NOTE:
                    note_errors.append(_l("At most %(n)s characters.", n=MAX_NOTE))
                if not is_storable(note):
                    note_errors.append(_l("This text contains a character that is not allowed."))
                if note_errors:
                    problems["note"] = note_errors
        if problems:
            errors[index] = problems
        else:
            answers.append({"item": item, "value": choice, "note": note})
    return answers, errors


def _quick_id(value: Any) -> bool:
    return type(value) is int and 1 <= value <= MAX_ID


def _quick_text(value: Any, limit: int) -> bool:
    return value is None or (type(value) is str and len(value) <= limit and is_storable(value))


def _quick_stamp(value: Any) -> tuple[bool, datetime | None]:
    """``AwareDateTime(default_timezone=UTC)`` for a string or None; (False, None) otherwise."""
    if value is None:
        return True, None
    if type(value) is not str:
        return False, None
    try:
        return True, parse_stamp(value, UTC)
    except ValueError:
        return False, None


def quick_fields(item: dict[str, Any]) -> dict[str, Any] | None:
    """The fields of a plainly well-formed item as ``EvaluationSchema`` loads them, else None.

    None means "let marshmallow decide": it is not an error by itself.
    """
    get = item.get
    try:
        branch_id, template_id = item["branch_id"], item["template_id"]
        members_total, members_present = item["members_total"], item["members_present"]
        meeting_type, mode = item["meeting_type"], item["mode"]
        raw_uuid, raw_date, raw_answers = item["uuid"], item["meeting_date"], item["answers"]
    except KeyError:
        return None
    guidance_id = get("guidance_id")
    topics = get("topics_covered", _MISSING)
    recommend = get("recommend_practice", False)
    supersedes = get("supersedes")
    if not (
        _quick_id(branch_id)
        and _quick_id(template_id)
        and (guidance_id is None or _quick_id(guidance_id))
        and type(members_total) is int
        and 1 <= members_total <= MAX_MEMBERS
        and type(members_present) is int
        and 0 <= members_present <= MAX_MEMBERS
        and type(meeting_type) is str
        and meeting_type in MEETING_TYPES
        and type(mode) is str
        and mode in MODES
        and type(raw_uuid) is str
        and type(raw_date) is str
        and type(raw_answers) is list
        and len(raw_answers) <= MAX_ITEMS
        and (supersedes is None or type(supersedes) is str)
        and type(recommend) is bool
        and _quick_text(get("notes"), MAX_TEXT)
        and _quick_text(get("good_practice"), MAX_TEXT)
    ):
        return None
    if topics is _MISSING:
        topics = []
    elif not (
        type(topics) is list
        and len(topics) <= MAX_TOPICS
        and all(type(code) is str and len(code) <= MAX_CODE for code in topics)
    ):
        return None
    seen_done = get("seen_done", _MISSING)  # optional (issue 18, item 4): old clients omit it
    if seen_done is _MISSING or seen_done is None:
        seen_done = []
    elif not (
        type(seen_done) is list
        and len(seen_done) <= MAX_SEEN_DONE
        and all(_quick_id(action_id) for action_id in seen_done)
    ):
        return None
    answers, errors = load_answers(raw_answers)
    if errors:
        return None
    started_ok, started_at = _quick_stamp(get("started_at"))
    submitted_ok, submitted_at = _quick_stamp(get("submitted_at"))
    if not (started_ok and submitted_ok):
        return None
    try:
        data = {
            "uuid": uuid_module.UUID(raw_uuid),
            "meeting_date": parse_day(raw_date),
            "supersedes": uuid_module.UUID(supersedes) if supersedes is not None else None,
        }
    except ValueError:
        return None
    data.update(
        branch_id=branch_id,
        template_id=template_id,
        guidance_id=guidance_id,
        meeting_type=meeting_type,
        mode=mode,
        members_total=members_total,
        members_present=members_present,
        answers=answers,
        topics_covered=list(topics),
        seen_done=sorted(set(seen_done)),
        notes=get("notes"),
        good_practice=get("good_practice"),
        recommend_practice=recommend,
        started_at=started_at,
        submitted_at=submitted_at,
    )
    return data
