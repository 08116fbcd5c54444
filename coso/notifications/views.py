"""The notification centre (every role), email preferences, and the one-click unsubscribe."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError

from coso.extensions import csrf, db
from coso.fields import plain_errors
from coso.models import User
from coso.notifications import channels, queries, rules, service, words
from coso.notifications.schema import MarkReadSchema, PreferencesSchema
from coso.web import choice_arg, page_arg, render_page, user_now

bp = Blueprint("notifications", __name__, url_prefix="/notifications")
Errors = dict[str, list[str]]


def _list_context(show: str) -> dict[str, Any]:
    result = queries.notices(current_user.id, page_arg(), unread_only=show == "unread")
    return {
        "result": result,
        "show": show,
        "unread": queries.unread_count(current_user.id),
        "message": words.message,
        "link": words.link,
        "kind_label": words.kind_label,
    }


@bp.get("")
@login_required
def index() -> ResponseReturnValue:
    """My notices, newest first; reading the page marks nothing (the buttons POST)."""
    errors: Errors = {}
    show = choice_arg("show", ("all", "unread"), "all", errors)
    return render_page(
        "notifications/index.html",
        "notifications/_list.html",
        422 if errors else 200,
        errors=errors,
        **_list_context(show),
    )


@bp.post("/read")
@login_required
def read() -> ResponseReturnValue:
    """Mark one notice (``id``) or all of mine (``all``) read; only my own, whatever the id."""
    try:
        data = MarkReadSchema().load(request.form.to_dict())
    except ValidationError as exc:
        messages = plain_errors(exc.messages)
        flash(" ".join(m for field in messages.values() for m in field), "error")
        return redirect(url_for("notifications.index")), 303
    if data.get("id") is None and not data.get("all"):
        flash(_("Choose a notice to mark read."), "error")
        return redirect(url_for("notifications.index")), 303
    service.mark_read(user_now(), None if data.get("all") else data["id"])
    db.session.commit()
    show = "unread" if request.form.get("show") == "unread" else "all"
    if request.headers.get("HX-Request") == "true":
        return render_page(
            "notifications/index.html", "notifications/_list.html", **_list_context(show)
        )
    return redirect(url_for("notifications.index", show=show)), 303


@bp.route("/preferences", methods=["GET", "POST"])
@login_required
def preferences() -> ResponseReturnValue:
    """Per kind: at once, in the daily digest, or not by email; and the address to use."""
    errors: Errors = {}
    modes = queries.modes(current_user.id)
    email = queries.email_of(current_user.id) or ""
    status = 200
    if request.method == "POST":
        form = {"email": request.form.get("email", "")}
        form.update({f"mode_{kind}": request.form.get(f"mode_{kind}", "") for kind in rules.KINDS})
        try:
            data = PreferencesSchema().load(form)
        except ValidationError as exc:
            errors = plain_errors(exc.messages)
            modes = {
                kind: rules.clamp_mode(form[f"mode_{kind}"]) or modes[kind] for kind in rules.KINDS
            }
            email, status = form["email"][:254], 422
        else:
            chosen = {kind: data[f"mode_{kind}"] for kind in rules.KINDS}
            service.save_preferences(user_now(), chosen, data["email"])
            db.session.commit()
            flash(_("Your choices are saved."), "success")
            return redirect(url_for("notifications.preferences")), 303
    return render_page(
        "notifications/preferences.html",
        "notifications/_preferences.html",
        status,
        errors=errors,
        modes=modes,
        email=email,
        kinds=rules.KINDS,
        mode_choices=rules.MODES,
        kind_label=words.kind_label,
        mode_label=words.mode_label,
        email_enabled=channels.email_enabled(),
    )


@bp.route("/unsubscribe", methods=["GET", "POST"])
# Mail readers POST the one-click form (RFC 8058) without a session: the token is the proof.
@csrf.exempt
def unsubscribe() -> ResponseReturnValue:
    """Turn one kind off by email from a mail's link, signed in or not: GET asks, POST does.

    The token names one user and the kinds of that mail; it changes nothing else.
    """
    token = request.values.get("token", "")
    found = channels.read_unsubscribe_token(token) if 0 < len(token) <= 500 else None
    user = db.session.get(User, found[0]) if found else None
    kinds = [kind for kind in found[1] if kind in rules.KINDS] if found else []
    if user is None or not kinds:
        return render_page(
            "notifications/unsubscribe.html",
            "notifications/unsubscribe.html",
            400,
            valid=False,
            done=False,
        )
    done = False
    if request.method == "POST":
        for kind in kinds:
            service.unsubscribe(user, kind)
        db.session.commit()
        done = True
    return render_page(
        "notifications/unsubscribe.html",
        "notifications/unsubscribe.html",
        valid=True,
        done=done,
        token=token,
        labels=[words.kind_label(kind) for kind in kinds],
    )


def unread_notices() -> int:
    """The bell's count for the signed-in user (0 for a visitor)."""
    if not current_user.is_authenticated:
        return 0
    return queries.unread_count(current_user.id)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals.update(unread_notices=unread_notices)
