"""The schemas that validate every administration form, with messages in the user's language.

Forms post strings; :func:`form_data` turns empty fields into ``None`` and ticked
boxes into booleans before a schema loads them, so one schema can also validate
rows of an imported spreadsheet.
"""

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
    validates_schema,
)

from coso.fields import LocalFloat, Share, msgs, text
from coso.models.checklists import ITEM_KINDS, SECTIONS
from coso.models.units import UNIT_KINDS

CODE_RE = r"^[A-Za-z0-9._-]{1,10}$"
UNIT_CODE_RE = r"^\S{1,40}$"
PERIOD_RE = r"^\d{4}-(0[1-9]|1[0-2])$"
MAX_TEMPLATE_ITEMS = 100
MAX_TOPICS = 30
TOTAL_WEIGHT = 100


# --- Units


class UnitSchema(Schema):
    """A unit added or edited by hand (the spreadsheet's columns, checked the same way)."""

    class Meta:
        unknown = EXCLUDE

    code = fields.String(
        required=True,
        error_messages=msgs(),
        validate=validate.Regexp(
            UNIT_CODE_RE, error=_l("The code must be 1 to 40 characters without spaces.")
        ),
    )
    name = text(200, required=True)
    kind = fields.String(
        required=True,
        error_messages=msgs(),
        validate=validate.OneOf(UNIT_KINDS, error=_l("Choose a kind of unit.")),
    )
    secretary_name = text(120)
    secretary_since = fields.Date(load_default=None, allow_none=True, error_messages=msgs())
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

    def __init__(self, *, today: date, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.today = today

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
    parent_code = fields.String(required=True, error_messages=msgs())


# --- Checklist templates


class TemplateItemSchema(Schema):
    """One line of a draft checklist."""

    class Meta:
        unknown = EXCLUDE

    code = fields.String(
        required=True,
        error_messages=msgs(),
        validate=validate.Regexp(
            CODE_RE, error=_l("1 to 10 letters or digits (dot, dash, underscore allowed).")
        ),
    )
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


# --- Monthly guidance


class TopicSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    code = fields.String(
        required=True,
        error_messages=msgs(),
        validate=validate.Regexp(
            CODE_RE, error=_l("1 to 10 letters or digits (dot, dash, underscore allowed).")
        ),
    )
    title = text(300, required=True)


class GuidanceSchema(Schema):
    """A month's guidance: period, title, topics, and optionally the material or a link to it."""

    class Meta:
        unknown = EXCLUDE

    period = fields.String(
        required=True,
        error_messages=msgs(),
        validate=validate.Regexp(PERIOD_RE, error=_l("Choose a month (YYYY-MM).")),
    )
    title = text(300, required=True)
    material = text(20_000)
    link = fields.String(
        load_default=None,
        allow_none=True,
        error_messages=msgs(),
        validate=[
            validate.Length(max=500, error=_l("Enter at most %(n)s characters.", n=500)),
            validate.URL(
                schemes={"http", "https"},
                require_tld=True,
                error=_l("Enter a web address starting with https://"),
            ),
        ],
    )
    topics = fields.List(
        fields.Nested(TopicSchema),
        required=True,
        error_messages=msgs(),
        validate=validate.Length(
            min=1, max=MAX_TOPICS, error=_l("List 1 to %(n)s topics.", n=MAX_TOPICS)
        ),
    )

    @validates_schema(skip_on_field_errors=True)
    def check_topics(self, data: dict[str, Any], **kwargs: Any) -> None:
        codes = [topic["code"] for topic in data["topics"]]
        repeated = sorted({code for code in codes if codes.count(code) > 1})
        if repeated:
            raise ValidationError(
                _l("Topic codes repeat: %(codes)s.", codes=", ".join(repeated)), "topics_total"
            )


# --- Settings


def _days(low: int, high: int) -> fields.Integer:
    return fields.Integer(
        required=True,
        strict=False,
        error_messages=msgs(invalid=_l("Enter a whole number.")),
        validate=validate.Range(
            min=low, max=high, error=_l("Enter %(low)s to %(high)s.", low=low, high=high)
        ),
    )


def _score() -> LocalFloat:
    return LocalFloat(
        required=True,
        allow_nan=False,
        error_messages=msgs(invalid=_l("Enter a number."), special=_l("Enter a number.")),
        validate=validate.Range(min=0, max=100, error=_l("Enter 0 to 100.")),
    )


def _share() -> Share:
    return Share(
        required=True,
        error_messages=msgs(),
        validate=validate.Range(min=0, max=1, error=_l("Enter a share from 0 to 1 (0% to 100%).")),
    )


class SettingsSchema(Schema):
    """The thresholds and windows of the flag rules (coso.scoring.Settings)."""

    class Meta:
        unknown = EXCLUDE

    score_threshold = _score()
    serious_threshold = _score()
    attendance_ratio = _share()
    attendance_floor = _share()
    content_floor = _share()
    overdue_days = _days(1, 3650)
    correction_hours = _days(0, 720)
    unack_days = _days(1, 365)
    visit_target = _days(0, 366)

    @validates_schema(skip_on_field_errors=True)
    def check_order(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors: dict[str, list[Any]] = {}
        if data["attendance_floor"] > data["attendance_ratio"]:
            errors["attendance_floor"] = [
                _l("The floor cannot be above the required attendance ratio.")
            ]
        if data["serious_threshold"] > data["score_threshold"]:
            errors["serious_threshold"] = [
                _l("The serious threshold cannot be above the score threshold.")
            ]
        if errors:
            raise ValidationError(errors)


SETTING_FIELDS = tuple(SettingsSchema._declared_fields)


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
