"""The schemas of the account forms: a user created or edited, a password typed twice."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from coso.fields import matching, msgs, text
from coso.users.rules import ROLES, USERNAME_RE
from coso.users.words import password_problems


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
    """A new account: what can be edited later, plus its username."""

    username = matching(
        USERNAME_RE, _l("3 to 60 characters: lower-case letters, digits, dot, dash or underscore.")
    )
