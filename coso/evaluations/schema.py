"""The one schema that validates an evaluation, from the HTML form and the sync API alike.

Shape and types are checked by marshmallow fields; references (branch in the
user's scope, a published template, answers for exactly its items, topics of
the guidance that applies) by ``validates_schema`` against a ``Catalog``
(coso.evaluations.queries) that is loaded once per request, so a batch of 100
costs a handful of queries. ``load_item`` takes the fast path
(coso.evaluations.fastpath) for the usual well-formed item.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from coso.evaluations.fastpath import load_answers, quick_fields
from coso.evaluations.queries import Catalog
from coso.evaluations.rules import (
    CLOCK_SKEW,
    MAX_CODE,
    MAX_ID,
    MAX_ITEMS,
    MAX_MEMBERS,
    MAX_NOTE,
    MAX_SEEN_DONE,
    MAX_TEXT,
    MAX_TOPICS,
    OLDEST_MEETING,
)
from coso.fields import Day, Stamp, msgs, storable
from coso.judging.queries import settings_for_path
from coso.judging.scoring import VALUES
from coso.models import ChecklistTemplate, Unit
from coso.models.evaluations import MEETING_TYPES, MODES

#: The time zone where a calendar day begins first: a stamp read there is on its latest day.
EARLIEST_ZONE = timezone(timedelta(hours=14))


def _id_range() -> validate.Range:
    """A database id: 1 to MAX_ID (larger numbers would overflow the column)."""
    return validate.Range(min=1, max=MAX_ID, error=_l("This value is not valid."))


def _text(max_length: int) -> fields.String:
    return fields.String(
        load_default=None,
        allow_none=True,
        error_messages=msgs(),
        validate=[
            validate.Length(max=max_length, error=_l("At most %(n)s characters.", n=max_length)),
            storable,
        ],
    )


class AnswerSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    item = fields.String(
        required=True,
        error_messages=msgs(),
        validate=validate.Length(min=1, max=MAX_CODE, error=_l("This value is not valid.")),
    )
    value = fields.String(
        required=True,
        error_messages=msgs(),
        validate=validate.OneOf(VALUES, error=_l("Choose pass, partial, fail or not applicable.")),
    )
    note = _text(MAX_NOTE)


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


class EvaluationSchema(Schema):
    """An evaluation as a client submits it (design.md, ``POST /api/v1/sync``)."""

    class Meta:
        unknown = EXCLUDE

    uuid = fields.UUID(required=True, error_messages=msgs(invalid_uuid=_l("Not a valid UUID.")))
    branch_id = fields.Integer(
        required=True, strict=True, error_messages=msgs(), validate=_id_range()
    )
    template_id = fields.Integer(
        required=True, strict=True, error_messages=msgs(), validate=_id_range()
    )
    guidance_id = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        error_messages=msgs(),
        validate=_id_range(),
    )
    meeting_date = Day(required=True, error_messages=msgs())
    meeting_type = fields.String(
        required=True,
        error_messages=msgs(),
        validate=validate.OneOf(MEETING_TYPES, error=_l("Choose a meeting type.")),
    )
    mode = fields.String(
        required=True,
        error_messages=msgs(),
        validate=validate.OneOf(MODES, error=_l("Choose in person or online.")),
    )
    members_total = fields.Integer(
        required=True,
        strict=True,
        error_messages=msgs(),
        validate=validate.Range(
            min=1, max=MAX_MEMBERS, error=_l("Enter a number from 1 to %(n)s.", n=MAX_MEMBERS)
        ),
    )
    members_present = fields.Integer(
        required=True,
        strict=True,
        error_messages=msgs(),
        validate=validate.Range(
            min=0, max=MAX_MEMBERS, error=_l("Enter a number from 0 to %(n)s.", n=MAX_MEMBERS)
        ),
    )
    answers = AnswerList(
        required=True,
        error_messages=msgs(),
        validate=validate.Length(max=MAX_ITEMS, error=_l("At most %(n)s answers.", n=MAX_ITEMS)),
    )
    topics_covered = fields.List(
        fields.String(
            error_messages=msgs(),
            validate=validate.Length(max=MAX_CODE, error=_l("This value is not valid.")),
        ),
        load_default=list,
        error_messages=msgs(),
        validate=validate.Length(max=MAX_TOPICS, error=_l("At most %(n)s topics.", n=MAX_TOPICS)),
    )
    notes = _text(MAX_TEXT)
    good_practice = _text(MAX_TEXT)
    recommend_practice = fields.Boolean(load_default=False, error_messages=msgs())
    supersedes = fields.UUID(
        load_default=None,
        allow_none=True,
        error_messages=msgs(invalid_uuid=_l("Not a valid UUID.")),
    )
    #: Optional and additive (issue 18, item 4): the branch's open corrective actions the
    #: cadre saw done at this meeting. Old clients leave it out; ids that are not an open
    #: action of this branch are ignored when stored (an action closed meanwhile is no error).
    seen_done = fields.List(
        fields.Integer(strict=True, error_messages=msgs(), validate=_id_range()),
        load_default=list,
        allow_none=True,
        error_messages=msgs(),
        validate=validate.Length(
            max=MAX_SEEN_DONE, error=_l("At most %(n)s actions.", n=MAX_SEEN_DONE)
        ),
        metadata={"description": "ids of the branch's open corrective actions seen done"},
    )
    started_at = Stamp(
        load_default=None, allow_none=True, default_timezone=UTC, error_messages=msgs()
    )
    submitted_at = Stamp(
        load_default=None, allow_none=True, default_timezone=UTC, error_messages=msgs()
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
        client sends, converts them exactly as the fields do (the same ``parse_day``,
        ``UUID``, limits and defaults), and runs the same ``check_references``. Anything
        it does not take as it is — a missing field, another type, a value out of range,
        any reference problem — goes through ``load``, so every error message still
        comes from the schema.
        """
        data = quick_fields(item)
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
        submitted = data.get("submitted_at")
        # Never filed before the meeting it describes. The meeting date is the branch's local
        # day while phones send UTC ("Z"): a form filed at 06:30 in Hà Nội is the day before
        # in UTC. So the stamp is read where the day starts first (UTC+14).
        if (
            "submitted_at" not in errors
            and isinstance(submitted, datetime)
            and isinstance(meeting, date)
            and submitted.astimezone(EARLIEST_ZONE).date() < meeting
        ):
            errors["submitted_at"] = [_l("An evaluation cannot be filed before its meeting.")]
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
        # Measured on the server's own clock: when the original arrived and now. The
        # phone's submitted_at could otherwise reopen the window at will (issue 17, item 4).
        if self.now - original.received_at > timedelta(hours=hours):
            return _l("The correction window of %(h)s hours has passed.", h=hours)
        return None
