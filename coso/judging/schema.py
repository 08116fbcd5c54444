"""The settings form: the thresholds and windows of the flag rules, and how the form shows them."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from coso.fields import LocalFloat, Share, msgs, share_text
from coso.judging.scoring import Settings

#: The settings entered as shares (2/3, 75%) rather than as plain numbers.
SHARES = ("attendance_ratio", "attendance_floor", "content_floor")


def _days(low: int, high: int) -> fields.Integer:
    return fields.Integer(
        required=True,
        strict=False,
        error_messages=msgs(invalid=_l("Enter a whole number.")),
        validate=validate.Range(
            min=low, max=high, error=_l("Enter %(low)s to %(high)s.", low=low, high=high)
        ),
    )


def _score() -> LocalFloat:
    return LocalFloat(
        required=True,
        allow_nan=False,
        error_messages=msgs(invalid=_l("Enter a number."), special=_l("Enter a number.")),
        validate=validate.Range(min=0, max=100, error=_l("Enter 0 to 100.")),
    )


def _share() -> Share:
    return Share(
        required=True,
        error_messages=msgs(),
        validate=validate.Range(min=0, max=1, error=_l("Enter a share from 0 to 1 (0% to 100%).")),
    )


class SettingsSchema(Schema):
    """The thresholds and windows of the flag rules (``scoring.Settings``)."""

    class Meta:
        unknown = EXCLUDE

    score_threshold = _score()
    serious_threshold = _score()
    attendance_ratio = _share()
    attendance_floor = _share()
    content_floor = _share()
    overdue_days = _days(1, 3650)
    correction_hours = _days(0, 720)
    unack_days = _days(1, 365)
    visit_target = _days(0, 366)
    report_days = _days(1, 365)

    @validates_schema(skip_on_field_errors=True)
    def check_order(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors: dict[str, list[Any]] = {}
        if data["attendance_floor"] > data["attendance_ratio"]:
            errors["attendance_floor"] = [
                _l("The floor cannot be above the required attendance ratio.")
            ]
        if data["serious_threshold"] > data["score_threshold"]:
            errors["serious_threshold"] = [
                _l("The serious threshold cannot be above the score threshold.")
            ]
        if errors:
            raise ValidationError(errors)


SETTING_FIELDS = tuple(SettingsSchema._declared_fields)


def form_values(settings: Settings) -> dict[str, str]:
    """Settings as the form shows them: shares as 2/3, numbers without trailing zeros."""
    values = {}
    for key, value in settings.as_dict().items():
        if key in SHARES:
            values[key] = share_text(float(value))
        else:
            values[key] = f"{value:g}".replace(".", ",")
    return values
