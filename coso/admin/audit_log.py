"""The audit log: who did what, when, to what, with before/after; filtered and exported.

An administrator sees the events about units of their subtree and the events of
users whose home unit lies there; an administrator at the top of the tree
sees everything (failed sign-ins of unknown names and command-line imports too).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app, request
from flask.typing import ResponseReturnValue
from flask_babel import force_locale, get_locale, pgettext
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError

from coso import clock, scope
from coso.admin.blueprint import bp
from coso.admin.forms import AUDIT_KINDS, AuditFilterSchema
from coso.admin.words import (
    KIND_LABELS,
    details_text,
    event_name,
    field_name,
    filters_in_words,
    readable,
)
from coso.extensions import db
from coso.fields import form_data, plain_errors
from coso.models import AuditEvent, Unit, User
from coso.spreadsheets import Heading, file_name, listed, response
from coso.web import PAGE_SIZE, Page, page_arg, paginate, render_page

ACTION = "administer"
MAX_EXPORT = 50_000
FILTERS = ("user", "unit", "kind", "date_from", "date_to")
#: Kinds offered in the filter, and the action names each covers.
KINDS: dict[str, tuple[str, ...]] = {
    "login": ("login", "login.", "logout"),
    "unit": ("unit.", "units."),
    "user": ("user.", "users."),
}
KINDS.update({kind: (kind + ".",) for kind in AUDIT_KINDS if kind not in KINDS})


def _local_start(day: date) -> datetime:
    """Midnight of ``day`` where the users are, as UTC."""
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "UTC")
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def _prefix(column: Any, prefix: str) -> sa.ColumnElement[bool]:
    """``column`` starts with ``prefix`` as an index-friendly range."""
    return sa.and_(column >= prefix, column < prefix[:-1] + chr(ord(prefix[-1]) + 1))


def _under(column: Any, path: str) -> sa.ColumnElement[bool]:
    return _prefix(column, path)


def events_query(user: User, filters: dict[str, Any]) -> tuple[sa.Select[Any], dict[str, str]]:
    """Audit events the user may see, filtered; returns the query and problems by field."""
    event_unit = sa.orm.aliased(Unit)
    actor = sa.orm.aliased(User)
    actor_unit = sa.orm.aliased(Unit)
    query = (
        sa.select(AuditEvent, actor, event_unit)
        .outerjoin(actor, actor.id == AuditEvent.user_id)
        .outerjoin(event_unit, event_unit.id == AuditEvent.unit_id)
        .outerjoin(actor_unit, actor_unit.id == actor.unit_id)
    )
    home = user.unit
    if home.parent_id is not None:
        query = query.where(
            sa.or_(_under(event_unit.path, home.path), _under(actor_unit.path, home.path))
        )
    problems: dict[str, str] = {}
    if filters.get("user"):
        name = filters["user"].strip().lower()
        query = query.where(actor.username == name)
    if filters.get("unit"):
        unit = db.session.scalar(sa.select(Unit).where(Unit.code == filters["unit"].strip()))
        if unit is None or not scope.in_scope(user, unit):
            problems["unit"] = "unknown"
            query = query.where(sa.false())
        else:
            query = query.where(_under(event_unit.path, unit.path))
    if filters.get("kind"):
        prefixes = KINDS[filters["kind"]]
        query = query.where(
            sa.or_(
                *[
                    AuditEvent.action.like(p + "%") if p.endswith(".") else AuditEvent.action == p
                    for p in prefixes
                ]
            )
        )
    if filters.get("date_from"):
        query = query.where(AuditEvent.at >= _local_start(filters["date_from"]))
    if filters.get("date_to"):
        query = query.where(AuditEvent.at < _local_start(filters["date_to"] + timedelta(days=1)))
    return query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()), problems


def _filters() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The filter form: (raw values, loaded filters, errors)."""
    raw = form_data(request.args, FILTERS)
    values = {key: value or "" for key, value in raw.items()}
    try:
        return values, AuditFilterSchema().load(raw), {}
    except ValidationError as exc:
        return values, {}, plain_errors(exc.messages)


def describe_details(details: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(field, before, after) rows for a change; other details as (key, None, value)."""
    rows: list[tuple[str, Any, Any]] = []
    before, after = details.get("before"), details.get("after")
    if isinstance(before, dict) or isinstance(after, dict):
        before = before if isinstance(before, dict) else {}
        after = after if isinstance(after, dict) else {}
        for key in list(dict.fromkeys([*before, *after])):
            rows.append((str(key), before.get(key), after.get(key)))
    for key, value in details.items():
        if key not in ("before", "after"):
            rows.append((str(key), None, value))
    return rows


@bp.get("/audit")
@login_required
def audit() -> ResponseReturnValue:
    """The log, newest first, filtered by user, unit, kind and dates."""
    scope.require(current_user, ACTION)
    values, filters, errors = _filters()
    # The log grows without end: it is not counted, only read a page (and one row) at a time.
    result: Page[Any] = Page([], 1, 1, None, PAGE_SIZE)
    if not errors:
        query, problems = events_query(current_user, filters)
        if problems.get("unit"):
            errors["unit"] = [_unit_problem()]
        result = paginate(query, page_arg(), PAGE_SIZE, count=False)
    return render_page(
        "admin/audit.html",
        "admin/_audit.html",
        422 if errors else 200,
        result=result,
        values=values,
        errors=errors,
        kinds=list(AUDIT_KINDS),
        kind_labels=KIND_LABELS,
        describe=describe_details,
        event_name=event_name,
        field_name=field_name,
        readable=readable,
        query_args={key: value for key, value in values.items() if value},
    )


def _unit_problem() -> str:
    return _("No unit of your area has this code.")


@bp.get("/audit.<any(csv, xlsx):fmt>")
@login_required
def audit_export(fmt: str) -> ResponseReturnValue:
    """The filtered log as XLSX or CSV, newest first, in the reader's language."""
    scope.require(current_user, ACTION)
    values, filters, errors = _filters()
    if errors:
        return audit()
    query, _problems = events_query(current_user, filters)
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "UTC")
    # The file speaks the reader's language (coso.spreadsheets writes Vietnamese by
    # default), so each row's words are made under the reader's locale.
    locale = str(get_locale() or "vi")

    def rows() -> Any:
        for event, actor, unit in db.session.execute(query.limit(MAX_EXPORT)):
            with force_locale(locale):
                row = [
                    event.at.astimezone(zone).replace(tzinfo=None, microsecond=0),
                    actor.username if actor else "",
                    event_name(event.action),
                    event.action,
                    event.object_type or "",
                    event.object_id or "",
                    unit.code if unit else "",
                    event.remote_addr or "",
                    details_text(describe_details(event.details or {})),
                ]
            yield row  # outside the block: the locale is never left forced across a yield

    header = (
        pgettext("audit", "Time"),
        pgettext("audit", "User"),
        pgettext("audit", "Event"),
        pgettext("audit", "Event code"),
        pgettext("audit", "Object"),
        pgettext("audit", "Object id"),
        pgettext("audit", "Unit"),
        pgettext("audit", "Address"),
        pgettext("audit", "Details"),
    )
    columns = listed(header, {header[0]: "datetime", header[-1]: "long"})
    name = file_name("audit", current_user.unit.code, clock.today().isoformat())
    heading = Heading(_("Audit log"), current_user.unit.name, filters_in_words(values))
    return response(fmt, columns, rows(), name, "audit", heading)
