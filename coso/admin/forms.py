"""The schemas that validate every administration form, with messages in the user's language.

Forms post strings; :func:`form_data` turns empty fields into ``None`` and ticked
boxes into booleans before a schema loads them, so one schema can also validate
rows of an imported spreadsheet.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    validate,
    validates_schema,
)

from coso.fields import msgs, text
from coso.models.users import ROLES
from coso.passwords import password_problems

USERNAME_RE = r"^[a-z0-9._-]{3,60}$"


# --- Users


def _roles_field() -> fields.List:
    return fields.List(
        fields.String(validate=validate.OneOf(ROLES, error=_l("Unknown role."))),
        required=True,
        error_messages=msgs(),
        validate=validate.Length(min=1, error=_l("Choose at least one role.")),
    )


class UserEditSchema(Schema):
    """What an administrator may change about a user."""

    class Meta:
        unknown = EXCLUDE

    display_name = text(120, required=True)
    roles = _roles_field()
    unit_code = fields.String(required=True, error_messages=msgs())


class PasswordSchema(Schema):
    """A new password typed twice; both empty means "make one up"."""

    class Meta:
        unknown = EXCLUDE

    password = fields.String(load_default=None, allow_none=True)
    password2 = fields.String(load_default=None, allow_none=True)

    def __init__(self, *, username: str, required: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.username = username
        self.required = required

    @validates_schema
    def check_password(self, data: dict[str, Any], **kwargs: Any) -> None:
        password, again = data.get("password") or "", data.get("password2") or ""
        if not password and not again:
            if self.required:
                raise ValidationError(_l("This field is required."), "password")
            return
        problems = password_problems(password, self.username)
        if problems:
            raise ValidationError(problems, "password")
        if password != again:
            raise ValidationError(_l("The two passwords are not the same."), "password2")


class UserCreateSchema(UserEditSchema):
    username = fields.String(
        required=True,
        error_messages=msgs(),
        validate=validate.Regexp(
            USERNAME_RE,
            error=_l("3 to 60 characters: lower-case letters, digits, dot, dash or underscore."),
        ),
    )


# --- Audit log filter


#: Kinds of audit event offered in the log's filter (coso.admin.audit_log maps them to actions).
AUDIT_KINDS = (
    "login",
    "evaluation",
    "feedback",
    "action",
    "visit",
    "unit",
    "user",
    "template",
    "guidance",
    "settings",
)


class AuditFilterSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    user = text(60)
    unit = text(40)
    kind = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(AUDIT_KINDS, error=_l("Choose a kind.")),
    )
    date_from = fields.Date(load_default=None, allow_none=True, error_messages=msgs())
    date_to = fields.Date(load_default=None, allow_none=True, error_messages=msgs())

    @validates_schema(skip_on_field_errors=True)
    def check_range(self, data: dict[str, Any], **kwargs: Any) -> None:
        low, high = data.get("date_from"), data.get("date_to")
        if low and high and low > high:
            raise ValidationError(_l("The end date is before the start date."), "date_to")
