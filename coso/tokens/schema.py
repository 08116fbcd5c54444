"""The form that creates a token: a name and a lifetime."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate

from coso.fields import form_data, msgs, plain_errors, squash, storable
from coso.tokens.rules import DEFAULT_LIFETIME, LIFETIMES


class TokenFormSchema(Schema):
    name = fields.String(
        required=True,
        error_messages=msgs(
            required=_l("Give the token a name."), null=_l("Give the token a name.")
        ),
        validate=[
            validate.Length(max=80, error=_l("Enter at most %(n)s characters.", n=80)),
            storable,
        ],
    )
    days = fields.Integer(
        load_default=DEFAULT_LIFETIME,
        allow_none=True,
        error_messages=msgs(invalid=_l("Choose one of the lifetimes offered.")),
        validate=validate.OneOf(LIFETIMES, error=_l("Choose one of the lifetimes offered.")),
    )


def load_form(form: Mapping[str, Any]) -> tuple[dict[str, Any] | None, dict[str, list[str]]]:
    """The form's values (``name``, ``days``), or the errors per field."""
    data = form_data(form, ("name", "days"))
    if isinstance(data.get("name"), str):
        data["name"] = squash(data["name"])
    if data.get("days") is None:
        data.pop("days")
    try:
        values = TokenFormSchema().load(data)
    except ValidationError as err:
        return None, plain_errors(err.messages)
    if values.get("days") is None:
        values["days"] = DEFAULT_LIFETIME
    return values, {}
