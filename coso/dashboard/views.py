"""The province's pages: flagged branches, where to act, good practices, unit and branch pages.

Views parse the query string, ask coso.scope, call the queries and render; every
URL answers a full page, or its partial when htmx asks (``HX-Request``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from flask import Blueprint, Flask, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from coso import clock, scope
from coso import spreadsheets as exports
from coso.checklists.queries import current_template
from coso.dashboard import analysis, flagged, rules, timeline
from coso.dashboard.words import (
    flagged_filters,
    form_label,
    kind_label,
    reasons_in_words,
    rule_label,
    state_label,
)
from coso.dates import parse_day
from coso.extensions import db
from coso.feedback.alerts import alerts_for
from coso.feedback.rules import Alerts
from coso.i18n import gettext as _
from coso.judging.queries import Thresholds, count_states, thresholds
from coso.models import BranchStatus, ChecklistTemplate, Unit
from coso.practices.views import editor_page
from coso.web import choice_arg, page_arg, render_page, unit_arg, unit_choices

bp = Blueprint("dashboard", __name__)

Errors = dict[str, list[str]]
#: Bars in the rates chart: the weakest units (a province may have a hundred).
CHART_BARS = 25


def _locale() -> str:
    return str(get_locale())


# ------------------------------------------------------------------- parsing


def _date_arg(args: MultiDict[str, str], name: str, errors: Errors) -> date | None:
    raw = args.get(name, "").strip()
    if not raw:
        return None
    try:
        return parse_day(raw)
    except ValueError:
        errors[name] = [_("Enter a date as dd/mm/yyyy.")]
        return None


def parse_filters(args: MultiDict[str, str]) -> tuple[flagged.Filters, Errors]:
    """The flagged list's filters from the query string, and a message for each bad one."""
    errors: Errors = {}
    unit = unit_arg(errors)
    state = choice_arg(
        "state",
        flagged.STATE_FILTERS,
        flagged.ATTENTION,
        errors,
        _("Choose a state from the list."),
    )
    reason = args.get("reason", "").strip()
    if not flagged.valid_reason(reason):
        errors["reason"] = [_("Choose a reason from the list.")]
        reason = ""
    since_from = _date_arg(args, "from", errors)
    since_to = _date_arg(args, "to", errors)
    if since_from and since_to and since_to < since_from:
        errors["to"] = [_("The end date must not be before the start date.")]
        since_to = None
    sort = args.get("sort", "").strip() or "state"
    descending = sort.startswith("-")
    sort = sort.lstrip("-")
    if sort not in flagged.SORTS:
        errors["sort"] = [_("Choose an order from the list.")]
        sort, descending = "state", False
    filters = flagged.Filters(
        unit=unit,
        state=state,
        reason=reason,
        serious=args.get("serious", "") in ("1", "on", "true", "yes"),
        since_from=since_from,
        since_to=since_to,
        sort=sort,
        descending=descending,
        page=page_arg(),
    )
    return filters, errors


def parse_period(args: MultiDict[str, str], errors: Errors, today: date) -> rules.Period:
    """The period of a rate: ``month`` (YYYY-MM) or ``from``/``to``; last full month by default."""
    default = rules.previous_month(today)
    try:
        return rules.parse_period(args.get("month"), args.get("from"), args.get("to"), default)
    except rules.PeriodError as exc:
        messages = {
            "invalid": _("Enter a month as mm/yyyy.")
            if exc.field == "month"
            else _("Enter a date as dd/mm/yyyy."),
            "order": _("The end date must not be before the start date."),
            "too_long": _("A period can be at most two years long."),
        }
        errors[exc.field] = [messages[exc.problem]]
        return default


def _reason_options(template: ChecklistTemplate | None) -> list[tuple[str, str]]:
    """The reason filter's choices: each rule, then each critical item of the checklist."""
    options = [(f"rule:{rule}", rule_label(rule)) for rule in flagged.RULES]
    if template is not None:
        for item in template.items:
            if item.critical:
                options.append((f"item:{item.code}", f"{item.code} · {item.text(_locale())}"))
    return options


# ----------------------------------------------------------------- dashboard


@bp.get("/dashboard")
@login_required
def index() -> ResponseReturnValue:
    """Counts per state for a subtree and the branches needing attention, filtered and sorted."""
    scope.require(current_user, "evaluate_view")
    filters, errors = parse_filters(request.args)
    today = clock.today()
    resolved = thresholds(filters.unit)  # once: the list, its alerts and the counts
    counts = count_states(filters.unit, today, resolved)
    result = flagged.page(filters, today, resolved, counts)
    template = current_template(filters.unit)
    context = {
        "filters": replace(filters, page=result.page),
        "errors": errors,
        "result": result,
        "counts": counts,
        "units": unit_choices(filters.unit),
        "reasons": _reason_options(template),
        "template": template,
        "today": today,
        "locale": _locale(),
        "state_filters": flagged.STATE_FILTERS,
        "reasons_in_words": reasons_in_words,
        # Filters changed through the form keep it open while the list is redrawn.
        "filters_open": request.headers.get("HX-Trigger") == "flagged-filters",
    }
    return render_page(
        "dashboard/index.html", "dashboard/_flagged.html", 422 if errors else 200, **context
    )


def _flagged_columns(today: date, template: Any) -> list[exports.Column]:
    def reasons(row: flagged.Row) -> str:
        texts = reasons_in_words(row.state, row.reasons, row.last_date, today, template, "vi")
        return " ".join(texts)

    return [
        exports.Column(_l("Branch"), lambda r: r.name),
        exports.Column(_l("Code"), lambda r: r.code),
        exports.Column(_l("Parent unit"), lambda r: r.parent_name),
        exports.Column(_l("State"), lambda r: state_label(r.state)),
        exports.Column(_l("Since"), lambda r: r.since, "date"),
        exports.Column(_l("Reasons"), reasons, "long"),
        exports.Column(_l("Serious"), lambda r: r.serious),
        exports.Column(_l("Last evaluation"), lambda r: r.last_date, "date"),
        exports.Column(_l("Score"), lambda r: r.score, "number"),
        exports.Column(_l("Evaluated by"), lambda r: r.cadre),
        exports.Column(_l("Open actions"), lambda r: r.alerts.open_actions, "int"),
        exports.Column(_l("Overdue actions"), lambda r: r.alerts.overdue_actions, "int"),
        exports.Column(_l("Unacknowledged evaluations"), lambda r: r.alerts.unacknowledged, "int"),
    ]


@bp.get("/dashboard/flagged.<any(csv, xlsx):fmt>")
@login_required
def export_flagged(fmt: str) -> ResponseReturnValue:
    """The flagged list with the page's filters, every page of it, as CSV or XLSX."""
    scope.require(current_user, "evaluate_view")
    filters, errors = parse_filters(request.args)
    if errors:
        return index()
    today = clock.today()
    rows = flagged.all_rows(filters, today, thresholds(filters.unit))
    columns = _flagged_columns(today, current_template(filters.unit))
    state = "" if filters.state == flagged.ATTENTION else filters.state
    serious = "serious" if filters.serious else ""
    name = exports.file_name("flagged", filters.unit.code, state, serious, today.isoformat())
    reason = dict(_reason_options(current_template(filters.unit))).get(filters.reason, "")
    heading = exports.Heading(
        _("Branches on the flagged list"), filters.unit.name, flagged_filters(filters, reason)
    )
    return exports.response(fmt, columns, rows, name, "Chi đoàn", heading)


# ------------------------------------------------------------- where to act


def _where_context() -> tuple[dict[str, Any], Errors]:
    errors: Errors = {}
    unit = unit_arg(errors)
    today = clock.today()
    period = parse_period(request.args, errors, today)
    rates, total = analysis.child_rates(unit, period)
    trend = analysis.monthly_trend(unit, period.end)
    context = {
        "unit": unit,
        "period": period,
        "errors": errors,
        "rates": rates,
        "total": total,
        # The chart stays small: the weakest units; the table lists them all.
        "rate_chart": rules.horizontal_bars(
            [(r.unit.name, r.rate) for r in rates[:CHART_BARS]]  # type: ignore[union-attr]
        ),
        "chart_bars": CHART_BARS,
        "trend": trend,
        "trend_chart": rules.vertical_bars([(m.period.start, m.rate) for m in trend]),
        "label_chars": rules.LABEL_CHARS,
        "items": analysis.failing_items(unit, period, total.evaluations, _locale()),
        "units": unit_choices(unit),
        "today": today,
        "kind_label": kind_label,
    }
    return context, errors


def period_args(unit: Unit, period: rules.Period) -> dict[str, Any]:
    """Query-string arguments that reproduce a unit and a period."""
    if period.month:
        return {"unit": unit.id, "month": period.month}
    return {"unit": unit.id, "from": period.start.isoformat(), "to": period.end.isoformat()}


@bp.get("/dashboard/where")
@login_required
def where() -> ResponseReturnValue:
    """Where to act: compliance per child unit, the monthly trend, the items failing most."""
    scope.require(current_user, "evaluate_view")
    context, errors = _where_context()
    return render_page(
        "dashboard/where.html", "dashboard/_where.html", 422 if errors else 200, **context
    )


def _rate_columns(period: rules.Period) -> list[exports.Column]:
    def name(r: analysis.Rate) -> str:
        return r.unit.name if r.unit is not None else ""

    return [
        exports.Column(_l("Unit"), name),
        exports.Column(_l("Branches"), lambda r: r.branches, "int"),
        exports.Column(_l("Branches evaluated"), lambda r: r.evaluated, "int"),
        exports.Column(_l("Coverage"), lambda r: r.coverage, "percent"),
        exports.Column(_l("Evaluations"), lambda r: r.evaluations, "int"),
        exports.Column(_l("Compliant"), lambda r: r.compliant, "int"),
        exports.Column(_l("Compliance rate"), lambda r: r.rate, "percent"),
        exports.Column(_l("From"), lambda r: period.start, "date"),
        exports.Column(_l("To"), lambda r: period.end, "date"),
    ]


@bp.get("/dashboard/rates.<any(csv, xlsx):fmt>")
@login_required
def export_rates(fmt: str) -> ResponseReturnValue:
    """The per-unit rates of the chosen period (the table's rows, then its total)."""
    scope.require(current_user, "evaluate_view")
    context, errors = _where_context()
    if errors:
        return render_template("dashboard/where.html", **context), 422
    period, unit = context["period"], context["unit"]
    rows = [*context["rates"], context["total"]]
    label = period.month or f"{period.start.isoformat()}_{period.end.isoformat()}"
    when = _(
        "Period: %(start)s – %(end)s",
        start=f"{period.start:%d/%m/%Y}",
        end=f"{period.end:%d/%m/%Y}",
    )
    heading = exports.Heading(_("Compliance rate by unit"), unit.name, [when])
    name = exports.file_name("rates", unit.code, label)
    return exports.response(fmt, _rate_columns(period), rows, name, "Tỷ lệ đạt", heading)


# ------------------------------------------------------------ good practices


@bp.get("/dashboard/practices")
@login_required
def practices() -> ResponseReturnValue:
    """The editor's view of good practices (issue 19, item 4): coso.practices.views."""
    return editor_page()


# ----------------------------------------------------------- unit and branch


def unit_page(unit_id: int) -> ResponseReturnValue:
    """A unit with its children and their states, or a branch with its timeline.

    Served at ``/units/<id>`` (``home.unit``) for every role, inside its scope.
    """
    unit = scope.unit_or_403(current_user, unit_id)
    today = clock.today()
    resolved = thresholds(unit)  # each branch by its own settings, as on every page
    parent = unit.parent if unit.parent and scope.in_scope(current_user, unit.parent) else None
    common = {
        "unit": unit,
        "parent": parent,
        "today": today,
        "locale": _locale(),
        "kind_label": kind_label,
        "can_dashboard": scope.can(current_user, "evaluate_view"),
        "can_evaluate": scope.may(current_user, "evaluate", unit),
        # Party membership is sensitive: the province and secretaries only (issue 19, item 5).
        "sees_party": scope.sees_party(current_user, unit),
        "can_record_secretary": unit.is_branch
        and scope.may(current_user, "record_secretary", unit),
    }
    if unit.is_branch:
        return _branch_page(unit, today, resolved, common)
    rows, total = analysis.child_summaries(unit, today, resolved)
    return render_template(
        "dashboard/unit.html", children=rows, total=total, counts=total.counts, **common
    )


def _branch_page(
    branch: Unit, today: date, resolved: Thresholds, common: dict[str, Any]
) -> ResponseReturnValue:
    row = db.session.get(BranchStatus, branch.id)
    state, since = resolved.effective_state(row, branch.path, today)
    template = current_template(branch)
    reasons = reasons_in_words(
        state,
        list(row.reasons or []) if row else [],
        row.last_meeting_date if row else None,
        today,
        template,
        _locale(),
    )
    story = timeline.branch_timeline(branch, show_all=request.args.get("all") == "1")
    return render_template(
        "dashboard/branch.html",
        status_row=row,
        state=state,
        since=since,
        reasons=reasons,
        alerts=alerts_for([branch.id], today, resolved).get(branch.id, Alerts()),
        timeline=story,
        template=template,
        **common,
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals.update(
        state_label=state_label,
        form_label=form_label,
        dashboard_period_args=period_args,
    )
