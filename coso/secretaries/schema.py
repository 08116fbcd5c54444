"""What a commune or branch secretary submits about a branch's secretary and deputy."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from coso.fields import Day, msgs, squash, storable
from coso.secretaries.rules import ROLES, guided_value

MAX_NAME = 120
YES_NO = ("yes", "no")


def _role() -> fields.String:
    return fields.String(
        required=True,
        error_messages=msgs(),
        validate=validate.OneOf(ROLES, error=_l("Choose the secretary or the deputy.")),
    )


def _yes_no(required: bool) -> fields.String:
    choice = validate.OneOf(YES_NO, error=_l("Choose yes or no."))
    if required:
        return fields.String(required=True, error_messages=msgs(), validate=choice)
    return fields.String(load_default=None, allow_none=True, error_messages=msgs(), validate=choice)


class _Dated(Schema):
    class Meta:
        unknown = EXCLUDE

    def __init__(self, today: date, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.today = today

    def _not_future(self, day: date | None, name: str) -> None:
        if day is not None and day > self.today:
            raise ValidationError(_l("This date is in the future."), name)


class PostSchema(_Dated):
    """Who holds a post (secretary or deputy) since when, and their Party membership."""

    role = _role()
    name = fields.String(
        required=True,
        error_messages=msgs(),
        validate=[
            validate.Length(
                min=1, max=MAX_NAME, error=_l("Enter at most %(n)s characters.", n=MAX_NAME)
            ),
            storable,
        ],
    )
    since = Day(required=True, error_messages=msgs())
    party_member = _yes_no(required=True)
    guided = _yes_no(required=False)

    @validates_schema
    def check(self, data: dict[str, Any], **kwargs: Any) -> None:
        self._not_future(data.get("since"), "since")
        if "name" in data and not squash(data["name"]):
            raise ValidationError(_l("This field is required."), "name")

    @post_load
    def clean(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        data["name"] = squash(data["name"])
        data["party_member"] = data["party_member"] == "yes"
        data["guided"] = guided_value(data["party_member"], data.get("guided") == "yes")
        return data


class EndSchema(_Dated):
    """A post left empty: whose term ends, and on which day."""

    role = _role()
    on = Day(required=True, error_messages=msgs())

    @validates_schema
    def check(self, data: dict[str, Any], **kwargs: Any) -> None:
        self._not_future(data.get("on"), "on")


POST_FIELDS = tuple(PostSchema._declared_fields)
END_FIELDS = tuple(EndSchema._declared_fields)
