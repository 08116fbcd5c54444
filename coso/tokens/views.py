"""The page /account/tokens: a user's personal access tokens for the read API."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from coso.extensions import db
from coso.models.types import utcnow
from coso.tokens import queries, rules, service
from coso.tokens.schema import load_form

bp = Blueprint("tokens", __name__, url_prefix="/account")


def _page(
    values: dict[str, object],
    errors: dict[str, list[str]],
    status: int = 200,
    secret: str | None = None,
) -> ResponseReturnValue:
    user = current_user._get_current_object()
    return (
        render_template(
            "tokens/index.html",
            tokens=queries.tokens_of(user),
            now=utcnow(),
            usable=rules.usable,
            lifetimes=rules.LIFETIMES,
            values=values,
            errors=errors,
            secret=secret,
        ),
        status,
    )


@bp.get("/tokens")
@login_required
def index() -> ResponseReturnValue:
    """My tokens, and the form for a new one."""
    return _page({"days": str(rules.DEFAULT_LIFETIME)}, {})


@bp.post("/tokens")
@login_required
def create() -> ResponseReturnValue:
    """Make a token and show it, this once."""
    user = current_user._get_current_object()
    values, errors = load_form(request.form)
    now = utcnow()
    if values is not None and queries.live_count(user, now) >= rules.MAX_LIVE:
        errors = {"name": [_("You have %(n)s tokens in use: revoke one first.", n=rules.MAX_LIVE)]}
    if values is None or errors:
        return _page(dict(request.form), errors, 422)
    _token, secret = service.create(user, values["name"], values["days"], now)
    db.session.commit()
    return _page({"days": str(rules.DEFAULT_LIFETIME)}, {}, 201, secret=secret)


@bp.post("/tokens/<int:token_id>/revoke")
@login_required
def revoke(token_id: int) -> ResponseReturnValue:
    """Revoke one of my tokens; another user's is not found."""
    user = current_user._get_current_object()
    token = queries.token_of(user, token_id)
    if token is None:
        abort(404)  # another user's token is no token of this user's: never says whose
    if service.revoke(token, user, utcnow()):
        db.session.commit()
        flash(
            _("The token “%(name)s” was revoked: it opens nothing from now on.", name=token.name),
            "info",
        )
    return redirect(url_for("tokens.index"), 303)
