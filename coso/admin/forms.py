"""The schema of the audit log's filter form (the other parts' schemas live in their packages)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from coso.fields import Day, msgs, text

# --- Audit log filter


#: Kinds of audit event offered in the log's filter (coso.admin.audit_log maps them to actions).
AUDIT_KINDS = (
    "login",
    "evaluation",
    "feedback",
    "action",
    "visit",
    "plan",
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
    date_from = Day(load_default=None, allow_none=True, error_messages=msgs())
    date_to = Day(load_default=None, allow_none=True, error_messages=msgs())

    @validates_schema(skip_on_field_errors=True)
    def check_range(self, data: dict[str, Any], **kwargs: Any) -> None:
        low, high = data.get("date_from"), data.get("date_to")
        if low and high and low > high:
            raise ValidationError(_l("The end date is before the start date."), "date_to")
