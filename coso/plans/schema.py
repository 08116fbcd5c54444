"""What a planner or a cadre submits: a plan, a proposal, a re-plan, a decline, a link."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from coso import scope
from coso.checklists.queries import current_template
from coso.extensions import db
from coso.fields import Day, msgs, text
from coso.models import Unit, User
from coso.models.visits import VISIT_FORMS
from coso.plans.rules import MAX_DAYS
from coso.users.rules import CADRE

MAX_FOCUS = 2000
MAX_REASON = 500
MAX_CADRES = 10

Errors = dict[str, list[str]]


def _dates(data: dict[str, Any], today: date, errors: Errors) -> None:
    """Dates of a plan: the end not before the start nor before today, at most a month."""
    start, end = data.get("start_date"), data.get("end_date")
    if start is None or end is None:
        return
    if end < start:
        errors["end_date"] = [str(_l("The end date must not be before the start date."))]
    elif end < today:
        errors["end_date"] = [str(_l("A plan cannot end in the past."))]
    elif (end - start).days + 1 > MAX_DAYS:
        errors["end_date"] = [str(_l("A plan lasts at most %(n)s days.", n=MAX_DAYS))]


def _day(required: bool = True) -> Day:
    return Day(required=required, error_messages=msgs(invalid=_l("Enter a date as dd/mm/yyyy.")))


class PlanSchema(Schema):
    """A planned visit: where, when, in which form, who goes and what to look at.

    ``propose``: a cadre proposes a visit of their own (no cadre list; the unit must be
    in the cadre's area). Otherwise the planner sends cadres of their area to a unit of it.
    """

    class Meta:
        unknown = EXCLUDE

    unit_code = fields.String(
        required=True,
        error_messages=msgs(),
        validate=validate.Length(max=40, error=_l("Choose a unit in your area.")),
    )
    form = fields.String(
        required=True,
        error_messages=msgs(),
        validate=validate.OneOf(VISIT_FORMS, error=_l("Choose a form of visit from the list.")),
    )
    start_date = _day()
    end_date = _day()
    day_before = fields.Boolean(load_default=False)
    focus = text(MAX_FOCUS)
    look_items = fields.List(
        fields.String(error_messages=msgs(), validate=validate.Length(max=10)),
        load_default=list,
        error_messages=msgs(invalid=_l("Choose checklist items from the list.")),
    )
    cadre_ids = fields.List(
        fields.Integer(
            strict=False, error_messages=msgs(invalid=_l("Choose cadres from the list."))
        ),
        load_default=list,
    )

    def __init__(self, user: User, today: date, propose: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.user = user
        self.today = today
        self.propose = propose

    @validates_schema
    def _check(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors: Errors = {}
        code = data.get("unit_code")
        if code is not None:
            unit = db.session.scalar(
                sa.select(Unit).where(sa.func.upper(Unit.code) == code.strip().upper())
            )
            allowed = unit is not None and unit.active
            if allowed and self.propose:
                allowed = scope.may(self.user, "evaluate", unit)
            elif allowed:
                allowed = scope.may_plan(self.user, unit)
            if not allowed:
                errors["unit_code"] = [str(_l("Choose a unit in your area."))]
            else:
                data["unit"] = unit
                data["look_items"] = _items(unit, data.get("look_items") or [], errors)
        if not self.propose:
            data["cadres"] = self._cadres(data.get("cadre_ids") or [], errors)
        _dates(data, self.today, errors)
        if errors:
            raise ValidationError(errors)

    def _cadres(self, ids: list[int], errors: Errors) -> list[User]:
        ids = list(dict.fromkeys(ids))
        if not ids:
            errors["cadre_ids"] = [str(_l("Choose at least one cadre."))]
            return []
        if len(ids) > MAX_CADRES:
            errors["cadre_ids"] = [str(_l("At most %(n)s cadres go on one visit.", n=MAX_CADRES))]
            return []
        users = [db.session.get(User, i) if 0 < i < 2**31 else None for i in ids]
        if any(
            u is None
            or not u.active
            or not u.has_role(CADRE)
            or not scope.may_plan(self.user, u.unit)
            for u in users
        ):
            errors["cadre_ids"] = [str(_l("Choose cadres who work in your area."))]
            return []
        return [u for u in users if u is not None]


class ReplanSchema(Schema):
    """New dates for a plan, and why."""

    class Meta:
        unknown = EXCLUDE

    start_date = _day()
    end_date = _day()
    reason = text(MAX_REASON, required=True)

    def __init__(self, today: date, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.today = today

    @validates_schema
    def _check(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors: Errors = {}
        if not (data.get("reason") or "").strip():
            errors["reason"] = [str(_l("Say why the visit moves."))]
        _dates(data, self.today, errors)
        if errors:
            raise ValidationError(errors)


class ReasonSchema(Schema):
    """Why a proposal is declined."""

    class Meta:
        unknown = EXCLUDE

    reason = text(MAX_REASON, required=True)

    @validates_schema
    def _check(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not (data.get("reason") or "").strip():
            raise ValidationError({"reason": [str(_l("Say why the proposal is declined."))]})


def _items(unit: Unit, codes: list[str], errors: Errors) -> list[str]:
    """The checklist items to look at: codes of the unit's checklist, each once, in its order."""
    template = current_template(unit)
    known = [item.code for item in template.items] if template else []
    chosen = set(codes)
    if chosen - set(known):
        errors["look_items"] = [str(_l("Choose checklist items from the list."))]
        return []
    return [code for code in known if code in chosen]
