"""What a cadre submits when logging a visit or its report, validated in one place."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from coso import scope
from coso.extensions import db
from coso.fields import Day, msgs
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
        validate=validate.Length(
            max=MAX_REPORT, error=_l("At most %(n)s characters.", n=MAX_REPORT)
        ),
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

    def __init__(self, user: User, today: date, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.user = user
        self.today = today

    @validates_schema
    def _check(self, data: dict[str, Any], **kwargs: Any) -> None:
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
