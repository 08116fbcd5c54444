"""Monthly guidance: per month per issuing unit, its title, topics and material.

A branch uses the guidance of the nearest unit above it that issued one for the
month (coso.guidance.guidance_for). "Copy last month" starts a month from the
previous one. Once an evaluation used a month's guidance its topics are fixed,
since evaluations name the topics they covered by code. Needs ``publish``.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from flask import abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError

from coso import audit, clock, scope
from coso.admin.blueprint import bp
from coso.admin.common import (
    PAGE_SIZE,
    int_arg,
    page_arg,
    render_page,
    unit_in_scope,
)
from coso.admin.forms import PERIOD_RE, GuidanceSchema
from coso.audit import changes
from coso.extensions import db
from coso.fields import form_data, plain_errors
from coso.guidance import period_of, previous_period
from coso.models import Evaluation, Guidance, GuidanceTopic, Unit, User

ACTION = "publish"
BLANK_TOPICS = 3


class GuidanceProblem(Exception):
    """A guidance action that cannot be done, with the reason in words."""


# --- Rules


def snapshot(guidance: Guidance) -> dict[str, Any]:
    return {
        "period": guidance.period,
        "title": guidance.title,
        "material": guidance.material,
        "link": guidance.link,
        "topics": [[topic.code, topic.title] for topic in guidance.topics],
    }


def in_use(guidance: Guidance) -> bool:
    """True once an evaluation names this guidance (its topics are then fixed)."""
    if guidance.id is None:
        return False
    return (
        db.session.scalar(
            sa.select(Evaluation.id).where(Evaluation.guidance_id == guidance.id).limit(1)
        )
        is not None
    )


def exists(unit: Unit, period: str, other: Guidance | None = None) -> Guidance | None:
    query = sa.select(Guidance).where(Guidance.unit_id == unit.id, Guidance.period == period)
    if other is not None:
        query = query.where(Guidance.id != other.id)
    return db.session.scalar(query)


def save(guidance: Guidance | None, unit: Unit, data: dict[str, Any], user: User) -> Guidance:
    """Create or update a month's guidance from validated data (caller commits).

    :raise GuidanceProblem: topics of a guidance already used by evaluations would change.
    """
    topics = [(topic["code"], topic["title"]) for topic in data["topics"]]
    if guidance is not None and in_use(guidance):
        old = [(topic.code, topic.title) for topic in guidance.topics]
        if [code for code, _t in old] != [code for code, _t in topics]:
            raise GuidanceProblem(
                _("Evaluations already used this guidance: its topics cannot be added or removed.")
            )
        if data["period"] != guidance.period:
            raise GuidanceProblem(
                _("Evaluations already used this guidance, so its month cannot change.")
            )
    creating = guidance is None
    before = snapshot(guidance) if guidance is not None else {}
    if guidance is None:
        guidance = Guidance(unit_id=unit.id, created_by_id=user.id)
        db.session.add(guidance)
    guidance.period = data["period"]
    guidance.title = " ".join(data["title"].split())
    guidance.material = (data.get("material") or "").strip() or None
    guidance.link = data.get("link") or None
    current = {topic.code: topic for topic in guidance.topics}
    wanted = {code for code, _t in topics}
    for topic in list(guidance.topics):
        if topic.code not in wanted:
            guidance.topics.remove(topic)
    db.session.flush()
    for position, (code, title) in enumerate(topics, start=1):
        if code in current:
            current[code].title = title
            current[code].position = position
        else:
            guidance.topics.append(GuidanceTopic(code=code, title=title, position=position))
    db.session.flush()
    db.session.refresh(guidance)
    after = snapshot(guidance)
    if creating:
        audit.record("guidance.create", obj=guidance, unit_id=unit.id, after=after)
    else:
        audit.record("guidance.update", obj=guidance, unit_id=unit.id, **changes(before, after))
    return guidance


def copy_last_month(unit: Unit, period: str, user: User) -> Guidance:
    """Start ``period`` from the unit's guidance of the month before.

    :raise GuidanceProblem: the month already has guidance, or last month has none.
    """
    if exists(unit, period) is not None:
        raise GuidanceProblem(_("This month already has guidance."))
    source = exists(unit, previous_period(period))
    if source is None:
        raise GuidanceProblem(_("There is no guidance of the month before to copy."))
    data = snapshot(source)
    data["period"] = period
    data["topics"] = [{"code": code, "title": title} for code, title in data["topics"]]
    guidance = save(None, unit, data, user)
    audit.record("guidance.copy", obj=guidance, unit_id=unit.id, source=source.id, period=period)
    return guidance


def delete(guidance: Guidance) -> None:
    if in_use(guidance):
        raise GuidanceProblem(_("Evaluations used this guidance; it cannot be deleted."))
    audit.record(
        "guidance.delete", obj=guidance, unit_id=guidance.unit_id, before=snapshot(guidance)
    )
    db.session.delete(guidance)


def topics_from_form(form: Any) -> list[dict[str, Any]]:
    """Topic rows in form order; blank rows left out and missing codes filled (T1, T2 …)."""
    indexes = sorted(
        {
            int(key.split("-")[1])
            for key in form
            if key.startswith("topics-") and key.count("-") == 2 and key.split("-")[1].isdecimal()
        }
    )
    rows = []
    for index in indexes[:100]:
        code = (form.get(f"topics-{index}-code") or "").strip()
        title = " ".join((form.get(f"topics-{index}-title") or "").split())
        if form.get(f"topics-{index}-remove") or not (code or title):
            continue
        rows.append({"code": code or None, "title": title or None})
    used = {row["code"] for row in rows if row["code"]}
    number = 1
    for row in rows:
        if row["code"] is None:
            while f"T{number}" in used:
                number += 1
            row["code"] = f"T{number}"
            used.add(row["code"])
    return rows


# --- Views


def guidance_or_403(guidance_id: int) -> Guidance:
    guidance = db.session.get(Guidance, guidance_id)
    if guidance is None:
        abort(404)
    unit_in_scope(guidance.unit_id, ACTION)
    return guidance


def issuing_unit(unit_id: int | None) -> Unit:
    unit = unit_in_scope(unit_id or current_user.unit_id, ACTION)
    if unit.is_branch:
        abort(404)
    return unit


@bp.get("/guidance")
@login_required
def guidance_list() -> ResponseReturnValue:
    """The guidance issued in my area, newest month first."""
    scope.require(current_user, ACTION)
    query = (
        sa.select(Guidance, Unit)
        .join(Unit, Unit.id == Guidance.unit_id)
        .where(scope.scope_clause(current_user))
    )
    unit_id = int_arg("unit")
    unit = issuing_unit(unit_id) if unit_id else None
    if unit is not None:
        query = query.where(Guidance.unit_id == unit.id)
    page = page_arg()
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    rows = db.session.execute(
        query.order_by(Guidance.period.desc(), Unit.depth, Unit.name)
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    home = unit or current_user.unit
    period = period_of(clock.today())
    return render_page(
        "admin/guidance_list.html",
        "admin/_guidance_list.html",
        rows=rows,
        unit=unit,
        home=home,
        period=period,
        this_month=None if home.is_branch else exists(home, period),
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
    )


def _form_page(
    guidance: Guidance | None, unit: Unit, values: dict[str, Any], status: int = 200, **extra: Any
) -> ResponseReturnValue:
    context: dict[str, Any] = {
        "guidance": guidance,
        "unit": unit,
        "values": values,
        "errors": {},
        "blank": BLANK_TOPICS,
        "locked": guidance is not None and in_use(guidance),
    }
    context.update(extra)
    return render_page("admin/guidance_form.html", "admin/_guidance_form.html", status, **context)


def _values_of(guidance: Guidance) -> dict[str, Any]:
    return {
        "period": guidance.period,
        "title": guidance.title,
        "material": guidance.material or "",
        "link": guidance.link or "",
        "topics": [{"code": t.code, "title": t.title} for t in guidance.topics],
    }


def _post(guidance: Guidance | None, unit: Unit) -> ResponseReturnValue:
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
        saved = save(guidance, unit, data, current_user._get_current_object())
        db.session.commit()
    except GuidanceProblem as exc:
        db.session.rollback()
        return _form_page(guidance, unit, values, 422, errors={"_form": [str(exc)]})
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
    """Start a month from the month before it."""
    scope.require(current_user, ACTION)
    unit = issuing_unit(_int(request.form.get("unit")))
    period = request.form.get("period", "")
    if not re.match(PERIOD_RE, period):
        flash(_("Choose a month (YYYY-MM)."), "error")
        return redirect(url_for("admin.guidance_list"), code=303)
    try:
        guidance = copy_last_month(unit, period, current_user._get_current_object())
        db.session.commit()
    except GuidanceProblem as exc:
        db.session.rollback()
        flash(str(exc), "error")
        existing = exists(unit, period)
        if existing is not None:
            return redirect(url_for("admin.guidance_edit", guidance_id=existing.id), code=303)
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
    text = (text or "").strip()
    return int(text) if text.isdecimal() and len(text) < 10 else None
