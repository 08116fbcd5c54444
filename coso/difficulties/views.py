"""The difficulties' pages: raise one, "my difficulties" (where the raiser reads the answer),
the receiving level's inbox and a difficulty's page (answer, assign, pass up, close), and the
province's overview with its export."""

from __future__ import annotations

import uuid as uuidlib
from datetime import date
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm
from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from coso import clock, scope
from coso import spreadsheets as exports
from coso.dates import parse_day
from coso.difficulties import queries, rules, service
from coso.difficulties.words import category_label, problem_text
from coso.extensions import db
from coso.models import Difficulty, Unit, User
from coso.photos import queries as photo_queries
from coso.web import page_arg, paginate, user_now

bp = Blueprint("difficulties", __name__, url_prefix="/difficulties")
Errors = dict[str, list[str]]
RAISE_LIMIT = 500


def _raisable_units(user: User) -> list[Unit]:
    """The units the user may raise a difficulty about (their own first, then branches)."""
    units: list[Unit] = []
    if rules.may_raise(user.role_list, user.unit.kind, own_unit=True, in_area=True):
        units.append(user.unit)
    branches = db.session.scalars(
        sa.select(Unit)
        .where(scope.scope_clause(user), Unit.active.is_(True), Unit.kind.in_(rules.BRANCH_KINDS))
        .where(Unit.id != user.unit_id)
        .order_by(Unit.path)
        .limit(RAISE_LIMIT)
    ).all()
    units += [u for u in branches if service.may_raise_about(user, u)]
    return units


def _require_raiser(user: User) -> None:
    if not (rules.CADRE_ROLES & set(user.role_list)):
        abort(403)


def _labels(unit: Unit, every: bool = True) -> list[tuple[str, str]]:
    """The province's categories in words: those in use (``every`` False, what one raises
    under), or every one it ever had (what raised difficulties are shown with)."""
    province = queries.province_of(unit)
    read = queries.every_label if every else queries.categories
    return [(code, category_label(code, label)) for code, label in read(province)]


def _new_page(values: dict[str, str], errors: Errors, status: int = 200) -> ResponseReturnValue:
    user = user_now()
    context = {
        "units": _raisable_units(user),
        "categories": _labels(user.unit, every=False),
        "values": values,
        "errors": errors,
    }
    return render_template("difficulties/new.html", **context), status


@bp.get("/new")
@login_required
def new() -> ResponseReturnValue:
    """The form to raise a difficulty (works offline: static/js/difficulty-offline.js)."""
    _require_raiser(user_now())
    values = {
        "uuid": str(uuidlib.uuid4()),
        "unit_id": request.args.get("unit_id", ""),
        "evaluation_id": _small_id(request.args.get("evaluation")) or "",
        "visit_id": _small_id(request.args.get("visit")) or "",
    }
    return _new_page(values, {})


def _small_id(raw: str | None) -> str | None:
    """An id as the form carries it: digits of a value the database can hold, else None."""
    raw = (raw or "").strip()
    return raw if raw.isdigit() and 0 < int(raw) < 2**31 else None


@bp.post("/new")
@login_required
def create() -> ResponseReturnValue:
    user = user_now()
    _require_raiser(user)
    fields = ("uuid", "unit_id", "category", "text", "evaluation_id", "visit_id")
    values = {k: request.form.get(k, "").strip() for k in fields}
    errors: Errors = {}
    unit_id = _small_id(values["unit_id"])
    unit = db.session.get(Unit, int(unit_id)) if unit_id else None
    if unit is None or not unit.active:
        errors["unit_id"] = [_("Choose a unit from the list.")]
    elif not service.may_raise_about(user, unit):
        abort(403)
    source = {k: int(v) if (v := _small_id(values[k])) else None for k in fields[4:]}
    if unit is not None and service.source_problem(user, unit, **source):
        errors["unit_id"] = [problem_text("bad_source")]
    try:
        uuidlib.UUID(values["uuid"])
    except ValueError:
        values["uuid"] = str(uuidlib.uuid4())
    if errors:
        return _new_page(values, errors, 422)
    assert unit is not None
    try:
        difficulty, _created = service.raise_difficulty(unit, values, user, **source)
    except service.Refused as exc:
        db.session.rollback()
        field = "category" if exc.problem == "unknown_category" else "text"
        return _new_page(values, {field: [problem_text(exc.problem)]}, 422)
    db.session.commit()
    flash(_("Your difficulty was sent to %(unit)s.", unit=difficulty.routed_to.name), "info")
    return redirect(url_for("difficulties.show", difficulty_id=difficulty.id), code=303)


@bp.get("/")
@login_required
def mine() -> ResponseReturnValue:
    """The difficulties the user raised, newest first, with their answers."""
    query = (
        sa.select(Difficulty)
        .where(Difficulty.raised_by_id == current_user.id)
        .order_by(Difficulty.raised_at.desc(), Difficulty.id.desc())
    )
    result = paginate(query, page_arg(), scalars=True)
    return render_template(
        "difficulties/mine.html",
        result=result,
        rows=result.rows,
        today=clock.today(),
        labels=_labels(user_now().unit),
    )


def _difficulty(difficulty_id: int) -> Difficulty:
    """A difficulty the user may read: 404 unknown, 403 outside their area."""
    difficulty = db.session.get(Difficulty, difficulty_id)
    if difficulty is None:
        abort(404)
    user = user_now()
    if not queries.may_read(user, difficulty):
        scope.deny(user, difficulty.unit)
    return difficulty


def _handled(difficulty_id: int) -> Difficulty:
    difficulty = _difficulty(difficulty_id)
    if not queries.handles(user_now(), difficulty):
        abort(403)
    return difficulty


def _show_page(difficulty: Difficulty, errors: Errors, status: int = 200) -> ResponseReturnValue:
    user = user_now()
    handles = queries.handles(user, difficulty)
    receiver = difficulty.routed_to
    province = queries.province_of(receiver)
    users = {
        u.id: u
        for u in db.session.scalars(
            sa.select(User).where(
                User.id.in_(
                    [
                        i
                        for i in (
                            difficulty.raised_by_id,
                            difficulty.answered_by_id,
                            difficulty.owner_id,
                            difficulty.closed_by_id,
                        )
                        if i
                    ]
                )
            )
        )
    }
    owners = db.session.scalars(
        sa.select(User)
        .where(User.unit_id == receiver.id, User.active.is_(True))
        .order_by(User.username)
    ).all()
    context = {
        "d": difficulty,
        "users": users,
        "owners": owners if handles else [],
        "handles": handles,
        "labels": dict(_labels(difficulty.unit)),
        "may_answer": rules.may_answer(difficulty.state, handles),
        "may_pass_up": rules.may_pass_up(difficulty.state, handles, receiver.id == province.id),
        "may_close": rules.may_close(difficulty.state, handles),
        "overdue": rules.is_overdue(difficulty.state, difficulty.due, clock.today()),
        "errors": errors,
        "values": request.form,
        "photos": photo_queries.of_difficulty(difficulty),
    }
    return render_template("difficulties/show.html", **context), status


@bp.get("/<int:difficulty_id>")
@login_required
def show(difficulty_id: int) -> ResponseReturnValue:
    """One difficulty: its text, where it went, the answer and what was done."""
    return _show_page(_difficulty(difficulty_id), {})


def _after(difficulty: Difficulty, message: str) -> ResponseReturnValue:
    db.session.commit()
    flash(message, "info")
    return redirect(url_for("difficulties.show", difficulty_id=difficulty.id), code=303)


@bp.post("/<int:difficulty_id>/answer")
@login_required
def answer(difficulty_id: int) -> ResponseReturnValue:
    difficulty = _handled(difficulty_id)
    try:
        service.answer(difficulty, request.form.get("answer", ""), user_now())
    except service.Refused as exc:
        db.session.rollback()
        return _show_page(difficulty, {"answer": [problem_text(exc.problem)]}, 422)
    return _after(difficulty, _("The answer was sent."))


@bp.post("/<int:difficulty_id>/assign")
@login_required
def assign(difficulty_id: int) -> ResponseReturnValue:
    difficulty = _handled(difficulty_id)
    errors: Errors = {}
    owner = None
    owner_id = request.form.get("owner_id", "").strip()
    if owner_id:
        owner = db.session.get(User, int(owner_id)) if _small_id(owner_id) else None
        if owner is None or owner.unit_id != difficulty.routed_to_id:
            errors["owner_id"] = [_("Choose an owner from the list.")]
    due: date | None = None
    due_text = request.form.get("due", "").strip()
    if due_text:
        try:
            due = parse_day(due_text)  # the app's one strict reading of a day
        except ValueError:
            errors["due"] = [_("Enter a date as dd/mm/yyyy.")]
    if errors:
        return _show_page(difficulty, errors, 422)
    try:
        service.assign(difficulty, owner, due, user_now())
    except service.Refused as exc:
        db.session.rollback()
        return _show_page(difficulty, {"owner_id": [problem_text(exc.problem)]}, 422)
    return _after(difficulty, _("Owner and due date saved."))


@bp.post("/<int:difficulty_id>/pass-up")
@login_required
def pass_up(difficulty_id: int) -> ResponseReturnValue:
    difficulty = _handled(difficulty_id)
    try:
        service.pass_up(difficulty, user_now(), request.form.get("note", ""))
    except service.Refused as exc:
        db.session.rollback()
        return _show_page(difficulty, {"note": [problem_text(exc.problem)]}, 422)
    return _after(difficulty, _("Passed up to the province."))


@bp.post("/<int:difficulty_id>/close")
@login_required
def close(difficulty_id: int) -> ResponseReturnValue:
    difficulty = _handled(difficulty_id)
    try:
        service.close(difficulty, request.form.get("resolution", ""), user_now())
    except service.Refused as exc:
        db.session.rollback()
        return _show_page(difficulty, {"resolution": [problem_text(exc.problem)]}, 422)
    return _after(difficulty, _("The difficulty is closed."))


@bp.get("/inbox")
@login_required
def inbox() -> ResponseReturnValue:
    """The difficulties routed to the user's level and not closed, oldest first."""
    user = user_now()
    query = sa.select(Difficulty).where(Difficulty.state != rules.CLOSED)
    if set(user.role_list) & {"province", "admin"}:
        receivers = sa.select(Unit.id).where(scope.scope_clause(user))
        query = query.where(Difficulty.routed_to_id.in_(receivers))
    elif "secretary" in user.role_list and user.unit.kind in rules.COMMUNE_KINDS:
        query = query.where(Difficulty.routed_to_id == user.unit_id)
    else:
        abort(403)
    order = (Difficulty.raised_at, Difficulty.id)
    query = query.order_by(*order).options(sa.orm.selectinload(Difficulty.unit))  # a row's unit
    result = paginate(query, page_arg(), scalars=True)
    today = clock.today()
    return render_template(
        "difficulties/inbox.html",
        result=result,
        today=today,
        overdue={d.id for d in result.rows if rules.is_overdue(d.state, d.due, today)},
        labels=dict(_labels(user.unit)),
    )


def _overview_context() -> dict[str, Any]:
    user = user_now()
    scope.require(user, "evaluate_view")
    if not set(user.role_list) & {"province", "admin", "central"}:  # the centre reads it too
        abort(403)
    in_area = sa.select(Unit.id).where(scope.scope_clause(user))
    rows = db.session.execute(
        sa.select(
            Difficulty.state,
            Difficulty.raised_at,
            Difficulty.answered_at,
            Difficulty.closed_at,
            Difficulty.category,
        ).where(Difficulty.unit_id.in_(in_area))
    ).all()
    today = clock.today()
    counts = rules.open_by_age_and_category(
        ((r.state, r.raised_at.date(), r.category) for r in rows), today
    )
    timings = [rules.Timing(r.raised_at, r.answered_at, r.closed_at) for r in rows]
    return {
        "unit": user.unit,
        "today": today,
        "buckets": [key for key, _first, _last in rules.AGE_BUCKETS],
        "categories": _labels(user.unit),
        "counts": counts,
        "figures": rules.figures(timings),
    }


@bp.get("/overview")
@login_required
def overview() -> ResponseReturnValue:
    """The province's view: open ones by age and category, time to answer and to resolve."""
    return render_template("difficulties/overview.html", **_overview_context())


def _columns() -> list[exports.Column]:
    return [
        exports.Column(_l("Period"), lambda r: r.period),
        exports.Column(_l("Answered"), lambda r: r.answered, "int"),
        exports.Column(_l("Days to first answer, median"), lambda r: r.answer_median, "number"),
        exports.Column(
            _l("Days to first answer, 90th percentile"), lambda r: r.answer_p90, "number"
        ),
        exports.Column(_l("Resolved"), lambda r: r.resolved, "int"),
        exports.Column(_l("Days to resolve, median"), lambda r: r.resolve_median, "number"),
        exports.Column(_l("Days to resolve, 90th percentile"), lambda r: r.resolve_p90, "number"),
    ]


@bp.get("/export.<any(csv, xlsx):fmt>")
@login_required
def export(fmt: str) -> ResponseReturnValue:
    """Time to first answer and to resolve per period, as CSV or XLSX: the province only."""
    context = _overview_context()
    unit, today = context["unit"], context["today"]
    return exports.response(
        fmt,
        _columns(),
        context["figures"],
        exports.file_name("difficulties", unit.code, today.isoformat()),
        "Khó khăn",
        exports.Heading(_("Difficulties: time to answer and to resolve"), unit.name),
    )


def _overdue(unit_ids: list[int]) -> dict[int, int]:
    """Overdue difficulties per branch, for the tag beside a branch's flag."""
    return queries.overdue_counts(unit_ids, clock.today())


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)

    def may_raise(unit: Unit) -> bool:
        """May the signed-in user raise a difficulty about ``unit`` (the pages' links)?"""
        return service.may_raise_about(user_now(), unit)

    app.jinja_env.globals.update(difficulty_overdue=_overdue, may_raise_difficulty=may_raise)
