"""Monthly guidance in the administration: list, write, edit, copy last month, delete.

A branch uses the guidance of the nearest unit above it that issued one for the
month (coso.guidance.queries.guidance_for). Needs ``publish``. The routes attach
to the ``admin`` blueprint, so their endpoints are ``admin.guidance_*``.
"""

from __future__ import annotations

import re
from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError

from coso import clock, scope
from coso.admin.blueprint import bp
from coso.extensions import db
from coso.fields import form_data, plain_errors
from coso.guidance.queries import exists, in_use, issued
from coso.guidance.rules import PERIOD_RE, period_of, snapshot
from coso.guidance.schema import GuidanceSchema, topics_from_form
from coso.guidance.service import (
    GuidanceProblem,
    copy_last_month,
    delete,
    next_month_to_write,
    save,
)
from coso.models import Guidance, Unit
from coso.web import (
    PAGE_SIZE,
    int_arg,
    page_arg,
    render_page,
    row_in_scope,
    unit_in_scope,
    user_now,
)

ACTION = "publish"
BLANK_TOPICS = 3


def guidance_or_403(guidance_id: int) -> Guidance:
    """The guidance with this id, when the signed-in user may publish for its unit."""
    return row_in_scope(Guidance, guidance_id, ACTION)


def issuing_unit(unit_id: int | None) -> Unit:
    """A unit of my area that may issue guidance (mine by default); a branch is a 404."""
    unit = unit_in_scope(unit_id or current_user.unit_id, ACTION)
    if unit.is_branch:
        abort(404)
    return unit


@bp.get("/guidance")
@login_required
def guidance_list() -> ResponseReturnValue:
    """The guidance issued in my area, newest month first."""
    scope.require(current_user, ACTION)
    unit_id = int_arg("unit")
    unit = issuing_unit(unit_id) if unit_id else None
    home = unit or current_user.unit
    period = period_of(clock.today())
    return render_page(
        "admin/guidance_list.html",
        "admin/_guidance_list.html",
        result=issued(current_user, unit, page_arg(), PAGE_SIZE),
        unit=unit,
        home=home,
        period=period,
        this_month=None if home.is_branch else exists(home, period),
        copy_period=period if home.is_branch else next_month_to_write(home, period),
    )


def _form_page(
    guidance: Guidance | None, unit: Unit, values: dict[str, Any], status: int = 200, **extra: Any
) -> ResponseReturnValue:
    """The guidance form, with ``extra`` over the defaults."""
    context: dict[str, Any] = {
        "guidance": guidance,
        "unit": unit,
        "values": values,
        "errors": {},
        "blank": BLANK_TOPICS,
        "locked": guidance is not None and in_use(guidance),
        "frozen": snapshot(guidance) if guidance is not None else None,
    }
    context.update(extra)
    return render_page("admin/guidance_form.html", "admin/_guidance_form.html", status, **context)


def _values_of(guidance: Guidance) -> dict[str, Any]:
    """A guidance as the form shows it."""
    return {
        "period": guidance.period,
        "title": guidance.title,
        "material": guidance.material or "",
        "link": guidance.link or "",
        "topics": [{"code": t.code, "title": t.title} for t in guidance.topics],
    }


def _post(guidance: Guidance | None, unit: Unit) -> ResponseReturnValue:
    """Check and save the posted form (new guidance when ``guidance`` is None)."""
    raw = form_data(request.form, ("period", "title", "material", "link"))
    raw["topics"] = topics_from_form(request.form)
    values = {key: ("" if value is None else value) for key, value in raw.items()}
    try:
        data = GuidanceSchema().load(raw)
    except ValidationError as exc:
        return _form_page(guidance, unit, values, 422, errors=plain_errors(exc.messages))
    if exists(unit, data["period"], guidance) is not None:
        errors = {"period": [_("This unit already has guidance for this month.")]}
        return _form_page(guidance, unit, values, 422, errors=errors)
    try:
        saved = save(guidance, unit, data, user_now())
        db.session.commit()
    except GuidanceProblem as exc:
        db.session.rollback()
        errors = {"_form": [str(exc)]}
        for name in exc.fields:
            errors[name] = [_("Fixed: evaluations used this guidance.")]
        return _form_page(guidance, unit, values, 422, errors=errors)
    except IntegrityError:
        db.session.rollback()
        errors = {"period": [_("This unit already has guidance for this month.")]}
        return _form_page(guidance, unit, values, 422, errors=errors)
    flash(_("Guidance saved."), "info")
    return redirect(url_for("admin.guidance_edit", guidance_id=saved.id), code=303)


@bp.route("/guidance/new", methods=["GET", "POST"])
@login_required
def guidance_new() -> ResponseReturnValue:
    """Write a month's guidance for a unit of my area."""
    scope.require(current_user, ACTION)
    unit = issuing_unit(int_arg("unit"))
    if request.method == "POST":
        return _post(None, unit)
    period = request.args.get("period", "")
    if not re.match(PERIOD_RE, period):
        period = period_of(clock.today())
    return _form_page(None, unit, {"period": period, "topics": []})


@bp.route("/guidance/<int:guidance_id>", methods=["GET", "POST"])
@login_required
def guidance_edit(guidance_id: int) -> ResponseReturnValue:
    """Change a month's guidance."""
    guidance = guidance_or_403(guidance_id)
    unit = issuing_unit(guidance.unit_id)
    if request.method == "POST":
        return _post(guidance, unit)
    return _form_page(guidance, unit, _values_of(guidance))


@bp.post("/guidance/copy")
@login_required
def guidance_copy() -> ResponseReturnValue:
    """Start a month from the month before it; never onto a month that has guidance.

    When the month already has guidance the list says so (and proposes the next
    free month): landing in that month's edit form invited rewriting guidance
    evaluations had already used.
    """
    scope.require(current_user, ACTION)
    unit = issuing_unit(_int(request.form.get("unit")))
    period = request.form.get("period", "")
    if not re.match(PERIOD_RE, period):
        flash(_("Choose a month (YYYY-MM)."), "error")
        return redirect(url_for("admin.guidance_list"), code=303)
    try:
        guidance = copy_last_month(unit, period, user_now())
        db.session.commit()
    except GuidanceProblem as exc:
        db.session.rollback()
        flash(str(exc), "error")
        if exists(unit, period) is not None:
            return redirect(url_for("admin.guidance_list"), code=303)
        return redirect(url_for("admin.guidance_new", unit=unit.id, period=period), code=303)
    except IntegrityError:
        db.session.rollback()
        flash(_("This month already has guidance."), "error")
        return redirect(url_for("admin.guidance_list"), code=303)
    flash(_("Copied from last month; check and change what is new."), "info")
    return redirect(url_for("admin.guidance_edit", guidance_id=guidance.id), code=303)


@bp.post("/guidance/<int:guidance_id>/delete")
@login_required
def guidance_delete(guidance_id: int) -> ResponseReturnValue:
    """Delete guidance that no evaluation has used."""
    guidance = guidance_or_403(guidance_id)
    unit = issuing_unit(guidance.unit_id)
    try:
        delete(guidance)
        db.session.commit()
    except GuidanceProblem as exc:
        db.session.rollback()
        return _form_page(guidance, unit, _values_of(guidance), 422, errors={"_form": [str(exc)]})
    flash(_("Guidance deleted."), "info")
    return redirect(url_for("admin.guidance_list"), code=303)


def _int(text: str | None) -> int | None:
    """A positive integer from a form field, or None."""
    text = (text or "").strip()
    return int(text) if text.isdecimal() and len(text) < 10 else None
