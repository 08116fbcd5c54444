"""Writes: keep an uploaded photo once, whatever order and however often it arrives."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from coso.extensions import db
from coso.models import Photo, User
from coso.models.types import utcnow
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


def purge_originals(older_than_days: int, now: datetime | None = None, batch: int = 500) -> int:
    """The retention setting: remove the originals of photos uploaded more than
    ``older_than_days`` ago, keeping their thumbnails and rows. Returns how many photos lost
    their original. A file shared with a newer photo (the same bytes uploaded again) stays."""
    if older_than_days < 1:
        raise ValueError("older_than_days must be at least 1")
    now = now or utcnow()
    cutoff = now - timedelta(days=older_than_days)
    files = storage.storage()
    purged = 0
    while True:
        photos = db.session.scalars(
            sa.select(Photo)
            .where(Photo.uploaded_at < cutoff, Photo.original_purged_at.is_(None))
            .order_by(Photo.id)
            .limit(batch)
        ).all()
        if not photos:
            return purged
        hashes = {photo.sha256 for photo in photos}
        kept = set(
            db.session.scalars(
                sa.select(Photo.sha256).where(
                    Photo.sha256.in_(hashes),
                    Photo.uploaded_at >= cutoff,
                    Photo.original_purged_at.is_(None),
                )
            )
        )
        for photo in photos:
            photo.original_purged_at = now
        db.session.commit()  # rows first: a crash here leaves a file nobody serves, never a
        for sha256 in hashes - kept:  # row pointing at a missing file
            files.delete(storage.original_key(sha256))
        purged += len(photos)
