"""The page /account/sessions: where am I signed in, and end the others (a lost phone)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from coso import audit
from coso.extensions import db
from coso.models.types import utcnow
from coso.sessions import queries, service
from coso.sessions.rules import describe_agent

bp = Blueprint("sessions", __name__, url_prefix="/account")


@bp.get("/sessions")
@login_required
def index() -> ResponseReturnValue:
    """My live sign-ins, this device's marked, newest use first."""
    user = current_user._get_current_object()
    rows = queries.sessions_of(user, utcnow(), service.idle_limit())
    return render_template(
        "sessions/index.html",
        rows=rows,
        current_id=service.current_session_id(),
        describe=describe_agent,
    )


@bp.post("/sessions/end")
@login_required
def end() -> ResponseReturnValue:
    """End one of my sign-ins; ending this device's is signing out."""
    user = current_user._get_current_object()
    raw = request.form.get("session", "").strip()
    # Nine ASCII digits at most: a larger number is no row of ours (and overflows PostgreSQL).
    valid = raw.isascii() and raw.isdecimal() and len(raw) <= 9
    row = queries.session_of(user, int(raw)) if valid else None
    if row is None:
        flash(_("That sign-in was not found; it may have ended already."), "error")
        return redirect(url_for("sessions.index"), 303)
    service.end(row)
    audit.record("login.end", obj=user, unit_id=user.unit_id, session=row.id)
    db.session.commit()
    if row.id == service.current_session_id():
        logout_user()
        flash(_("You have signed out."), "info")
        return redirect(url_for("auth.login"), 303)
    flash(_("The sign-in was ended."), "info")
    return redirect(url_for("sessions.index"), 303)


@bp.post("/sessions/end-others")
@login_required
def end_others() -> ResponseReturnValue:
    """End every sign-in of mine except this device's."""
    user = current_user._get_current_object()
    count = service.end_all(user, keep=service.current_session_id(), reason="end_others")
    db.session.commit()
    flash(_("Signed out on %(count)d other devices.", count=count), "info")
    return redirect(url_for("sessions.index"), 303)
