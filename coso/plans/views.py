"""Visit plans: planning, proposing, deciding, re-planning, plan against done, who goes next."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Flask, Response, abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError

from coso import clock, scope
from coso.checklists.queries import current_template
from coso.dashboard import rules as periods
from coso.extensions import db
from coso.fields import plain_errors
from coso.models import Unit, Visit, VisitPlan
from coso.models.visits import VISIT_FORMS
from coso.plans import queries, rules, service
from coso.plans.schema import PlanSchema, ReasonSchema, ReplanSchema
from coso.plans.words import state_label
from coso.visits import queries as visit_queries
from coso.visits.queries import cadres_under
from coso.visits.rules import report_due
from coso.web import (
    choice_arg,
    page_arg,
    page_of,
    render_page,
    user_now,
    wants_fragment,
)

bp = Blueprint("plans", __name__, url_prefix="/plans")
PAGE_SIZE = 25
Errors = dict[str, list[str]]
STATE_FILTERS = ("", *rules.STATES)


def _require_planner() -> None:
    if not scope.can_plan(current_user):
        abort(403, description=_("Your role does not allow this."))


def _period(errors: Errors, today: date) -> periods.Period:
    """``month`` (YYYY-MM) or ``from``/``to``; this month by default."""
    default = periods.month_period(today.strftime("%Y-%m"))
    args = request.args
    try:
        return periods.parse_period(args.get("month"), args.get("from"), args.get("to"), default)
    except periods.PeriodError as exc:
        messages = {
            "invalid": _("Enter a month as mm/yyyy.")
            if exc.field == "month"
            else _("Enter a date as dd/mm/yyyy."),
            "order": _("The end date must not be before the start date."),
            "too_long": _("A period can be at most two years long."),
        }
        errors[exc.field] = [messages[exc.problem]]
        return default


def _period_args(period: periods.Period) -> dict[str, str]:
    if period.month:
        return {"month": period.month}
    return {"from": period.start.isoformat(), "to": period.end.isoformat()}


def _done(target: str) -> ResponseReturnValue:
    if wants_fragment():
        return Response(status=204, headers={"HX-Redirect": target})
    return redirect(target, code=303)


# ---------------------------------------------------------------------- the list


@bp.get("")
@login_required
def index() -> ResponseReturnValue:
    """The plans of a period: a planner's area, or a cadre's own; proposals to decide first."""
    planner = scope.can_plan(current_user)
    if not planner:
        scope.require(current_user, "evaluate")
    today = clock.today()
    errors: Errors = {}
    period = _period(errors, today)
    state = choice_arg("state", STATE_FILTERS, "", errors)
    if planner:
        found = queries.area_period(current_user.unit, period.start, period.end, today)
    else:
        found = queries.cadre_period(current_user, period.start, period.end, today)
    states = found.states()
    plans = [p for p in found.plans if period.start <= p.start_date <= period.end]
    if state:
        plans = [p for p in plans if states[p.id] == state]
    result = page_of(plans, page_arg(), PAGE_SIZE)
    context = {
        "planner": planner,
        "pending": queries.pending_for(current_user) if planner else [],
        "result": result,
        "plans": result.rows,
        "states": states,
        "state": state,
        "state_filters": STATE_FILTERS,
        "period": period,
        "period_args": _period_args(period),
        "errors": errors,
        "today": today,
    }
    return render_page("plans/index.html", "plans/_list.html", 422 if errors else 200, **context)


# ------------------------------------------------------------------ plan / propose


def _values() -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in ("unit_code", "form", "start_date", "end_date", "focus"):
        value = request.form.get(name, "").replace("\x00", "").strip()
        if value:
            values[name] = value
    values["day_before"] = request.form.get("day_before") in ("1", "on", "true")
    values["cadre_ids"] = [v for v in request.form.getlist("cadre_ids") if v.strip()]
    values["look_items"] = [v.strip() for v in request.form.getlist("look_items") if v.strip()]
    return values


def _form(propose: bool) -> ResponseReturnValue:
    today = clock.today()
    user = user_now()
    if request.method == "POST":
        values = _values()
        if propose:
            values.pop("cadre_ids", None)
        try:
            data = PlanSchema(user, today, propose=propose).load(values)
        except ValidationError as exc:
            return _render_form(propose, values, plain_errors(exc.messages), today, 422)
        if propose:
            plan = service.propose(user, data)
            flash(_("Your proposal was sent for approval."), "info")
        else:
            plan = service.create(user, data)
            flash(_("The visit was planned."), "info")
        db.session.commit()
        return _done(url_for("plans.show", plan_id=plan.id))
    values: dict[str, Any] = {"start_date": today.isoformat(), "end_date": today.isoformat()}
    raw = request.args.get("unit_id", "").strip()
    if raw.isdecimal() and len(raw) <= 9:
        unit = db.session.get(Unit, int(raw))
        if unit is not None and scope.in_scope(current_user, unit):
            values["unit_code"] = unit.code
    if propose:
        values["form"] = (
            request.args.get("form", "") if request.args.get("form") in VISIT_FORMS else ""
        )
    return _render_form(propose, values, {}, today)


def _render_form(
    propose: bool, values: dict[str, Any], errors: Errors, today: date, status: int = 200
) -> ResponseReturnValue:
    chosen = {str(v) for v in values.get("cadre_ids", [])}
    context = {
        "propose": propose,
        "values": values,
        "chosen": chosen,
        "errors": errors,
        "forms": VISIT_FORMS,
        "cadres": [] if propose else cadres_under(current_user.unit),
        # The checklist's items, to choose what to look at (the planner's own checklist).
        "items": _checklist_items(),
        "look": set(values.get("look_items", [])),
        "today": today,
        "max_days": rules.MAX_DAYS,
    }
    return render_page("plans/new.html", "plans/_form.html", status, **context)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new() -> ResponseReturnValue:
    """A planner plans a visit for one or several cadres of their area."""
    _require_planner()
    return _form(propose=False)


@bp.route("/propose", methods=["GET", "POST"])
@login_required
def propose() -> ResponseReturnValue:
    """A cadre proposes a visit of their own (a month of field study, say)."""
    scope.require(current_user, "evaluate")
    return _form(propose=True)


# ------------------------------------------------------------------- one plan


def _plan(plan_id: int) -> VisitPlan:
    """The plan, if the user may see it: a planner of its unit, or one of its cadres."""
    plan = db.session.get(VisitPlan, plan_id)
    if plan is None:
        abort(404)
    mine = any(c.user_id == current_user.id for c in plan.cadres)
    if not (mine or scope.may_plan(current_user, plan.unit)):
        abort(403, description=_("This plan is outside your area."))
    return plan


def _decidable(plan_id: int) -> VisitPlan:
    plan = _plan(plan_id)
    if not queries.may_decide(current_user, plan):
        abort(403, description=_("Only a planner of this unit and these cadres decides this plan."))
    return plan


@bp.get("/<int:plan_id>")
@login_required
def show(plan_id: int) -> ResponseReturnValue:
    """A plan: where, when, who, what to look at, each cadre's visit, and what may be done."""
    plan = _plan(plan_id)
    return _render_show(plan, {}, {})


def _render_show(
    plan: VisitPlan, errors: Errors, values: dict[str, Any], status: int = 200
) -> ResponseReturnValue:
    today = clock.today()
    period = queries.plan_period(plan, today)
    visit_ids = [v for v in period.matches.values()]
    visits = (
        {v.id: v for v in db.session.scalars(sa.select(Visit).where(Visit.id.in_(visit_ids)))}
        if visit_ids
        else {}
    )
    shares = [(c, visits.get(period.visit_of(plan.id, c.user_id) or -1)) for c in plan.cadres]
    mine = next((c for c in plan.cadres if c.user_id == current_user.id), None)
    linkable: list[Visit] = []
    decider = queries.may_decide(current_user, plan)
    state = period.state(plan)
    if state in (rules.UPCOMING, rules.MISSED) and (decider or mine is not None):
        users = [c.user_id for c in plan.cadres] if decider else [current_user.id]
        used = set(period.matches.values())
        linkable = [
            v
            for v in db.session.scalars(
                sa.select(Visit)
                .join(Unit, Unit.id == Visit.unit_id)
                .where(Visit.user_id.in_(users), plan.unit.subtree_clause())
                .order_by(Visit.start_date.desc())
                .limit(20)
            )
            if v.id not in used
        ]
    # A visit other than a branch meeting owes a written report: on time, late, missing or due.
    reports: dict[int, tuple[str | None, date]] = {}
    for share, visit in shares:
        if visit is not None and visit.form != "meeting":
            days = visit_queries.report_days_for(share.user)
            reports[visit.id] = (
                visit_queries.report_state_of(visit, today, days),
                report_due(visit.end_date, days),
            )
    context = {
        "plan": plan,
        "state": state,
        "shares": shares,
        "reports": reports,
        "decider": decider,
        "linkable": linkable,
        "errors": errors,
        "values": values,
        "today": today,
        "eve": rules.window(queries.plan_facts([plan])[0])[0],
        "replaced": db.session.scalar(sa.select(VisitPlan).where(VisitPlan.replaces_id == plan.id)),
        # The branch's declared meeting to go to, as "my next visits" shows it.
        "meeting": queries.declared_meetings([plan], today).get(plan.id),
        "look_texts": dict(_checklist_items()),
    }
    return render_page("plans/show.html", "plans/show.html", status, **context)


@bp.post("/<int:plan_id>/approve")
@login_required
def approve(plan_id: int) -> ResponseReturnValue:
    plan = _decidable(plan_id)
    if plan.status != rules.PROPOSED:
        return _render_show(
            plan, {"decision": [_("This plan is not waiting for a decision.")]}, {}, 409
        )
    service.approve(plan, user_now())
    db.session.commit()
    flash(_("The proposal was approved."), "info")
    return _done(url_for("plans.show", plan_id=plan.id))


@bp.post("/<int:plan_id>/decline")
@login_required
def decline(plan_id: int) -> ResponseReturnValue:
    plan = _decidable(plan_id)
    if plan.status != rules.PROPOSED:
        return _render_show(
            plan, {"decision": [_("This plan is not waiting for a decision.")]}, {}, 409
        )
    values = {"reason": request.form.get("reason", "").replace("\x00", "").strip() or None}
    try:
        data = ReasonSchema().load(values)
    except ValidationError as exc:
        return _render_show(plan, plain_errors(exc.messages), values, 422)
    service.decline(plan, user_now(), data["reason"])
    db.session.commit()
    flash(_("The proposal was declined."), "info")
    return _done(url_for("plans.show", plan_id=plan.id))


@bp.post("/<int:plan_id>/replan")
@login_required
def replan(plan_id: int) -> ResponseReturnValue:
    """New dates and a reason: a new plan; the old one stays, marked re-planned."""
    plan = _decidable(plan_id)
    today = clock.today()
    state = queries.plan_period(plan, today).state(plan)
    if state not in (rules.UPCOMING, rules.MISSED):
        return _render_show(
            plan, {"replan": [_("Only a plan not yet done can be re-planned.")]}, {}, 409
        )
    values = {
        name: request.form.get(name, "").replace("\x00", "").strip() or None
        for name in ("start_date", "end_date", "reason")
    }
    try:
        data = ReplanSchema(today).load({k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        return _render_show(plan, plain_errors(exc.messages), values, 422)
    new = service.replan(plan, user_now(), data)
    db.session.commit()
    flash(_("The visit was re-planned."), "info")
    return _done(url_for("plans.show", plan_id=new.id))


@bp.post("/<int:plan_id>/link")
@login_required
def link(plan_id: int) -> ResponseReturnValue:
    """Link a visit to a cadre's share of the plan by hand (the cadre, or a planner)."""
    plan = _plan(plan_id)
    decider = queries.may_decide(current_user, plan)
    if not decider and all(c.user_id != current_user.id for c in plan.cadres):
        abort(403, description=_("Your role does not allow this."))
    raw = request.form.get("visit_id", "").strip()
    visit = db.session.get(Visit, int(raw)) if raw.isdecimal() and len(raw) <= 9 else None
    error = None
    share = None
    if visit is None:
        error = _("Choose one of the visits listed.")
    else:
        share = next((c for c in plan.cadres if c.user_id == visit.user_id), None)
        allowed = share is not None and (decider or visit.user_id == current_user.id)
        if not allowed:
            error = _("Choose one of the visits listed.")
        elif not visit.unit.path.startswith(plan.unit.path):
            error = _("This visit was not to the planned unit.")
    if plan.status != rules.PLANNED:
        error = _("Only an approved plan takes a visit.")
    if error is not None or share is None or visit is None:
        return _render_show(
            plan, {"visit_id": [error or _("Choose one of the visits listed.")]}, {}, 422
        )
    service.link(share, visit, user_now())
    db.session.commit()
    flash(_("The visit was linked to the plan."), "info")
    return _done(url_for("plans.show", plan_id=plan.id))


def init_app(app: Flask) -> None:
    from coso.plans import progress  # noqa: F401  (its routes join this blueprint)

    app.register_blueprint(bp)
    app.jinja_env.globals["plan_state_label"] = state_label
    app.jinja_env.globals["can_plan"] = lambda: scope.can_plan(current_user)


def _checklist_items() -> list[tuple[str, str]]:
    """(code, text) of the checklist in force at the user's unit, in its order."""
    template = current_template(current_user.unit)
    locale = str(get_locale())
    return [(item.code, item.text(locale)) for item in template.items] if template else []
