"""The meeting calendar's pages: an area's meetings by week or day (and their export), a
branch's calendar where its secretary declares, moves and cancels meetings."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError

from coso import clock, scope
from coso import spreadsheets as exports
from coso.dates import parse_day
from coso.extensions import db
from coso.fields import plain_errors
from coso.meetings import queries, service
from coso.meetings.rules import (
    DEFAULT_MONTHS,
    KINDS,
    MAX_MONTHS,
    NTHS,
    VIEWS,
    WEEK,
    days_of,
    step,
    window,
)
from coso.meetings.schema import CancelSchema, MeetingSchema, PatternSchema
from coso.meetings.words import NTH_LABELS, WEEKDAY_LABELS, kind_label, pattern_label
from coso.models import Meeting, MeetingPattern, Unit
from coso.web import choice_arg, render_page, unit_arg, unit_choices, unit_in_scope, user_now

bp = Blueprint("meetings", __name__, url_prefix="/meetings")
Errors = dict[str, list[str]]
#: The fields each form posts.
WHERE_FIELDS = ("time", "place", "link", "kind")
MEETING_FIELDS = ("day", *WHERE_FIELDS)
PATTERN_FIELDS = ("nth", "weekday", "months", *WHERE_FIELDS)


def _posted(names: tuple[str, ...]) -> dict[str, str]:
    """The named fields, stripped, NUL removed; blank ones left out so "required" speaks."""
    data = {}
    for name in names:
        value = request.form.get(name, "").replace("\x00", "").strip()
        if value:
            data[name] = value
    return data


# ------------------------------------------------------------------- the calendar


def _day_arg(errors: Errors, today: date) -> date:
    raw = request.args.get("day", "").strip()
    if not raw:
        return today
    try:
        return parse_day(raw)
    except ValueError:
        errors["day"] = [_("Enter a date as dd/mm/yyyy.")]
        return today


def _calendar_context() -> tuple[dict[str, Any], Errors]:
    errors: Errors = {}
    today = clock.today()
    unit = unit_arg(errors)
    view = choice_arg("view", VIEWS, WEEK, errors, _("Choose a week or a day."))
    day = _day_arg(errors, today)
    first, last = window(view, day)
    listed = queries.in_area(unit, first, last)
    by_day: dict[date, list[queries.Listed]] = {d: [] for d in days_of(first, last)}
    for row in listed:
        by_day[row.meeting.day].append(row)
    context = {
        "unit": unit,
        "units": unit_choices(unit),
        "view": view,
        "day": day,
        "first": first,
        "last": last,
        "today": today,
        "by_day": by_day,
        "listed": listed,
        "previous": step(view, day, -1),
        "following": step(view, day, 1),
        "errors": errors,
        "can_export": scope.can(current_user, "evaluate_view"),
        "kind_label": kind_label,
        "weekdays": WEEKDAY_LABELS,
    }
    return context, errors


@bp.get("")
@login_required
def calendar() -> ResponseReturnValue:
    """The meetings declared in the user's area, one week (Monday to Sunday) or one day."""
    context, errors = _calendar_context()
    status = 422 if errors else 200
    return render_page("meetings/calendar.html", "meetings/_calendar.html", status, **context)


def _columns() -> list[exports.Column]:
    return [
        exports.Column(_l("Date"), lambda r: r.meeting.day, "date"),
        exports.Column(_l("Time"), lambda r: r.meeting.time.strftime("%H:%M")),
        exports.Column(_l("Branch code"), lambda r: r.branch.code),
        exports.Column(_l("Branch"), lambda r: r.branch.name),
        exports.Column(_l("Parent unit"), lambda r: r.parent_name or ""),
        exports.Column(_l("Kind"), lambda r: kind_label(r.meeting.kind)),
        exports.Column(_l("Place"), lambda r: r.meeting.place or ""),
        exports.Column(_l("Online link"), lambda r: r.meeting.link or ""),
        exports.Column(_l("Moved from"), lambda r: r.meeting.moved_from, "date"),
        exports.Column(_l("Cancelled"), lambda r: r.meeting.cancelled),
        exports.Column(_l("Reason for cancelling"), lambda r: r.meeting.cancel_reason or ""),
    ]


@bp.get("/export.<any(csv, xlsx):fmt>")
@login_required
def export(fmt: str) -> ResponseReturnValue:
    """The calendar's week or day, with the page's filters, as CSV or XLSX (the province)."""
    scope.require(current_user, "evaluate_view")
    context, errors = _calendar_context()
    if errors:
        return render_template("meetings/calendar.html", **context), 422
    unit, first, last = context["unit"], context["first"], context["last"]
    return exports.response(
        fmt,
        _columns(),
        context["listed"],
        exports.file_name("meetings", unit.code, first.isoformat(), last.isoformat()),
        "Lịch sinh hoạt",
        exports.Heading(
            _("Branch meetings declared"),
            unit.name,
            [_("From %(a)s to %(b)s", a=first.strftime("%d/%m/%Y"), b=last.strftime("%d/%m/%Y"))],
        ),
    )


# ------------------------------------------------------------- a branch's calendar


def _branch(unit_id: int) -> Unit:
    unit = unit_in_scope(unit_id)
    if not unit.is_branch:
        abort(404)
    return unit


def _declarer_branch(unit_id: int) -> Unit:
    """A branch whose meetings the user may declare: 404 not a branch, 403 not theirs."""
    unit = _branch(unit_id)
    if not scope.may(current_user, "declare_meetings", unit):
        scope.deny(current_user, unit)
    return unit


def _meeting(meeting_id: int) -> Meeting:
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None:
        abort(404)
    _declarer_branch(meeting.branch_id)
    return meeting


def _branch_page(
    branch: Unit, status: int = 200, form: str | None = None, **extra: Any
) -> ResponseReturnValue:
    today = clock.today()
    context = {
        "branch": branch,
        "today": today,
        "meetings": queries.for_branch(branch, today - timedelta(days=7)),
        "patterns": queries.patterns_of(branch),
        "may_declare": scope.may(current_user, "declare_meetings", branch),
        "kinds": KINDS,
        "kind_label": kind_label,
        "pattern_label": pattern_label,
        "nths": NTHS,
        "nth_labels": NTH_LABELS,
        "weekdays": WEEKDAY_LABELS,
        "max_months": MAX_MONTHS,
        "default_months": DEFAULT_MONTHS,
        "open_form": form,
        "meeting_values": {},
        "meeting_errors": {},
        "pattern_values": {},
        "pattern_errors": {},
        **extra,
    }
    return render_template("meetings/branch.html", **context), status


@bp.get("/branch/<int:unit_id>")
@login_required
def branch(unit_id: int) -> ResponseReturnValue:
    """A branch's declared meetings and patterns; its secretary declares more here."""
    return _branch_page(_branch(unit_id))


def _done(message: str, branch_id: int) -> ResponseReturnValue:
    flash(message, "info")
    return redirect(url_for("meetings.branch", unit_id=branch_id), code=303)


@bp.post("/branch/<int:unit_id>/new")
@login_required
def declare(unit_id: int) -> ResponseReturnValue:
    """Declare one meeting of the branch."""
    unit = _declarer_branch(unit_id)
    values = _posted(MEETING_FIELDS)
    try:
        data = MeetingSchema(clock.today()).load(values)
    except ValidationError as exc:
        errors = plain_errors(exc.messages)
        return _branch_page(unit, 422, "meeting", meeting_values=values, meeting_errors=errors)
    service.declare(unit, data, user_now())
    db.session.commit()
    return _done(_("The meeting was declared."), unit.id)


@bp.post("/branch/<int:unit_id>/pattern")
@login_required
def declare_pattern(unit_id: int) -> ResponseReturnValue:
    """Declare a monthly pattern; its next months' meetings are created at once."""
    unit = _declarer_branch(unit_id)
    values = _posted(PATTERN_FIELDS)
    try:
        data = PatternSchema(clock.today()).load(values)
    except ValidationError as exc:
        errors = plain_errors(exc.messages)
        return _branch_page(unit, 422, "pattern", pattern_values=values, pattern_errors=errors)
    _pattern, created = service.declare_pattern(unit, data, user_now(), clock.today())
    db.session.commit()
    return _done(_("The pattern was declared: %(n)s meetings added.", n=len(created)), unit.id)


def _pattern(pattern_id: int) -> MeetingPattern:
    pattern = db.session.get(MeetingPattern, pattern_id)
    if pattern is None:
        abort(404)
    _declarer_branch(pattern.branch_id)
    return pattern


@bp.post("/pattern/<int:pattern_id>/fill")
@login_required
def fill(pattern_id: int) -> ResponseReturnValue:
    """Add the pattern's meetings of the coming months it has not filled yet."""
    pattern = _pattern(pattern_id)
    if not pattern.active:
        return _done(_("This pattern has ended."), pattern.branch_id)
    try:
        created = service.fill(pattern, clock.today(), DEFAULT_MONTHS, user_now())
        db.session.commit()
    except IntegrityError:  # someone filled the same months at the same moment
        db.session.rollback()
        created = []
    return _done(_("%(n)s meetings added.", n=len(created)), pattern.branch_id)


@bp.post("/pattern/<int:pattern_id>/end")
@login_required
def end_pattern(pattern_id: int) -> ResponseReturnValue:
    """Stop a pattern; its coming meetings that were not moved or cancelled are removed."""
    pattern = _pattern(pattern_id)
    if pattern.active:
        service.end_pattern(pattern, clock.today(), user_now())
        db.session.commit()
    return _done(_("The pattern has ended."), pattern.branch_id)


def _closed(meeting: Meeting, today: date) -> str | None:
    if meeting.cancelled:
        return _("This meeting is cancelled.")
    if meeting.day < today:
        return _("This meeting has already taken place.")
    return None


@bp.route("/<int:meeting_id>/move", methods=["GET", "POST"])
@login_required
def move(meeting_id: int) -> ResponseReturnValue:
    """Move one meeting to a new day, time or place; the first day is kept as "moved from"."""
    meeting = _meeting(meeting_id)
    today = clock.today()
    closed = _closed(meeting, today)
    errors: Errors = {}
    values: dict[str, str] = {
        "day": meeting.day.isoformat(),
        "time": meeting.time.strftime("%H:%M"),
        "place": meeting.place or "",
        "link": meeting.link or "",
        "kind": meeting.kind,
    }
    if request.method == "POST" and closed is None:
        values = _posted(MEETING_FIELDS)
        try:
            data = MeetingSchema(today).load(values)
        except ValidationError as exc:
            errors = plain_errors(exc.messages)
        else:
            service.move(meeting, data, user_now())
            db.session.commit()
            return _done(_("The meeting was moved."), meeting.branch_id)
    status = 422 if errors or (closed and request.method == "POST") else 200
    page = render_template(
        "meetings/move.html",
        meeting=meeting,
        values=values,
        errors=errors,
        closed=closed,
        kinds=KINDS,
        kind_label=kind_label,
        today=today,
    )
    return page, status


@bp.route("/<int:meeting_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel(meeting_id: int) -> ResponseReturnValue:
    """Cancel one meeting, with the reason."""
    meeting = _meeting(meeting_id)
    today = clock.today()
    closed = _closed(meeting, today)
    errors: Errors = {}
    reason = ""
    if request.method == "POST" and closed is None:
        reason = request.form.get("reason", "").replace("\x00", "")
        try:
            data = CancelSchema().load({"reason": reason})
        except ValidationError as exc:
            errors = plain_errors(exc.messages)
        else:
            service.cancel(meeting, data["reason"], user_now())
            db.session.commit()
            return _done(_("The meeting was cancelled."), meeting.branch_id)
    status = 422 if errors or (closed and request.method == "POST") else 200
    page = render_template(
        "meetings/cancel.html",
        meeting=meeting,
        reason=reason,
        errors=errors,
        closed=closed,
        kind_label=kind_label,
    )
    return page, status


def next_meeting(branch_id: int) -> Meeting | None:
    """The branch's next meeting, for the branch page (a Jinja global)."""
    return queries.next_meeting(branch_id, clock.today())


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals.update(next_meeting=next_meeting, meeting_kind_label=kind_label)
