"""What secretaries and cadres submit about an evaluation: replies, actions, closing notes.

One schema per form. Text is stripped and an empty field counts as missing, so
"   " is never stored as a reply; every message is written for the user, in
their language. Rules that depend on today (a due date not in the past) take
``today`` as a parameter, so a test can move the clock.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate, validates

from coso.feedback import rules
from coso.fields import Day, msgs

MAX_REPLY = 2000
MAX_DESCRIPTION = 1000
MAX_OWNER = 120
MAX_NOTE = 500
MIN_NOTE = 3


def _asking(message: Any) -> dict[str, Any]:
    """A field's messages where a missing or empty value asks for ``message``."""
    return msgs(required=message, null=message)


def _length(max_length: int, min_length: int = 1) -> validate.Length:
    return validate.Length(
        min=min_length,
        max=max_length,
        error=_l("Between %(min)s and %(max)s characters.", min=min_length, max=max_length),
    )


class _Form(Schema):
    """Strip every text field and drop empty ones, so blank means missing."""

    class Meta:
        unknown = EXCLUDE

    @pre_load
    def _strip(self, data: Any, **kwargs: Any) -> Any:
        if not hasattr(data, "items"):
            return data
        cleaned = {}
        for key, value in data.items():
            if isinstance(value, str):
                value = value.strip()
                if not value:
                    continue
            cleaned[key] = value
        return cleaned


class ReplySchema(_Form):
    """The secretary's reply to an evaluation."""

    reply = fields.String(
        required=True,
        error_messages=_asking(_l("Write your reply.")),
        validate=_length(MAX_REPLY),
    )


class _DueSchema(_Form):
    """An owner and a due date, checked against ``today``."""

    owner = fields.String(
        required=True,
        error_messages=_asking(_l("Say who is responsible.")),
        validate=_length(MAX_OWNER),
    )
    due_date = Day(
        required=True,
        error_messages={
            **_asking(_l("Choose a due date.")),
            "invalid": _l("Enter a date as dd/mm/yyyy."),
        },
    )

    def __init__(self, *, today: date, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.today = today

    @validates("due_date")
    def _due(self, value: date, **kwargs: Any) -> None:
        problem = rules.due_date_problem(value, self.today)
        if problem == "past":
            raise ValidationError(_l("The due date cannot be in the past."))
        if problem == "too_far":
            raise ValidationError(
                _l("The due date must be within %(n)s days.", n=rules.MAX_DUE_DAYS)
            )


class AcceptSchema(_DueSchema):
    """Accepting a cadre's proposal: the secretary confirms or changes owner and due date."""


class ActionSchema(_DueSchema):
    """A corrective action a secretary creates, or a cadre proposes, on an evaluation.

    :param item_codes: the items the action may refer to (those not fully met).
    :param item_required: a cadre's proposal must name the failed item it answers.
    """

    description = fields.String(
        required=True,
        error_messages=_asking(_l("Say what will be done.")),
        validate=_length(MAX_DESCRIPTION, 3),
    )
    item_code = fields.String(load_default=None, allow_none=True, error_messages=msgs())

    def __init__(
        self,
        *,
        today: date,
        item_codes: Collection[str],
        item_required: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(today=today, **kwargs)
        self.item_codes = frozenset(item_codes)
        self.item_required = item_required

    @validates("item_code")
    def _item(self, value: str | None, **kwargs: Any) -> None:
        if value is None:
            if self.item_required:
                raise ValidationError(_l("Choose the failed item this action answers."))
            return
        if value not in self.item_codes:
            raise ValidationError(_l("Choose an item from the list."))


class CloseSchema(_Form):
    """Closing an open action takes a short note on what was done."""

    note = fields.String(
        required=True,
        error_messages=_asking(_l("Write a short note on what was done.")),
        validate=_length(MAX_NOTE, MIN_NOTE),
    )


class DeclineSchema(_Form):
    """Declining a proposal takes its reason: the cadre who proposed it reads it."""

    note = fields.String(
        required=True,
        error_messages=_asking(_l("Say why you decline the proposal.")),
        validate=_length(MAX_NOTE, MIN_NOTE),
    )
