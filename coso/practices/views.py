"""The practices' pages: the practices spread to my area (new ones marked) and one practice;
the editor's actions (record, from an evaluation, spread, withdraw) whose page is the
province's ``/dashboard/practices``."""

from __future__ import annotations

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError

from coso import scope
from coso.dashboard import analysis
from coso.extensions import db
from coso.fields import plain_errors
from coso.models import Evaluation, Practice
from coso.practices import queries, service
from coso.practices.rules import FORM_SOURCES
from coso.practices.schema import FIELDS, PracticeSchema
from coso.practices.words import source_label
from coso.units.queries import unit_by_code
from coso.web import page_arg, render_page, unit_arg, unit_choices, user_now

bp = Blueprint("practices", __name__, url_prefix="/practices")
ACTION = "publish"


@bp.get("")
@login_required
def index() -> ResponseReturnValue:
    """The good practices spread to my area, newest first; those I have not opened are new."""
    listed = queries.spread_to(current_user)
    return render_template(
        "practices/index.html", listed=listed, new=sum(1 for item in listed if item.new)
    )


def _visible(practice_id: int) -> Practice:
    practice = db.session.get(Practice, practice_id)
    if practice is None:
        abort(404)
    if not queries.visible(practice, current_user):
        abort(403, description=_("This practice was not spread to your area."))
    return practice


@bp.get("/<int:practice_id>")
@login_required
def show(practice_id: int) -> ResponseReturnValue:
    """One practice; opening it marks it read (no longer new) for me."""
    practice = _visible(practice_id)
    was_new = practice.spread_at is not None and not queries.is_read(practice, current_user)
    if practice.spread_at is not None:
        service.mark_read(practice, user_now())
        db.session.commit()
    return render_template(
        "practices/show.html",
        practice=practice,
        was_new=was_new,
        can_edit=scope.may(current_user, ACTION, practice.unit),
    )


# ------------------------------------------------------------------ the editor


def editor_page(
    status: int = 200,
    form_values: dict[str, str] | None = None,
    form_errors: dict[str, list[str]] | None = None,
) -> ResponseReturnValue:
    """The editor's view (``/dashboard/practices``, the province): the practices recorded in
    the unit's subtree with spread / withdraw, the form to record one, and the evaluations'
    practices cadres recommended, each recordable."""
    scope.require(current_user, "evaluate_view")
    errors: dict[str, list[str]] = {}
    unit = unit_arg(errors)
    result = analysis.good_practices(unit, page_arg())
    context = {
        "unit": unit,
        "result": result,
        "units": unit_choices(unit),
        "errors": errors,
        "recorded": queries.recorded(unit),
        "from_evaluations": queries.recorded_evaluations([p.evaluation_id for p in result.rows]),
        "sources": FORM_SOURCES,
        "form_values": form_values or {},
        "form_errors": form_errors or {},
        "form_open": bool(form_errors),
    }
    status = status if status != 200 else (422 if errors else 200)
    return render_page("dashboard/practices.html", "dashboard/_practices.html", status, **context)


def _editable(practice_id: int) -> Practice:
    practice = db.session.get(Practice, practice_id)
    if practice is None:
        abort(404)
    if not scope.may(current_user, ACTION, practice.unit):
        scope.deny(current_user, practice.unit)
    return practice


def _back(unit_id: int | None = None) -> ResponseReturnValue:
    target = url_for("dashboard.practices", unit=unit_id) if unit_id else None
    return redirect(target or url_for("dashboard.practices"), code=303)


@bp.post("/new")
@login_required
def record() -> ResponseReturnValue:
    """Record a practice seen on a visit or on its own; errors re-render the editor's page."""
    scope.require(current_user, ACTION)
    values = {name: request.form.get(name, "") for name in FIELDS}
    errors: dict[str, list[str]] = {}
    try:
        data = PracticeSchema().load({k: v for k, v in values.items() if v.strip()})
    except ValidationError as exc:
        errors = plain_errors(exc.messages)
    else:
        unit, problem = unit_by_code(data["unit_code"], current_user, ACTION)
        if unit is None:
            errors = {"unit_code": [problem or ""]}
        else:
            practice = service.record(unit, data, user_now())
            db.session.commit()
            flash(_("The practice was recorded: %(title)s.", title=practice.title), "info")
            return _back()
    return editor_page(422, form_values=values, form_errors=errors)


@bp.post("/from-evaluation/<int:evaluation_id>")
@login_required
def from_evaluation(evaluation_id: int) -> ResponseReturnValue:
    """Record the practice an evaluation noted (once)."""
    evaluation = db.session.get(Evaluation, evaluation_id)
    if evaluation is None:
        abort(404)
    if not scope.may(current_user, ACTION, evaluation.branch):
        scope.deny(current_user, evaluation.branch)
    if not (evaluation.good_practice or "").strip():
        flash(_("This evaluation noted no good practice."), "error")
        return _back()
    practice = service.from_evaluation(evaluation, user_now())
    db.session.commit()
    flash(_("The practice was recorded: %(title)s.", title=practice.title), "info")
    return _back()


@bp.post("/<int:practice_id>/spread")
@login_required
def spread(practice_id: int) -> ResponseReturnValue:
    """Spread a practice to the secretaries and cadres of my area."""
    practice = _editable(practice_id)
    if practice.spread_at is None:
        service.spread(practice, user_now())
        db.session.commit()
    flash(_("The practice is spread to your area."), "info")
    return _back()


@bp.post("/<int:practice_id>/withdraw")
@login_required
def withdraw(practice_id: int) -> ResponseReturnValue:
    """Stop spreading a practice."""
    practice = _editable(practice_id)
    if practice.spread_at is not None:
        service.withdraw(practice, user_now())
        db.session.commit()
    flash(_("The practice is no longer spread."), "info")
    return _back()


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)

    def practice_news() -> int:
        """How many spread practices the signed-in user has not opened (the menu's badge)."""
        if not current_user.is_authenticated:
            return 0
        return queries.new_count(current_user)

    app.jinja_env.globals.update(practice_news=practice_news, practice_source_label=source_label)
