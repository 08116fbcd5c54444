"""What a cadre submits when logging a visit or its report, validated in one place."""

from __future__ import annotations

from datetime import UTC, date
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from coso import scope
from coso.difficulties.schema import DIFFICULTY
from coso.extensions import db
from coso.fields import Day, Stamp, msgs, storable
from coso.models import Unit, User

#: Forms a cadre logs by hand; a branch meeting is logged by its evaluation.
LOGGED_FORMS = ("inspection", "coorganise", "field_study", "research")
MAX_DAYS = 31
MAX_REPORT = 5000


def _report_field(required: bool) -> fields.String:
    optional: dict[str, Any] = {} if required else {"load_default": None, "allow_none": True}
    return fields.String(
        required=required,
        **optional,
        error_messages=msgs(),
        validate=[
            validate.Length(max=MAX_REPORT, error=_l("At most %(n)s characters.", n=MAX_REPORT)),
            storable,
        ],
    )


class VisitSchema(Schema):
    """A visit to the grassroots other than a branch meeting."""

    class Meta:
        unknown = EXCLUDE

    unit_id = fields.Integer(
        required=True,
        strict=False,
        error_messages=msgs(invalid=_l("Choose a unit from the list.")),
    )
    form = fields.String(
        required=True,
        error_messages=msgs(),
        validate=validate.OneOf(LOGGED_FORMS, error=_l("Choose a form of visit from the list.")),
    )
    start_date = Day(
        required=True,
        error_messages=msgs(invalid=_l("Enter a date as dd/mm/yyyy.")),
    )
    end_date = Day(
        required=True,
        error_messages=msgs(invalid=_l("Enter a date as dd/mm/yyyy.")),
    )
    report = _report_field(required=False)

    def __init__(self, user: User | None = None, today: date | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.user = user  # None only when the schema documents the API
        self.today = today or date.max

    @validates_schema
    def _check(self, data: dict[str, Any], **kwargs: Any) -> None:
        if self.user is None:
            raise ValueError("VisitSchema needs the user to validate")
        errors: dict[str, list[str]] = {}
        unit_id = data.get("unit_id")
        if unit_id is not None:
            unit = db.session.get(Unit, unit_id) if 0 < unit_id < 2**31 else None
            if unit is None or not (scope.goes_out(self.user) and scope.in_scope(self.user, unit)):
                errors["unit_id"] = [str(_l("Choose a unit in your area."))]
        start, end = data.get("start_date"), data.get("end_date")
        if start is not None and start > self.today:
            errors["start_date"] = [str(_l("A visit cannot start in the future."))]
        if end is not None and end > self.today:
            errors["end_date"] = [str(_l("A visit cannot end in the future."))]
        elif start is not None and end is not None:
            if end < start:
                errors["end_date"] = [str(_l("The end date must not be before the start date."))]
            elif (end - start).days + 1 > MAX_DAYS:
                errors["end_date"] = [
                    str(
                        _l(
                            "A visit lasts at most %(n)s days; log a longer stay in parts.",
                            n=MAX_DAYS,
                        )
                    )
                ]
        if errors:
            raise ValidationError(errors)


class ReportSchema(Schema):
    """The written report of a visit, added at once or later."""

    class Meta:
        unknown = EXCLUDE

    report = _report_field(required=True)

    @validates_schema
    def _check(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not (data.get("report") or "").strip():
            raise ValidationError({"report": [str(_l("Write the report."))]})


# ------------------------------------------------------- the sync API's item kinds
#: The kinds of item a sync batch holds (issue 18, item 5; a difficulty, issue 19 item 1); an
#: item without ``kind`` is an evaluation, as every batch was before kinds existed.
EVALUATION, VISIT, VISIT_REPORT = "evaluation", "visit", "visit_report"
KINDS = (EVALUATION, VISIT, VISIT_REPORT, DIFFICULTY)
MAX_VERSION = 1_000_000


def _uuid_field(**kwargs: Any) -> fields.UUID:
    return fields.UUID(error_messages=msgs(invalid_uuid=_l("Not a valid UUID.")), **kwargs)


def _stamp() -> Stamp:
    return Stamp(load_default=None, allow_none=True, default_timezone=UTC, error_messages=msgs())


class VisitItemSchema(VisitSchema):
    """A visit as a phone's outbox sends it: the web form's fields, its UUID and times.

    The same checks as the form (a unit in the user's area, no future dates, at most 31
    days). ``report`` may come with it; later versions of the report are items of their own.
    """

    kind = fields.String(
        required=True,
        error_messages=msgs(),
        validate=validate.Equal(VISIT, error=_l("This value is not valid.")),
    )
    uuid = _uuid_field(required=True)
    started_at = _stamp()
    submitted_at = _stamp()


class ReportItemSchema(Schema):
    """One version of a visit's written report, drafted on the phone over days.

    ``uuid`` names the draft (it stays the same across versions), ``version`` counts its
    versions upward: a later version of the same draft replaces the text stored.
    """

    class Meta:
        unknown = EXCLUDE

    kind = fields.String(
        required=True,
        error_messages=msgs(),
        validate=validate.Equal(VISIT_REPORT, error=_l("This value is not valid.")),
    )
    uuid = _uuid_field(required=True)
    visit_uuid = _uuid_field(required=True)
    version = fields.Integer(
        required=True,
        strict=True,
        error_messages=msgs(),
        validate=validate.Range(
            min=1, max=MAX_VERSION, error=_l("Enter a number from 1 to %(n)s.", n=MAX_VERSION)
        ),
    )
    report = _report_field(required=True)
    submitted_at = _stamp()

    @validates_schema
    def _check(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "report" in data and not (data.get("report") or "").strip():
            raise ValidationError({"report": [str(_l("Write the report."))]})
