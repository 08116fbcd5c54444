"""The secretaries' pages: a branch's secretary and deputy (recorded by its own secretary,
the commune's, or the province), and the province's figures per commune with their export.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from marshmallow import ValidationError

from coso import clock, scope
from coso import spreadsheets as exports
from coso.extensions import db
from coso.fields import plain_errors
from coso.models import Unit
from coso.secretaries import queries, service
from coso.secretaries.rules import ROLES, SECRETARY
from coso.secretaries.schema import END_FIELDS, POST_FIELDS, EndSchema, PostSchema
from coso.secretaries.words import problem_text, role_label
from coso.web import render_page, unit_arg, unit_choices, unit_in_scope, user_now

bp = Blueprint("secretaries", __name__, url_prefix="/secretaries")
Errors = dict[str, list[str]]
ACTION = "record_secretary"


def _posted(names: tuple[str, ...]) -> dict[str, str]:
    """The named fields, stripped; blank ones left out so "required" speaks."""
    data = {}
    for name in names:
        value = request.form.get(name, "").strip()
        if value:
            data[name] = value
    return data


# ------------------------------------------------------------------ a branch's posts


def _branch(unit_id: int) -> Unit:
    """A branch whose secretaries the user records: 404 not a branch, 403 not theirs."""
    unit = unit_in_scope(unit_id)
    if not unit.is_branch:
        abort(404)
    if not scope.may(current_user, ACTION, unit):
        scope.deny(current_user, unit)
    return unit


def _branch_page(branch: Unit, status: int = 200, **extra: Any) -> ResponseReturnValue:
    context = {
        "branch": branch,
        "posts": queries.posts_of(branch),
        "history": queries.history(branch),
        "roles": ROLES,
        "role_label": role_label,
        "today": clock.today(),
        "values": {"role": request.args.get("role", SECRETARY)},
        "errors": {},
        "end_values": {},
        "end_errors": {},
        **extra,
    }
    return render_template("secretaries/branch.html", **context), status


@bp.get("/branch/<int:unit_id>")
@login_required
def branch(unit_id: int) -> ResponseReturnValue:
    """A branch's secretary and deputy, their past terms, and the form to record them."""
    return _branch_page(_branch(unit_id))


@bp.post("/branch/<int:unit_id>/record")
@login_required
def record(unit_id: int) -> ResponseReturnValue:
    """Record who holds a post: a new person closes the previous term."""
    unit = _branch(unit_id)
    values = _posted(POST_FIELDS)
    try:
        data = PostSchema(clock.today()).load(values)
        term = service.record(unit, data, user_now())
    except ValidationError as exc:
        return _branch_page(unit, 422, values=values, errors=plain_errors(exc.messages))
    except service.Refused as exc:
        db.session.rollback()
        started = exc.term.started_on if exc.term else None
        errors = {exc.field: [problem_text(exc.problem, started)]}
        return _branch_page(unit, 422, values=values, errors=errors)
    db.session.commit()
    flash(_("%(role)s recorded: %(name)s.", role=role_label(term.role), name=term.name), "info")
    return redirect(url_for("secretaries.branch", unit_id=unit.id), code=303)


@bp.post("/branch/<int:unit_id>/end")
@login_required
def end(unit_id: int) -> ResponseReturnValue:
    """Leave a post empty from a day: its holder's term ends."""
    unit = _branch(unit_id)
    values = _posted(END_FIELDS)
    try:
        data = EndSchema(clock.today()).load(values)
        ended = service.end(unit, data["role"], data["on"], user_now())
    except ValidationError as exc:
        return _branch_page(unit, 422, end_values=values, end_errors=plain_errors(exc.messages))
    except service.Refused as exc:
        db.session.rollback()
        started = exc.term.started_on if exc.term else None
        errors = {exc.field: [problem_text(exc.problem, started)]}
        return _branch_page(unit, 422, end_values=values, end_errors=errors)
    if ended is None:
        flash(_("Nobody holds this post."), "info")
    else:
        db.session.commit()
        flash(_("The term of %(name)s has ended.", name=ended.name), "info")
    return redirect(url_for("secretaries.branch", unit_id=unit.id), code=303)


# ------------------------------------------------------------- the province's figures


def _overview_context() -> dict[str, Any]:
    errors: Errors = {}
    unit = unit_arg(errors)
    today = clock.today()
    rows, total = queries.area_figures(unit, today)
    return {
        "unit": unit,
        "units": unit_choices(unit),
        "errors": errors,
        "rows": rows,
        "total": total,
        "vacant": queries.vacant(unit),
        "max_vacant": queries.MAX_VACANT,
        "today": today,
    }


@bp.get("")
@login_required
def overview() -> ResponseReturnValue:
    """Per commune: Party-member secretaries, non-members guided, no secretary, turnover."""
    scope.require(current_user, "evaluate_view")
    context = _overview_context()
    status = 422 if context["errors"] else 200
    return render_page("secretaries/overview.html", "secretaries/_overview.html", status, **context)


def _columns() -> list[exports.Column]:
    return [
        exports.Column(_l("Unit"), lambda r: r.unit.name),
        exports.Column(_l("Code"), lambda r: r.unit.code),
        exports.Column(_l("Branches"), lambda r: r.figures.branches, "int"),
        exports.Column(_l("With a secretary"), lambda r: r.figures.with_secretary, "int"),
        exports.Column(_l("No secretary"), lambda r: r.figures.without_secretary, "int"),
        exports.Column(_l("Secretary is a Party member"), lambda r: r.figures.party, "int"),
        exports.Column(_l("Share of branches"), lambda r: r.figures.party_share, "percent"),
        exports.Column(_l("Guided towards the Party"), lambda r: r.figures.guided, "int"),
        exports.Column(_l("Secretary changes (12 months)"), lambda r: r.figures.changes, "int"),
        exports.Column(_l("Turnover"), lambda r: r.figures.turnover, "percent"),
    ]


@bp.get("/export.<any(csv, xlsx):fmt>")
@login_required
def export(fmt: str) -> ResponseReturnValue:
    """The figures per commune, then the total, as CSV or XLSX: the province only."""
    scope.require(current_user, "evaluate_view")
    context = _overview_context()
    if context["errors"]:
        return render_template("secretaries/overview.html", **context), 422
    unit, today = context["unit"], context["today"]
    total = queries.Row(unit, context["total"])
    return exports.response(
        fmt,
        _columns(),
        [*context["rows"], total],
        exports.file_name("secretaries", unit.code, today.isoformat()),
        "Bí thư chi đoàn",
        exports.Heading(_("Branch secretaries by unit"), unit.name),
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals.update(secretary_role_label=role_label)
