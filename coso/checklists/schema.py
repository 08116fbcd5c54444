"""The checklist editor's form: one schema per item, one for the whole draft, and the row reader.

A draft is checked as a whole (weights add up to 100, codes unique, one computed
item at most) both when it is saved and again before it is published.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from coso.checklists.rules import CODE_RE, TOTAL_WEIGHT
from coso.fields import matching, msgs, text
from coso.models.checklists import ITEM_KINDS, SECTIONS

#: What an item's or a topic's code may be, in words (the rule is checklists.rules.CODE_RE).
CODE_MESSAGE = _l("1 to 10 letters or digits (dot, dash, underscore allowed).")
MAX_TEMPLATE_ITEMS = 100
#: The editor reads at most this many rows of a posted form.
MAX_FORM_ROWS = 200


class TemplateItemSchema(Schema):
    """One line of a draft checklist."""

    class Meta:
        unknown = EXCLUDE

    code = matching(CODE_RE, CODE_MESSAGE)
    section = fields.String(
        required=True,
        error_messages=msgs(),
        validate=validate.OneOf(SECTIONS, error=_l("Choose a section.")),
    )
    text_vi = text(300, required=True)
    text_en = text(300)
    weight = fields.Integer(
        required=True,
        strict=False,
        error_messages=msgs(invalid=_l("Enter a whole number.")),
        validate=validate.Range(min=0, max=TOTAL_WEIGHT, error=_l("Enter 0 to 100.")),
    )
    critical = fields.Boolean(load_default=False)
    kind = fields.String(
        load_default="choice",
        validate=validate.OneOf(ITEM_KINDS, error=_l("Choose how the item is answered.")),
    )
    position = fields.Integer(
        load_default=None,
        allow_none=True,
        error_messages=msgs(invalid=_l("Enter a whole number.")),
        validate=validate.Range(min=0, max=999, error=_l("Enter 0 to 999.")),
    )


class TemplateSchema(Schema):
    """A draft checklist as a whole: the weights add up to 100, codes are unique."""

    class Meta:
        unknown = EXCLUDE

    name = text(200, required=True)
    items = fields.List(
        fields.Nested(TemplateItemSchema),
        required=True,
        error_messages=msgs(),
        validate=validate.Length(
            min=1,
            max=MAX_TEMPLATE_ITEMS,
            error=_l("A checklist has 1 to %(n)s items.", n=MAX_TEMPLATE_ITEMS),
        ),
    )

    @validates_schema(skip_on_field_errors=True)
    def check_items(self, data: dict[str, Any], **kwargs: Any) -> None:
        items = data["items"]
        problems: list[Any] = []
        codes = [item["code"].upper() for item in items]
        repeated = sorted({code for code in codes if codes.count(code) > 1})
        if repeated:
            problems.append(_l("Item codes repeat: %(codes)s.", codes=", ".join(repeated)))
        total = sum(item["weight"] for item in items)
        if total != TOTAL_WEIGHT:
            problems.append(
                _l("The weights add up to %(total)s; they must add up to 100.", total=total)
            )
        computed = [item["code"] for item in items if item["kind"] == "computed"]
        if len(computed) > 1:
            problems.append(
                _l(
                    "Only one item can be computed from attendance (now: %(codes)s).",
                    codes=", ".join(computed),
                )
            )
        if problems:
            raise ValidationError(problems, "items_total")


def items_from_form(form: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The rows of the item editor, in form order: blank and removed rows left out."""
    indexes = sorted(
        {
            int(key.split("-")[1])
            for key in form
            if key.startswith("items-") and key.count("-") == 2 and key.split("-")[1].isdecimal()
        }
    )
    rows = []
    for index in indexes[:MAX_FORM_ROWS]:

        def get(name: str, index: int = index) -> str:
            return (form.get(f"items-{index}-{name}") or "").strip()

        if form.get(f"items-{index}-remove"):
            continue
        if not any(get(name) for name in ("code", "text_vi", "text_en", "weight")):
            continue
        rows.append(
            {
                "code": get("code") or None,
                "section": get("section") or None,
                "text_vi": " ".join(get("text_vi").split()) or None,
                "text_en": " ".join(get("text_en").split()) or None,
                "weight": get("weight") or None,
                "critical": bool(form.get(f"items-{index}-critical")),
                "kind": get("kind") or "choice",
                "position": get("position") or None,
            }
        )
    return rows
