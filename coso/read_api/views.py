"""The read API's endpoints: GET only, JSON only, a token or the session, the caller's area."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import Schema
from sqlalchemy.exc import SQLAlchemyError

from coso import scope
from coso.evaluations.queries import evaluation_or_403
from coso.extensions import db, limiter, login_manager
from coso.feedback.rules import ACTION_STATUSES
from coso.judging.flags import STATES
from coso.models import AccessToken, Unit, User
from coso.models.types import utcnow
from coso.read_api import params, queries, schema
from coso.tokens import queries as tokens
from coso.tokens import rules as token_rules

bp = Blueprint("read_api", __name__, url_prefix="/api/v1")

UNIT_KINDS = ("central", "province", "district", "commune", "branch")


def _caller_key() -> str:
    """Whom the rate limit counts: the presented token, else the signed-in user, else the address.

    The limiter runs before the token is checked, so a token is counted by its hash.
    """
    raw = token_rules.bearer(request.headers.get("Authorization"))
    if raw:
        return "token:" + hashlib.sha256(raw.encode("utf-8", "replace")).hexdigest()[:24]
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return "addr:" + (request.remote_addr or "?")


bp_limit = limiter.limit(lambda: current_app.config["READ_API_LIMIT"], key_func=_caller_key)


def _invalid_token() -> ResponseReturnValue:
    response = jsonify(
        error="invalid_token",
        message=_("This access token is not valid: it may have expired or been revoked."),
    )
    response.status_code = 401
    response.headers["WWW-Authenticate"] = 'Bearer realm="coso", error="invalid_token"'
    return response


@bp.before_request
def authenticate() -> ResponseReturnValue | None:
    """A bearer token signs the request in as its user (this request only); else the session."""
    raw = token_rules.bearer(request.headers.get("Authorization"))
    if raw is not None:
        token = tokens.presented(raw)
        now = utcnow()
        if (
            token is None
            or not token_rules.usable(token.expires_at, token.revoked_at, now)
            or not token.user.active
        ):
            return _invalid_token()
        g._login_user = token.user  # Flask-Login's current user, for this request alone
        g.api_token_id = token.id
        if token_rules.touch_due(token.last_used_at, now):
            g.api_token_touch = token.id
        current_app.logger.info(
            "read API %s by token %s of user %s from %s",
            request.full_path,
            token.id,
            token.user_id,
            request.remote_addr,
        )
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


def note_token_use(response: Response) -> Response:
    """Keep when and from where a token was last used, in a short transaction of its own
    after the read (a busy database skips it: the log line still attributes the use)."""
    token_id = g.pop("api_token_touch", None)
    if token_id is None or response.status_code >= 500:
        return response
    session = db.session()
    try:
        session.rollback()
        session.execute(
            sa.update(AccessToken)
            .where(AccessToken.id == token_id)
            .values(last_used_at=utcnow(), last_used_from=(request.remote_addr or "")[:64] or None),
            execution_options={"synchronize_session": False},
        )
        session.commit()
    except SQLAlchemyError:
        session.rollback()
    return response


def _bad(err: params.BadParameter) -> ResponseReturnValue:
    return jsonify(error="bad_request", message=str(err), parameter=err.name), 400


def _root(user: User) -> Unit | ResponseReturnValue:
    """``?unit=``: a unit in the caller's area (their home unit by default)."""
    unit_id = params.whole(request.args, "unit")
    if unit_id is None:
        return user.unit
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        return jsonify(error="not_found", message=_("This unit does not exist.")), 404
    if not scope.in_scope(user, unit):
        return jsonify(error="forbidden", message=_("This unit is outside your area.")), 403
    return unit


def _listing(row: type[Schema], read: Callable[[User, Unit], queries.Page]) -> ResponseReturnValue:
    user = current_user._get_current_object()
    try:
        root = _root(user)
        if not isinstance(root, Unit):
            return root
        items, next_cursor = read(user, root)
    except params.BadParameter as err:
        return _bad(err)
    response = jsonify(items=row().dump(items, many=True), next_cursor=next_cursor)
    response.cache_control.private = True
    response.cache_control.no_store = True
    return response


@bp.get("/units")
@bp_limit
def units() -> ResponseReturnValue:
    """The units of the caller's area (or of ``?unit=``), in id order."""
    args = request.args
    return _listing(
        schema.UnitRow,
        lambda user, root: queries.units(
            root,
            params.choice(args, "kind", UNIT_KINDS),
            params.cursor_id(args),
            params.limit(args),
        ),
    )


@bp.get("/branches")
@bp_limit
def branches() -> ResponseReturnValue:
    """Branches with their state as the province sees it today."""
    args = request.args
    return _listing(
        schema.BranchRow,
        lambda user, root: queries.branches(
            root, params.choice(args, "state", STATES), params.cursor_id(args), params.limit(args)
        ),
    )


@bp.get("/evaluations")
@bp_limit
def evaluations() -> ResponseReturnValue:
    """Evaluations of meetings in ``from``..``to`` (corrected ones too, marked ``superseded``)."""
    args = request.args
    return _listing(
        schema.EvaluationRow,
        lambda user, root: queries.evaluations(
            root, params.period(args), params.cursor_id(args), params.limit(args)
        ),
    )


@bp.get("/evaluations/<int:evaluation_id>")
@bp_limit
def evaluation(evaluation_id: int) -> ResponseReturnValue:
    """One evaluation and every answer."""
    evaluation_or_403(current_user._get_current_object(), evaluation_id)
    row = queries.evaluation(evaluation_id)
    response = jsonify(schema.EvaluationDetail().dump(row))
    response.cache_control.private = True
    response.cache_control.no_store = True
    return response


def _answer_key(args: Any) -> tuple[int, str] | None:
    key = params.cursor(args, 2)
    if key is None:
        return None
    first, code = key
    if not (first.isascii() and first.isdecimal() and len(first) <= 10) or len(code) > 10:
        raise params.BadParameter("cursor", _("cursor is not one this API gave out."))
    return int(first), code


@bp.get("/answers")
@bp_limit
def answers() -> ResponseReturnValue:
    """Every answer of the evaluations of meetings in ``from``..``to``, one row per item."""
    args = request.args
    return _listing(
        schema.AnswerRow,
        lambda user, root: queries.answers(
            root, params.period(args), _answer_key(args), params.limit(args)
        ),
    )


@bp.get("/actions")
@bp_limit
def actions() -> ResponseReturnValue:
    """Corrective actions created in ``from``..``to``."""
    args = request.args
    return _listing(
        schema.ActionRow,
        lambda user, root: queries.actions(
            root,
            params.period(args),
            params.choice(args, "status", ACTION_STATUSES),
            params.cursor_id(args),
            params.limit(args),
        ),
    )


@bp.get("/visits")
@bp_limit
def visits() -> ResponseReturnValue:
    """Visits that started in ``from``..``to``: the province's and planners' whole area, anyone
    else's own."""
    args = request.args
    return _listing(
        schema.VisitRow,
        lambda user, root: queries.visits(
            user, root, params.period(args), params.cursor_id(args), params.limit(args)
        ),
    )
