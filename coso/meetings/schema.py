"""What a secretary submits to declare, move or cancel meetings, validated in one place."""

from __future__ import annotations

import re
from datetime import date, time
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from coso.fields import Day, msgs, storable, text
from coso.meetings.rules import KINDS, MAX_MONTHS, NTHS, WEEKDAYS, may_declare_on

TIME_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
MAX_PLACE, MAX_LINK, MAX_REASON = 200, 500, 500


class TimeOfDay(fields.Field):
    """``HH:MM`` (24 hours), as a ``<input type="time">`` sends it."""

    default_error_messages = {"invalid": _l("Enter a time as hh:mm, e.g. 19:30.")}

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> time:
        match = TIME_RE.match(value.strip()) if isinstance(value, str) else None
        if match is None:
            raise self.make_error("invalid")
        return time(int(match.group(1)), int(match.group(2)))


def _choice(choices: tuple[int, ...], message: Any) -> fields.Integer:
    return fields.Integer(
        required=True,
        strict=False,
        error_messages=msgs(invalid=message),
        validate=validate.OneOf(choices, error=message),
    )


class _Where(Schema):
    """When and where: the time, a place or an online link (one of them at least), the kind."""

    class Meta:
        unknown = EXCLUDE

    time = TimeOfDay(required=True, error_messages=msgs())
    place = text(MAX_PLACE)
    link = fields.String(
        load_default=None,
        allow_none=True,
        error_messages=msgs(),
        validate=[
            validate.Length(max=MAX_LINK, error=_l("Enter at most %(n)s characters.", n=MAX_LINK)),
            validate.URL(
                schemes={"http", "https"}, error=_l("Enter a web address starting with https://.")
            ),
        ],
    )
    kind = fields.String(
        required=True,
        error_messages=msgs(),
        validate=validate.OneOf(KINDS, error=_l("Choose a kind of meeting from the list.")),
    )

    def __init__(self, today: date, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.today = today

    def _where_errors(self, data: dict[str, Any]) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        for name in ("place", "link"):
            value = data.get(name)
            if value is not None:
                try:
                    storable(value)
                except ValidationError as exc:
                    errors[name] = [str(m) for m in exc.messages]
        if not data.get("place") and not data.get("link") and "place" not in errors:
            errors["place"] = [str(_l("Give the place, or the link of an online meeting."))]
        return errors

    def _day_errors(self, data: dict[str, Any]) -> dict[str, list[str]]:
        day = data.get("day")
        if day is not None and not may_declare_on(day, self.today):
            return {"day": [str(_l("Choose a day from today to about a year ahead."))]}
        return {}


class MeetingSchema(_Where):
    """One meeting, declared by hand or moved to a new day."""

    day = Day(required=True)

    @validates_schema
    def _check(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors = {**self._where_errors(data), **self._day_errors(data)}
        if errors:
            raise ValidationError(errors)


class PatternSchema(_Where):
    """ "The ``nth`` ``weekday`` of each month": the pattern and how many months to fill."""

    nth = _choice(NTHS, _l("Choose which week of the month from the list."))
    weekday = _choice(WEEKDAYS, _l("Choose a day of the week from the list."))
    months = fields.Integer(
        load_default=3,
        strict=False,
        error_messages=msgs(invalid=_l("Choose how many months to fill from the list.")),
        validate=validate.Range(
            1, MAX_MONTHS, error=_l("Fill from 1 to %(n)s months.", n=MAX_MONTHS)
        ),
    )

    @validates_schema
    def _check(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors = self._where_errors(data)
        if errors:
            raise ValidationError(errors)


class CancelSchema(Schema):
    """Why a meeting will not take place."""

    class Meta:
        unknown = EXCLUDE

    reason = text(MAX_REASON, required=True)

    @validates_schema
    def _check(self, data: dict[str, Any], **kwargs: Any) -> None:
        reason = (data.get("reason") or "").strip()
        if not reason:
            raise ValidationError({"reason": [str(_l("Say why the meeting is cancelled."))]})
        try:
            storable(reason)
        except ValidationError as exc:
            raise ValidationError({"reason": [str(m) for m in exc.messages]}) from None
