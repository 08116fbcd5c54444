"""What the province submits to record a good practice by hand."""

from __future__ import annotations

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

from coso.fields import msgs, squash, storable
from coso.practices.rules import FORM_SOURCES, MAX_DESCRIPTION, MAX_TITLE


def _text(n: int) -> fields.String:
    return fields.String(
        required=True,
        error_messages=msgs(),
        validate=[
            validate.Length(min=1, max=n, error=_l("Enter at most %(n)s characters.", n=n)),
            storable,
        ],
    )


class PracticeSchema(Schema):
    """A practice seen on a visit or recorded on its own: where (a unit code), what."""

    class Meta:
        unknown = EXCLUDE

    unit_code = fields.String(required=True, error_messages=msgs())
    source = fields.String(
        required=True,
        error_messages=msgs(),
        validate=validate.OneOf(FORM_SOURCES, error=_l("Choose where the practice was seen.")),
    )
    title = _text(MAX_TITLE)
    description = _text(MAX_DESCRIPTION)

    @validates_schema
    def not_blank(self, data: dict[str, Any], **kwargs: Any) -> None:
        for name in ("title", "description"):
            if name in data and not data[name].strip():
                raise ValidationError(_l("This field is required."), name)

    @post_load
    def clean(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        data["title"] = squash(data["title"])
        data["description"] = data["description"].strip()
        data["unit_code"] = data["unit_code"].strip()
        return data


FIELDS = tuple(PracticeSchema._declared_fields)
