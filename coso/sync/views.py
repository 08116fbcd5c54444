"""The JSON API under /api/v1: session, field pack, sync (design.md, "The sync API").

The blueprint keeps the name ``api`` so its endpoints (``api.sync`` ...) read as before.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from coso import metrics, scope
from coso.difficulties import service as difficulty_service
from coso.difficulties.schema import DIFFICULTY
from coso.evaluations import service
from coso.extensions import csrf, db, limiter, login_manager, read_first
from coso.fields import is_storable
from coso.sync import queries
from coso.visits import service as visit_service
from coso.visits.schema import EVALUATION, KINDS, VISIT, VISIT_REPORT
from coso.web import user_now

MAX_BATCH = 100

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.before_request
def authenticate_then_check_csrf() -> ResponseReturnValue | None:
    """Anonymous calls are 401 whatever else is wrong; then POSTs need the CSRF token."""
    if request.endpoint == "api.openapi":
        return None  # the contract is public
    if request.endpoint == "api.sync":
        # The sync reads (session, user, the batch's references) before it writes, and
        # takes SQLite's write lock only for its few statements (service.submit_batch).
        # Signing the user in must not take the lock the way a form's POST does.
        read_first()
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    csrf.protect()
    return None


@bp.get("/session")
def session_info() -> ResponseReturnValue:
    """Who is signed in, and a fresh CSRF token for the outbox's next POST."""
    return jsonify(user=queries.user_dict(current_user), csrf_token=generate_csrf())


@bp.get("/field-pack")
def get_field_pack() -> ResponseReturnValue:
    """What the phone needs offline; an unchanged pack answers 304 to its ETag."""
    body, etag = queries.encode(queries.field_pack(user_now()))
    held = _held(etag)
    if held is not None:  # the tag the phone holds, as it holds it
        response = current_app.response_class(status=304)
        response.set_etag(held)
    else:
        response = current_app.response_class(queries.stamped(body), mimetype="application/json")
        response.set_etag(etag)
    response.cache_control.private = True
    response.cache_control.no_cache = True
    return response


def _held(etag: str) -> str | None:
    """The tag of the phone's If-None-Match that names this pack, or None: as it was sent
    compressed (Flask-Compress makes it ``"<etag>:br"``, ``":gzip"`` …) or plain. Matched
    here, an unchanged pack answers 304 without being compressed again (3 MB for a province)."""
    held = request.if_none_match
    for tag in held.as_set():
        if tag and tag.partition(":")[0] == etag:
            return tag
    return etag if etag in held else None  # "*" (ETags holds no weak tag as a match)


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    """The API contract, generated from the same schemas that validate requests."""
    from coso.sync.docs import build_spec  # apispec loads only when the contract is asked for

    return jsonify(build_spec(current_app.config["MAX_CONTENT_LENGTH"]))


def bad_request(message: str) -> ResponseReturnValue:
    return jsonify(error="bad_request", message=message), 400


def read_json() -> Any:
    """The request body as JSON, or None when it is not JSON at all."""
    try:
        return json.loads(request.get_data(cache=False) or b"null")
    except (ValueError, RecursionError):
        return None


def _user_key() -> str:
    return f"user:{current_user.id}" if current_user.is_authenticated else "anon"


@bp.post("/sync")
@limiter.limit(lambda: current_app.config["SYNC_LIMIT"], key_func=_user_key)
def sync() -> ResponseReturnValue:
    """Store a batch of queued items; one result per item, in order.

    Items are evaluations unless their ``kind`` says ``visit`` or ``visit_report``
    (issue 18, item 5) or ``difficulty`` (issue 19, item 1): a batch an older phone sends,
    evaluations without ``kind``, is answered exactly as before. A secretary who does not
    evaluate may send difficulties alone.
    """
    if not (
        scope.can(current_user, "evaluate")
        or scope.goes_out(current_user)
        or difficulty_service.may_send(current_user)
    ):
        return jsonify(error="forbidden", message=_("Your role may not submit evaluations.")), 403
    body = read_json()
    if not isinstance(body, dict):
        return bad_request(_("The body must be a JSON object."))
    items = body.get("evaluations")
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH:
        return bad_request(_("Send between 1 and %(n)s evaluations.", n=MAX_BATCH))
    device_id = body.get("device_id")
    if device_id is not None and (
        not isinstance(device_id, str) or len(device_id) > 100 or not is_storable(device_id)
    ):
        return bad_request(_("device_id must be a string of at most 100 characters."))
    kinds = [kind_of(item) for item in items]
    if EVALUATION in kinds and not scope.can(current_user, "evaluate"):
        return jsonify(error="forbidden", message=_("Your role may not submit evaluations.")), 403
    if {VISIT, VISIT_REPORT} & set(kinds) and not scope.goes_out(current_user):
        return jsonify(error="forbidden", message=_("Your role may not log visits.")), 403
    if DIFFICULTY in kinds and not difficulty_service.may_send(current_user):
        return jsonify(error="forbidden", message=_("Your role may not raise difficulties.")), 403
    user = user_now()
    answers: list[dict[str, Any] | None] = [None] * len(items)
    evaluations = [i for i, kind in enumerate(kinds) if kind == EVALUATION]
    if evaluations:
        stored = service.submit_batch([items[i] for i in evaluations], user, device_id=device_id)
        # Read the answers before committing: afterwards every evaluation would be expired
        # and reloaded one by one, in a second transaction (on SQLite, a second wait).
        for i, result in zip(evaluations, stored, strict=True):
            answers[i] = result.as_dict()
    others = [(i, items[i]) for i, kind in enumerate(kinds) if kind in (VISIT, VISIT_REPORT)]
    if others:
        for (i, _item), result in zip(
            others, visit_service.submit_items(others, user, service_now()), strict=True
        ):
            answers[i] = result.as_dict()
    raised = [i for i, kind in enumerate(kinds) if kind == DIFFICULTY]
    if raised:
        for i, result in zip(
            raised,
            difficulty_service.submit_items([items[i] for i in raised], user, service_now()),
            strict=True,
        ):
            answers[i] = result.as_dict()
    for i, kind in enumerate(kinds):
        if kind is None:
            raw = items[i].get("uuid") if isinstance(items[i], dict) else None
            answers[i] = service.Result(
                raw.strip().lower()[:36].replace("\x00", "") if isinstance(raw, str) else "",
                service.REJECTED,
                errors={"kind": [_("Unknown kind of item.")]},
            ).as_dict()
    db.session.commit()
    metrics.count_sync(answer["status"] for answer in answers)
    return jsonify(results=answers)


def kind_of(item: Any) -> str | None:
    """An item's kind: ``evaluation`` when it names none (every batch before kinds existed),
    None when it names one this server does not know."""
    if not isinstance(item, dict) or "kind" not in item:
        return EVALUATION
    kind = item["kind"]
    return kind if isinstance(kind, str) and kind in KINDS else None


def service_now() -> datetime:
    """The server's time of receipt (the visits' clock, as the evaluations' own)."""
    return datetime.now(UTC)
