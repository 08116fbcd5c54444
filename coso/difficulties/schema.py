"""A difficulty as a phone's outbox sends it through the sync API (kind ``difficulty``)."""

from __future__ import annotations

from datetime import UTC

from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, Schema, fields, validate

from coso.difficulties.rules import TEXT_MAX
from coso.fields import Stamp, msgs, storable

#: The sync API's kind for a difficulty raised on a phone (issue 19, item 1).
DIFFICULTY = "difficulty"
MAX_UNIT_ID = 2**31 - 1


class DifficultyItemSchema(Schema):
    """The web form's fields, the UUID the phone made, and when it was written.

    Who may raise it about which unit, and whether the category is one of the province's,
    is decided by ``coso.difficulties.service.submit_items`` with the same rules as the form.
    """

    class Meta:
        unknown = EXCLUDE

    kind = fields.String(
        required=True,
        error_messages=msgs(),
        validate=validate.Equal(DIFFICULTY, error=_l("This value is not valid.")),
    )
    uuid = fields.UUID(required=True, error_messages=msgs(invalid_uuid=_l("Not a valid UUID.")))
    unit_id = fields.Integer(
        required=True,
        strict=True,
        error_messages=msgs(invalid=_l("Choose a unit from the list.")),
        validate=validate.Range(min=1, max=MAX_UNIT_ID, error=_l("Choose a unit from the list.")),
    )
    category = fields.String(
        required=True,
        error_messages=msgs(),
        validate=validate.Length(min=1, max=40, error=_l("Choose a category from the list.")),
    )
    text = fields.String(
        required=True,
        error_messages=msgs(),
        validate=[
            validate.Length(max=TEXT_MAX, error=_l("At most %(n)s characters.", n=TEXT_MAX)),
            storable,
        ],
    )
    raised_at = Stamp(load_default=None, allow_none=True, default_timezone=UTC)
    #: Raised from an evaluation or a visit report of the same unit (optional).
    evaluation_id = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        error_messages=msgs(),
        validate=validate.Range(min=1, max=MAX_UNIT_ID, error=_l("This value is not valid.")),
    )
    visit_id = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        error_messages=msgs(),
        validate=validate.Range(min=1, max=MAX_UNIT_ID, error=_l("This value is not valid.")),
    )
