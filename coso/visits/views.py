"""The visit log (cadres log their visits and reports) and the visit-day ledger (province)."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from marshmallow import ValidationError

from coso import clock, scope
from coso import spreadsheets as exports
from coso.dashboard.words import form_label
from coso.extensions import db
from coso.fields import plain_errors
from coso.models import Unit, User, Visit
from coso.models.visits import VISIT_FORMS
from coso.photos import queries as photo_queries
from coso.plans import queries as plan_queries
from coso.reviews import queries as review_queries
from coso.reviews import service as review_service
from coso.visits import queries, service
from coso.visits.rules import report_due, report_missing
from coso.visits.schema import LOGGED_FORMS, ReportSchema, VisitSchema
from coso.web import (
    int_arg,
    page_arg,
    page_of,
    render_page,
    unit_arg,
    unit_choices,
    user_now,
    wants_fragment,
)

bp = Blueprint("visits", __name__, url_prefix="/visits")
PAGE_SIZE = 25
Errors = dict[str, list[str]]


def requested_year(errors: Errors, today: date) -> int:
    """The ``?year=`` of a ledger page (this year by default); a bad one goes in ``errors``."""
    raw = request.args.get("year", "").strip()
    if not raw:
        return today.year
    if raw.isdecimal() and len(raw) == 4 and 2000 <= int(raw) <= today.year + 1:
        return int(raw)
    errors["year"] = [_("Choose a year between 2000 and next year.")]
    return today.year


# ------------------------------------------------------------------ my visits


def _whose() -> User:
    """The cadre whose visits are shown: me, or (province) a cadre in my area."""
    user_id = int_arg("user")
    if not request.args.get("user", "").strip() or user_id == current_user.id:
        scope.require_goes_out(current_user)
        return user_now()  # type: ignore[no-any-return]
    scope.require(current_user, "evaluate_view")
    user = db.session.get(User, user_id) if user_id else None  # not a number: no such cadre
    if user is None:
        abort(404)
    if not scope.in_scope(current_user, user.unit):
        abort(403, description=_("This cadre works outside your area."))
    return user


@bp.get("")
@login_required
def mine() -> ResponseReturnValue:
    """A cadre's days this year against the target, and every visit with its report."""
    user = _whose()
    today = clock.today()
    errors: Errors = {}
    year = requested_year(errors, today)
    visits = queries.year_visits([user.id], year).get(user.id, [])
    row = queries.row_for(
        user, visits, year, today, queries.target_for(user), queries.report_days_for(user)
    )
    newest = sorted(visits, key=lambda v: (v.start_date, v.id), reverse=True)
    result = page_of(newest, page_arg(), PAGE_SIZE)
    context = {
        "person": user,
        "own": user.id == current_user.id,
        "row": row,
        "visits": result.rows,
        "result": result,
        "year": year,
        "today": today,
        "errors": errors,
        "forms": VISIT_FORMS,
        "report_state_of": queries.report_state_of,
        "report_due": report_due,
        "report_days": queries.report_days_for(user),
        "units": _unit_names({v.unit_id for v in result.rows}),
        "reviews": review_queries.latest_of([v.id for v in result.rows]),
    }
    return render_page("visits/mine.html", "visits/_mine.html", 422 if errors else 200, **context)


def _unit_names(ids: set[int]) -> dict[int, Unit]:
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(sa.select(Unit).where(Unit.id.in_(ids)))}


# --------------------------------------------------------------- log a visit


def _form_data() -> dict[str, Any]:
    """The submitted fields, stripped, with blanks left out so "required" speaks for them."""
    data = {}
    for name in ("unit_id", "form", "start_date", "end_date", "report"):
        value = request.form.get(name, "").replace("\x00", "").strip()
        if value:
            data[name] = value
    return data


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new() -> ResponseReturnValue:
    """Log a visit that is not a branch meeting: where, when, in which form, and the report."""
    scope.require_goes_out(current_user)
    today = clock.today()
    if request.method == "POST":
        values = _form_data()
        try:
            data = VisitSchema(user_now(), today).load(values)
        except ValidationError as exc:
            errors = plain_errors(exc.messages)
            selected = _selected_unit(values.get("unit_id"))
            return _render_form(values, errors, selected, today, 422)
        service.log_visit(user_now(), data)
        db.session.commit()
        flash(_("The visit was logged."), "info")
        target = url_for("visits.mine")
        if wants_fragment():  # a whole new page, not a piece of this one
            return Response(status=204, headers={"HX-Redirect": target})
        return redirect(target, code=303)
    selected = _selected_unit(request.args.get("unit_id"))
    values = {"unit_id": str(selected.id) if selected else "", "start_date": today.isoformat()}
    return _render_form(values, {}, selected, today)


def _selected_unit(raw: str | None) -> Unit | None:
    raw = (raw or "").strip()
    if not raw.isdecimal() or len(raw) > 9:
        return None
    unit = db.session.get(Unit, int(raw))
    if unit is None or not scope.goes_out(current_user):
        return None
    return unit if scope.in_scope(current_user, unit) else None


def _render_form(
    values: dict[str, Any], errors: Errors, selected: Unit | None, today: date, status: int = 200
) -> ResponseReturnValue:
    context = {
        "values": values,
        "errors": errors,
        "units": unit_choices(selected),
        "forms": LOGGED_FORMS,
        "today": today,
        "max_days": 31,
        "report_days": queries.report_days_for(user_now()),
    }
    return render_page("visits/new.html", "visits/_form.html", status, **context)


@bp.get("/drafts")
@login_required
def drafts() -> ResponseReturnValue:
    """The visits kept on this phone and their report drafts (issue 18, item 5).

    The list lives in IndexedDB and is drawn by static/js/visit-offline.js, so the page
    works with no signal; the server only sends the frame and the words.
    """
    scope.require_goes_out(current_user)
    return render_template(
        "visits/drafts.html", report_days=queries.report_days_for(user_now()), today=clock.today()
    )


@bp.route("/<int:visit_id>/report", methods=["GET", "POST"])
@login_required
def report(visit_id: int) -> ResponseReturnValue:
    """Write (or rewrite) the report of one of my visits."""
    visit = db.session.get(Visit, visit_id)
    if visit is None or visit.form == "meeting":
        abort(404)  # a branch meeting's report is its evaluation
    if visit.user_id != current_user.id or not scope.may(current_user, "view", visit.unit):
        abort(403, description=_("Only the cadre who made this visit can report on it."))
    today = clock.today()
    errors: Errors = {}
    text = visit.report or ""
    if request.method == "POST":
        text = request.form.get("report", "").replace("\x00", "")
        try:
            data = ReportSchema().load({"report": text})
        except ValidationError as exc:
            errors = plain_errors(exc.messages)
        else:
            service.write_report(visit, data["report"])
            review_service.amended(visit, user_now())
            db.session.commit()
            flash(_("The report was saved."), "info")
            return redirect(url_for("visits.mine"), code=303)
    due_days = queries.report_days_for(visit.user)
    page = render_template(
        "visits/report.html",
        visit=visit,
        text=text,
        errors=errors,
        today=today,
        missing=report_missing(visit.form, visit.report, visit.end_date, today, due_days),
        review=review_queries.latest_of([visit.id]).get(visit.id),
        due=report_due(visit.end_date, due_days),
        photos=photo_queries.of_visit(visit),
    )
    return page, 422 if errors else 200


# -------------------------------------------------------------------- ledger


def _ledger_context() -> tuple[dict[str, Any], Errors]:
    errors: Errors = {}
    today = clock.today()
    unit = unit_arg(errors)
    year = requested_year(errors, today)
    behind_only = request.args.get("behind", "") in ("1", "on", "true")
    rows = queries.ledger(unit, year, today, behind_only=behind_only)
    planned = plan_queries.planned_days([row.user.id for row in rows], year)
    quality = review_queries.quality_by_user([row.user.id for row in rows], year)
    for row in rows:
        row.planned = planned.get(row.user.id, 0)
        row.quality = quality[row.user.id]
    context = {
        "unit": unit,
        "year": year,
        "behind_only": behind_only,
        "rows": rows,
        "forms": VISIT_FORMS,
        "today": today,
        "errors": errors,
        "units": unit_choices(unit),
        "pace_date": min(today, date(year, 12, 31)) if year <= today.year else None,
    }
    return context, errors


@bp.get("/ledger")
@login_required
def ledger_page() -> ResponseReturnValue:
    """Each cadre's days at the grassroots this year by form, against the target and the pace."""
    scope.require(current_user, "evaluate_view")
    context, errors = _ledger_context()
    return render_page(
        "visits/ledger.html", "visits/_ledger.html", 422 if errors else 200, **context
    )


def _ledger_columns(year: int, today: date) -> list[exports.Column]:
    columns = [
        exports.Column(_l("Cadre"), lambda r: r.user.display_name),
        exports.Column(_l("Unit"), lambda r: r.user.unit.name),
    ]
    for form in VISIT_FORMS:
        columns.append(exports.Column(_form_header(form), lambda r, f=form: r.form_days(f), "int"))
    columns += [
        exports.Column(_l("Days in all"), lambda r: r.days.total, "int"),
        exports.Column(_l("Planned days"), lambda r: r.planned, "int"),
        exports.Column(_l("Target"), lambda r: r.target, "int"),
        exports.Column(_l("Expected by now"), lambda r: r.expected, "number"),
        exports.Column(_l("Behind the pace"), lambda r: r.behind),
        exports.Column(_l("Reports missing"), lambda r: r.missing_reports, "int"),
        exports.Column(_l("Reports late"), lambda r: r.late_reports, "int"),
        exports.Column(_l("Reports reviewed"), lambda r: r.quality["reviewed"], "int"),
        exports.Column(_l("Reports approved"), lambda r: r.quality["approved"], "int"),
        exports.Column(_l("Mean review score (%)"), lambda r: r.quality["mean"], "number"),
        exports.Column(_l("Year"), lambda r: year, "int"),
        exports.Column(_l("As of"), lambda r: today, "date"),
    ]
    return columns


def _form_header(form: str) -> Any:
    headers = {
        "meeting": _l("Branch meeting (days)"),
        "inspection": _l("Inspection and supervision (days)"),
        "coorganise": _l("Co-organising an activity (days)"),
        "field_study": _l("Field study (days)"),
        "research": _l("Topic research (days)"),
    }
    return headers[form]


@bp.get("/ledger.<any(csv, xlsx):fmt>")
@login_required
def export_ledger(fmt: str) -> ResponseReturnValue:
    """The ledger with the page's filters as CSV or XLSX."""
    scope.require(current_user, "evaluate_view")
    context, errors = _ledger_context()
    if errors:
        return render_template("visits/ledger.html", **context), 422
    unit, year, today = context["unit"], context["year"], context["today"]
    filters = [_("Year: %(year)s", year=year)]
    if context["behind_only"]:
        filters.append(_("Only those behind the pace"))
    behind = "behind" if context["behind_only"] else ""
    return exports.response(
        fmt,
        _ledger_columns(year, today),
        context["rows"],
        exports.file_name("visits", unit.code, year, behind, today.isoformat()),
        "Ngày đi cơ sở",
        exports.Heading(_("Days at the grassroots by cadre"), unit.name, filters),
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["visit_form_label"] = form_label
    app.jinja_env.globals["goes_out"] = scope.goes_out
