"""What a user submits about notifications: their email choices, a notice to mark read."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, Schema, fields, pre_load, validate

from coso.fields import msgs, storable
from coso.notifications import rules

#: RFC 5321 allows 254 characters; one @, something on each side, no spaces or controls.
EMAIL_RE = r"^[^@\s\x00-\x1f\x7f<>,;\"]{1,64}@[A-Za-z0-9.-]{1,252}\.[A-Za-z]{2,63}$"


def _mode() -> fields.String:
    return fields.String(
        required=True,
        error_messages=msgs(),
        validate=validate.OneOf(rules.MODES, error=_l("Choose one of the options.")),
    )


class PreferencesSchema(Schema):
    """The preferences form: an address (optional) and a mode per kind."""

    class Meta:
        unknown = EXCLUDE

    email = fields.String(
        load_default=None,
        allow_none=True,
        error_messages=msgs(),
        validate=[
            validate.Length(max=254, error=_l("Enter at most %(n)s characters.", n=254)),
            validate.Regexp(EMAIL_RE, error=_l("Enter an email address like name@example.vn.")),
            storable,
        ],
    )
    locals().update({f"mode_{kind}": _mode() for kind in rules.KINDS})

    @pre_load
    def _strip(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        email = data.get("email")
        if isinstance(email, str):
            email = email.strip()
        return {**data, "email": email or None}


class MarkReadSchema(Schema):
    """Mark read: one notice by id, or all (``all=1``)."""

    class Meta:
        unknown = EXCLUDE

    id = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=False,
        error_messages=msgs(),
        validate=validate.Range(min=1, max=2**31 - 1, error=_l("This value is not valid.")),
    )
    all = fields.Boolean(load_default=False, error_messages=msgs())

    @pre_load
    def _blank(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return {key: value for key, value in data.items() if value not in ("", None)}
