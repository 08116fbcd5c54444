"""Input of the review form."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, fields, validate

from coso.reviews.rules import DECISIONS


class ReviewSchema(Schema):
    """A reviewer's decision and the comment that goes back to the cadre."""

    state = fields.String(
        required=True,
        validate=validate.OneOf(DECISIONS, error=str(_l("Choose a decision."))),
        error_messages={"required": _l("Choose a decision.")},
    )
    comment = fields.String(
        load_default="",
        validate=validate.Length(max=2000, error=str(_l("At most 2000 characters."))),
    )


def scores_from(form: Mapping[str, str], rubric: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """The rubric's scores posted as ``score_<key>``; anything not a small whole number is
    left out (the rules then call it out of range)."""
    scores: dict[str, int] = {}
    for c in rubric:
        raw = (form.get(f"score_{c['key']}") or "").strip()
        if raw.isdecimal() and len(raw) <= 2:
            scores[c["key"]] = int(raw)
    return scores
