"""The schemas of the unit forms: a unit added or edited by hand, and a move."""

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
    validates,
    validates_schema,
)

from coso.fields import Day, msgs, text
from coso.models.units import UNIT_KINDS
from coso.units.rules import code_ok

#: What the code rule asks for, in words (the rule is :func:`coso.units.rules.code_ok`).
CODE_RULE = _l(
    "The code must be 1 to 40 characters: letters A-Z without marks, digits, '-', '_' or '.',"
    " starting with a letter or digit."
)


class UnitSchema(Schema):
    """A unit added or edited by hand (the spreadsheet's columns, checked the same way)."""

    class Meta:
        unknown = EXCLUDE

    code = fields.String(required=True, error_messages=msgs())
    name = text(200, required=True)
    kind = fields.String(
        required=True,
        error_messages=msgs(),
        validate=validate.OneOf(UNIT_KINDS, error=_l("Choose a kind of unit.")),
    )
    secretary_name = text(120)
    secretary_since = Day(load_default=None, allow_none=True, error_messages=msgs())
    secretary_party_member = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(("yes", "no"), error=_l("Choose yes or no.")),
    )
    member_count = fields.Integer(
        load_default=None,
        allow_none=True,
        error_messages=msgs(),
        validate=validate.Range(
            min=0, max=100_000, error=_l("Enter a whole number from 0 to 100000.")
        ),
    )

    def __init__(self, *, today: date, current_code: str | None = None, **kwargs: Any) -> None:
        """``current_code``: the edited unit's code, which it may keep even if it is old-style."""
        super().__init__(**kwargs)
        self.today = today
        self.current_code = current_code

    @validates("code")
    def check_code(self, code: str, **kwargs: Any) -> None:
        if not code_ok(code, self.current_code):
            raise ValidationError(str(CODE_RULE))

    @validates_schema
    def check_dates(self, data: dict[str, Any], **kwargs: Any) -> None:
        since = data.get("secretary_since")
        if since is not None and since > self.today:
            raise ValidationError(_l("This date is in the future."), "secretary_since")

    @post_load
    def party(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        answer = data.get("secretary_party_member")
        data["secretary_party_member"] = None if answer is None else answer == "yes"
        return data


UNIT_FIELDS = tuple(UnitSchema._declared_fields)


class MoveSchema(Schema):
    """Where a unit moves: its new parent, by code."""

    parent_code = fields.String(required=True, error_messages=msgs())
