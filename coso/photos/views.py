"""The upload (PUT /api/v1/photos/<uuid>/<sha256>?item=P10) and the reads of a stored photo."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from werkzeug.exceptions import RequestEntityTooLarge

from coso import scope
from coso.difficulties import service as difficulty_service
from coso.extensions import csrf, db, login_manager
from coso.models import Photo
from coso.models.photos import WHOLE
from coso.photos import queries, rules, service, storage
from coso.photos.words import refusal

api = Blueprint("photos_api", __name__, url_prefix="/api/v1/photos")
bp = Blueprint("photos", __name__, url_prefix="/photos")


@api.before_request
def authenticate_then_check_csrf() -> ResponseReturnValue | None:
    """As the sync API: anonymous calls are 401 whatever else is wrong; then the CSRF token."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    request.max_content_length = rules.MAX_BYTES  # a photo, not a sync batch
    try:
        csrf.protect()
    except RequestEntityTooLarge:
        return refused("too_large", 413)
    return None


def refused(code: str, status: int = 400) -> ResponseReturnValue:
    return jsonify(error=code, message=refusal(code)), status


@api.put("/<evaluation_uuid>/<sha256>")
def upload(evaluation_uuid: str, sha256: str) -> ResponseReturnValue:
    """Keep one photo of an evaluation, a visit or a difficulty (or of one item, ``?item=``):
    201 new, 200 already had. Whoever may send one of those through the sync API may send its
    photos; a photo attaches only where its sender is the author (coso/photos/queries.py)."""
    if not (
        scope.can(current_user, "evaluate")
        or scope.goes_out(current_user)
        or difficulty_service.may_send(current_user)
    ):
        return jsonify(error="forbidden", message=refusal("forbidden")), 403
    evaluation_uuid = evaluation_uuid.lower()
    sha256 = sha256.lower()
    item = request.args.get("item", WHOLE)
    if (
        not rules.UUID.match(evaluation_uuid)
        or not rules.SHA256.match(sha256)
        or (item and not rules.ITEM.match(item))
    ):
        return refused("bad_address")
    try:
        body = request.get_data(cache=False)
    except RequestEntityTooLarge:
        return refused("too_large", 413)
    try:
        status, photo = service.store(evaluation_uuid, item, sha256, body, current_user)
    except rules.Refused as exc:
        return refused(exc.code, 413 if exc.code == "too_large" else 400)
    answer = {"status": status, "id": photo.id, "sha256": photo.sha256, "item": photo.item}
    return jsonify(answer), 201 if status == service.CREATED else 200


def _visible(photo_id: int) -> Photo:
    photo = db.session.get(Photo, photo_id)
    if photo is None or not queries.may_see(current_user, photo):
        abort(404)  # a photo outside the area does not exist, as far as its reader knows
    return photo


def _send(data: bytes | None, content_type: str) -> ResponseReturnValue:
    if data is None:
        abort(404)
    response = current_app.response_class(data, mimetype=content_type)
    response.cache_control.private = True
    response.cache_control.max_age = 86400
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = "inline"
    return response


@bp.get("/<int:photo_id>")
@login_required
def original(photo_id: int) -> ResponseReturnValue:
    """The photo as uploaded, with its stored content type; its thumbnail once the retention
    setting removed the original."""
    photo = _visible(photo_id)
    files = storage.storage()
    if photo.original_purged_at is None:
        data = files.get(storage.original_key(photo.sha256))
        if data is not None:
            return _send(data, photo.content_type)
    # Purged — or the same picture uploaded again while a purge removed its file (the new row
    # trusted the file it found): the thumbnail rather than a broken image.
    return _send(files.get(storage.thumbnail_key(photo.sha256)), "image/jpeg")


@bp.get("/<int:photo_id>/thumb")
@login_required
def thumbnail(photo_id: int) -> ResponseReturnValue:
    """The 320 px JPEG thumbnail."""
    photo = _visible(photo_id)
    return _send(storage.storage().get(storage.thumbnail_key(photo.sha256)), "image/jpeg")
