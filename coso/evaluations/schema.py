"""The one schema that validates an evaluation, from the HTML form and the sync API alike.

Shape and types are checked by marshmallow fields; references (branch in the
user's scope, a published template, answers for exactly its items, topics of
the guidance that applies) by ``validates_schema`` against a ``Catalog`` that
is loaded once per request, so a batch of 100 costs a handful of queries.
"""

from __future__ import annotations

import uuid as uuid_module
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from coso import scope
from coso.extensions import db
from coso.judging.scoring import VALUES
from coso.models import ChecklistTemplate, Evaluation, Guidance, Unit, User
from coso.models.evaluations import MEETING_TYPES, MODES

MAX_ITEMS = 100  # answers per evaluation: far above any real checklist
MAX_NOTE = 1000
MAX_TEXT = 4000
MAX_MEMBERS = 5000
MAX_ID = 2**31 - 1  # the largest id a database integer column holds
CLOCK_SKEW = timedelta(days=1)
OLDEST_MEETING = timedelta(days=400)


def _msgs(**extra: Any) -> dict[str, Any]:
    """Error messages for a field, in the user's language."""
    messages = {
        "required": _l("This field is required."),
        "null": _l("This field is required."),
        "invalid": _l("This value is not valid."),
        "type": _l("This value is not valid."),
    }
    messages.update(extra)
    return messages


def _id_range() -> validate.Range:
    """A database id: 1 to MAX_ID (larger numbers would overflow the column)."""
    return validate.Range(min=1, max=MAX_ID, error=_l("This value is not valid."))


def canonical_uuid(value: Any) -> str | None:
    """The canonical text of a UUID, or None when ``value`` is not one."""
    if not isinstance(value, str) or len(value) > 45:
        return None
    try:
        return str(uuid_module.UUID(value.strip()))
    except ValueError:
        return None


def _no_nul(value: str) -> None:
    if "\x00" in value:
        raise ValidationError([_l("This text contains a character that is not allowed.")])


def _text(max_length: int) -> fields.String:
    return fields.String(
        load_default=None,
        allow_none=True,
        error_messages=_msgs(),
        validate=[
            validate.Length(max=max_length, error=_l("At most %(n)s characters.", n=max_length)),
            _no_nul,
        ],
    )


class AnswerSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    item = fields.String(
        required=True,
        error_messages=_msgs(),
        validate=validate.Length(min=1, max=10, error=_l("This value is not valid.")),
    )
    value = fields.String(
        required=True,
        error_messages=_msgs(),
        validate=validate.OneOf(VALUES, error=_l("Choose pass, partial, fail or not applicable.")),
    )
    note = _text(MAX_NOTE)


@dataclass
class Catalog:
    """What validating a batch needs from the database, loaded once for the whole batch."""

    user: User
    branches: dict[int, Unit] = field(default_factory=dict)
    templates: dict[int, ChecklistTemplate] = field(default_factory=dict)
    guidance: dict[int, Guidance] = field(default_factory=dict)
    own: dict[str, Evaluation] = field(default_factory=dict)

    @classmethod
    def load(cls, user: User, items: Iterable[dict[str, Any]]) -> Catalog:
        items = [item for item in items if isinstance(item, dict)]

        def ids(key: str) -> set[int]:
            return {
                v
                for item in items
                if isinstance(v := item.get(key), int)
                and not isinstance(v, bool)
                and 0 < v <= MAX_ID
            }

        catalog = cls(user=user)
        branch_ids = ids("branch_id")
        if branch_ids:
            catalog.branches = {
                unit.id: unit
                for unit in db.session.scalars(
                    sa.select(Unit).where(
                        Unit.id.in_(branch_ids), scope.scope_clause(user), Unit.active.is_(True)
                    )
                )
            }
        template_ids = ids("template_id")
        if template_ids:
            catalog.templates = {
                t.id: t
                for t in db.session.scalars(
                    sa.select(ChecklistTemplate).where(ChecklistTemplate.id.in_(template_ids))
                )
            }
        guidance_ids = ids("guidance_id")
        if guidance_ids:
            catalog.guidance = {
                g.id: g
                for g in db.session.scalars(
                    sa.select(Guidance).where(Guidance.id.in_(guidance_ids))
                )
            }
        supersedes = {s for item in items if (s := canonical_uuid(item.get("supersedes")))}
        if supersedes:
            catalog.own = {
                ev.uuid: ev
                for ev in db.session.scalars(
                    sa.select(Evaluation).where(
                        Evaluation.uuid.in_(supersedes), Evaluation.cadre_id == user.id
                    )
                )
            }
        return catalog


class AnswerList(fields.List):
    """The answers: documented as a list of ``AnswerSchema``, checked in one plain loop.

    A batch of 100 evaluations holds some 2,000 answers; running a nested schema
    for each was most of the cost of a sync. This gives the same values and the
    same errors, keyed by the answer's position, as ``fields.Nested(AnswerSchema)``.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(fields.Nested(AnswerSchema), **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> list[dict[str, Any]]:
        if not isinstance(value, list | tuple):
            raise self.make_error("invalid")
        answers, errors = load_answers(value)
        if errors:
            raise ValidationError(errors)  # type: ignore[arg-type]
        return answers


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
        elif not isinstance(item, str) or not 1 <= len(item) <= 10:
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
                if "\x00" in note:
                    note_errors.append(_l("This text contains a character that is not allowed."))
                if note_errors:
                    problems["note"] = note_errors
        if problems:
            errors[index] = problems
        else:
            answers.append({"item": item, "value": choice, "note": note})
    return answers, errors


_MISSING = object()


class EvaluationSchema(Schema):
    """An evaluation as a client submits it (design.md, ``POST /api/v1/sync``)."""

    class Meta:
        unknown = EXCLUDE

    uuid = fields.UUID(required=True, error_messages=_msgs(invalid_uuid=_l("Not a valid UUID.")))
    branch_id = fields.Integer(
        required=True, strict=True, error_messages=_msgs(), validate=_id_range()
    )
    template_id = fields.Integer(
        required=True, strict=True, error_messages=_msgs(), validate=_id_range()
    )
    guidance_id = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        error_messages=_msgs(),
        validate=_id_range(),
    )
    meeting_date = fields.Date(required=True, error_messages=_msgs())
    meeting_type = fields.String(
        required=True,
        error_messages=_msgs(),
        validate=validate.OneOf(MEETING_TYPES, error=_l("Choose a meeting type.")),
    )
    mode = fields.String(
        required=True,
        error_messages=_msgs(),
        validate=validate.OneOf(MODES, error=_l("Choose in person or online.")),
    )
    members_total = fields.Integer(
        required=True,
        strict=True,
        error_messages=_msgs(),
        validate=validate.Range(
            min=1, max=MAX_MEMBERS, error=_l("Enter a number from 1 to %(n)s.", n=MAX_MEMBERS)
        ),
    )
    members_present = fields.Integer(
        required=True,
        strict=True,
        error_messages=_msgs(),
        validate=validate.Range(
            min=0, max=MAX_MEMBERS, error=_l("Enter a number from 0 to %(n)s.", n=MAX_MEMBERS)
        ),
    )
    answers = AnswerList(
        required=True,
        error_messages=_msgs(),
        validate=validate.Length(max=MAX_ITEMS, error=_l("At most %(n)s answers.", n=MAX_ITEMS)),
    )
    topics_covered = fields.List(
        fields.String(
            error_messages=_msgs(),
            validate=validate.Length(max=10, error=_l("This value is not valid.")),
        ),
        load_default=list,
        error_messages=_msgs(),
        validate=validate.Length(max=50, error=_l("At most %(n)s topics.", n=50)),
    )
    notes = _text(MAX_TEXT)
    good_practice = _text(MAX_TEXT)
    recommend_practice = fields.Boolean(load_default=False, error_messages=_msgs())
    supersedes = fields.UUID(load_default=None, allow_none=True, error_messages=_msgs())
    started_at = fields.AwareDateTime(
        load_default=None, allow_none=True, default_timezone=UTC, error_messages=_msgs()
    )
    submitted_at = fields.AwareDateTime(
        load_default=None, allow_none=True, default_timezone=UTC, error_messages=_msgs()
    )

    def __init__(
        self, catalog: Catalog | None = None, *, now: datetime | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.catalog = catalog  # None only when the schema documents the API
        self.now = now or datetime.now(UTC)
        self._codes: dict[int, tuple[frozenset[str], frozenset[str]]] = {}

    def load_item(self, item: dict[str, Any]) -> dict[str, Any]:
        """``load(item)``, faster for the usual well-formed item; the same data or errors.

        A sync batch holds up to 100 evaluations, and marshmallow's per-field machinery
        was the largest single cost of storing one. This checks the plain JSON shapes a
        client sends, converts them exactly as the fields do (the same ``fromisoformat``,
        ``UUID``, limits and defaults), and runs the same ``check_references``. Anything
        it does not take as it is — a missing field, another type, a value out of range,
        any reference problem — goes through ``load``, so every error message still
        comes from the schema.
        """
        data = _quick_fields(item)
        if data is not None:
            try:
                self.check_references(data)
                return data
            except ValidationError:
                pass
        return self.load(item)

    @validates_schema(skip_on_field_errors=False)
    def check_references(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Everything that needs the database or several fields at once."""
        if self.catalog is None:
            raise ValueError("EvaluationSchema needs a Catalog to validate")
        errors: dict[str, Any] = {}
        today = self.now.date()
        meeting = data.get("meeting_date")
        if isinstance(meeting, date):
            if meeting > (self.now + CLOCK_SKEW).date():
                errors["meeting_date"] = [_l("The meeting date cannot be in the future.")]
            elif meeting < today - OLDEST_MEETING:
                errors["meeting_date"] = [_l("The meeting date is too far in the past.")]
        for key in ("started_at", "submitted_at"):
            stamp = data.get(key)
            if isinstance(stamp, datetime) and stamp > self.now + CLOCK_SKEW:
                errors[key] = [_l("This time is in the future.")]
        total, present = data.get("members_total"), data.get("members_present")
        if isinstance(total, int) and isinstance(present, int) and present > total:
            errors["members_present"] = [_l("Members present cannot exceed members on the roll.")]

        branch = self.catalog.branches.get(data.get("branch_id", 0))
        if "branch_id" in data and branch is None:
            errors["branch_id"] = [_l("This branch is not in your area.")]
        elif branch is not None and not branch.is_branch:
            errors["branch_id"] = [_l("Only a branch can be evaluated.")]

        template = self.catalog.templates.get(data.get("template_id", 0))
        # A retired version still takes what was filled on it while it was published.
        if "template_id" in data and (template is None or template.published_at is None):
            errors["template_id"] = [_l("This checklist is not published.")]
            template = None
        if template is not None and branch is not None:
            if template.unit_id not in branch.ancestor_ids:
                errors["template_id"] = [_l("This checklist does not apply to this branch.")]
            elif isinstance(data.get("answers"), list):
                answer_errors = self._check_answers(template, data["answers"])
                if answer_errors:
                    errors["answers"] = answer_errors

        guidance_id = data.get("guidance_id")
        guidance = self.catalog.guidance.get(guidance_id) if guidance_id else None
        if guidance_id and guidance is None:
            errors["guidance_id"] = [_l("This guidance does not exist.")]
        elif guidance is not None and branch is not None:
            if guidance.unit_id not in branch.ancestor_ids:
                errors["guidance_id"] = [_l("This guidance does not apply to this branch.")]
            elif isinstance(meeting, date) and guidance.period != f"{meeting:%Y-%m}":
                errors["guidance_id"] = [_l("This guidance is for another month.")]
        topics = data.get("topics_covered") or []
        if topics:
            known = {topic.code for topic in guidance.topics} if guidance else set()
            unknown = sorted(set(topics) - known)
            if unknown:
                errors["topics_covered"] = [
                    _l("Unknown topics: %(codes)s", codes=", ".join(unknown[:10]))
                ]
        if data.get("supersedes") is not None:
            problem = self._check_correction(data, branch)
            if problem:
                errors["supersedes"] = [problem]
        if errors:
            raise ValidationError(errors)

    def _check_answers(
        self, template: ChecklistTemplate, answers: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """An answer for every choice item of this template, and nothing else."""
        if template.id not in self._codes:  # once per template, not once per evaluation
            self._codes[template.id] = (
                frozenset(item.code for item in template.items if item.kind == "choice"),
                frozenset(item.code for item in template.items if item.kind != "choice"),
            )
        expected, computed = self._codes[template.id]
        errors: dict[str, list[Any]] = {}
        seen: set[str] = set()
        for answer in answers:
            code = answer.get("item", "")
            if code in seen:
                errors.setdefault(code, []).append(_l("Answered twice."))
            elif code in computed:
                errors.setdefault(code, []).append(
                    _l("This item is computed from the attendance counts.")
                )
            elif code not in expected:
                errors.setdefault(code[:10] or "?", []).append(_l("Not an item of this checklist."))
            seen.add(code)
        for code in sorted(expected - seen):
            errors.setdefault(code, []).append(_l("Choose an answer."))
        return errors

    def _check_correction(self, data: dict[str, Any], branch: Unit | None) -> Any:
        from coso.judging.queries import settings_for_path

        original = self.catalog.own.get(str(data["supersedes"]))
        if original is None:
            return _l("You can only correct your own evaluation.")
        if branch is not None and original.branch_id != branch.id:
            return _l("A correction must be for the same branch.")
        if original.superseded_by is not None:
            return _l("This evaluation has already been corrected.")
        if str(data.get("uuid")) == original.uuid:
            return _l("A correction needs a new identifier.")
        hours = settings_for_path(original.branch.path).correction_hours
        filed = data.get("submitted_at") or self.now
        if filed - original.submitted_at > timedelta(hours=hours):
            return _l("The correction window of %(h)s hours has passed.", h=hours)
        return None


def _quick_id(value: Any) -> bool:
    return type(value) is int and 1 <= value <= MAX_ID


def _quick_text(value: Any, limit: int) -> bool:
    return value is None or (type(value) is str and len(value) <= limit and "\x00" not in value)


def _quick_stamp(value: Any) -> tuple[bool, datetime | None]:
    """``AwareDateTime(default_timezone=UTC)`` for a string or None; (False, None) otherwise."""
    if value is None:
        return True, None
    if type(value) is not str:
        return False, None
    try:
        stamp = datetime.fromisoformat(value)
    except ValueError:
        return False, None
    return True, stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)


def _quick_fields(item: dict[str, Any]) -> dict[str, Any] | None:
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
        and len(topics) <= 50
        and all(type(code) is str and len(code) <= 10 for code in topics)
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
            "meeting_date": date.fromisoformat(raw_date),
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
        notes=get("notes"),
        good_practice=get("good_practice"),
        recommend_practice=recommend,
        started_at=started_at,
        submitted_at=submitted_at,
    )
    return data


def new_uuid() -> str:
    return str(uuid_module.uuid4())
