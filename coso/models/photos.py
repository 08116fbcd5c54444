"""Photo evidence (issue 20): a photo taken on the phone for an evaluation or one of its items.

The bytes live outside the database (coso/photos/storage.py); a row holds what is known of
them. A photo may arrive before its evaluation: it is linked by the evaluation's uuid.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from coso.extensions import db
from coso.models.types import UTCDateTime, utcnow

WHOLE = ""  # the item code of a photo of the evaluation as a whole


class Photo(db.Model):
    """One stored photo: unique per (evaluation uuid, item, content hash)."""

    __table_args__ = (sa.UniqueConstraint("evaluation_uuid", "item_code", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_uuid: Mapped[str] = mapped_column(sa.String(36), index=True)
    # "" for the evaluation as a whole: NULLs are never equal in a unique constraint.
    item_code: Mapped[str] = mapped_column(sa.String(20), default=WHOLE)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    content_type: Mapped[str] = mapped_column(sa.String(20))
    size: Mapped[int] = mapped_column(sa.Integer)
    width: Mapped[int] = mapped_column(sa.Integer)
    height: Mapped[int] = mapped_column(sa.Integer)
    uploaded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when the retention setting removed the original; the thumbnail stays (issue 20).
    original_purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def item(self) -> str | None:
        return self.item_code or None
