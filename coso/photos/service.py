"""Writes: keep an uploaded photo once, whatever order and however often it arrives."""

from __future__ import annotations

import hashlib

from sqlalchemy.exc import IntegrityError

from coso.extensions import db
from coso.models import Photo, User
from coso.photos import queries, rules, storage

CREATED = "created"
DUPLICATE = "duplicate"


def store(
    evaluation_uuid: str, item_code: str, sha256: str, body: bytes, user: User
) -> tuple[str, Photo]:
    """Check ``body`` and keep it; the same (uuid, item, hash) again is answered by the first.

    Raises rules.Refused before anything is written.
    """
    existing = queries.find(evaluation_uuid, item_code, sha256)
    if existing is not None:
        return DUPLICATE, existing
    if hashlib.sha256(body).hexdigest() != sha256:
        raise rules.Refused("hash_mismatch")
    checked = rules.check(body)
    files = storage.storage()
    # Bytes first, named by their hash: a row never points at a missing file, and a file
    # without a row (a lost race, a crash) is the same bytes the next upload writes.
    files.put(storage.original_key(sha256), body)
    files.put(storage.thumbnail_key(sha256), checked.thumbnail)
    photo = Photo(
        evaluation_uuid=evaluation_uuid,
        item_code=item_code,
        sha256=sha256,
        content_type=checked.content_type,
        size=len(body),
        width=checked.width,
        height=checked.height,
        uploaded_by_id=user.id,
    )
    db.session.add(photo)
    try:
        db.session.commit()
    except IntegrityError:  # the same photo arrived twice at once
        db.session.rollback()
        again = queries.find(evaluation_uuid, item_code, sha256)
        if again is None:
            raise
        return DUPLICATE, again
    return CREATED, photo
