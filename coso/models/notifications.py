"""Notifications: the outbox of events per recipient, their deliveries per channel, the
preferences of each user per kind, and the daily digests sent.

A :class:`Notification` row is the outbox: written in the transaction of the change that
caused it (or by the worker's scan for time-based events), unique per recipient and event
key so that nothing is said twice. The worker delivers it through each channel and records
a :class:`NotificationDelivery` per channel, unique too: a channel that has delivered is
never asked again, whatever retries follow on another channel.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coso.extensions import db
from coso.models.types import JSONType, UTCDateTime, utcnow
from coso.models.users import User


class Notification(db.Model):
    """One event for one recipient, waiting for (or done with) delivery."""

    __table_args__ = (
        sa.UniqueConstraint("user_id", "key", name="uq_notification_user_key"),
        sa.Index("ix_notification_due", "state", "next_attempt_at"),
        sa.Index("ix_notification_user_created", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    kind: Mapped[str] = mapped_column(sa.String(30))
    #: The event, unique per recipient: ``evaluation:42``, ``action-due:7:2026-12-09``.
    key: Mapped[str] = mapped_column(sa.String(120))
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unit.id"))
    #: What the notice says and where it leads: names and ids, never rendered text
    #: (each channel says it in the recipient's language when it delivers).
    params: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: pending → done (every channel delivered or chose not to) or dead (gave up).
    state: Mapped[str] = mapped_column(sa.String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the recipient read it in the notification centre.
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class NotificationDelivery(db.Model):
    """What one channel did with one notification: sent, queued for the digest, or off."""

    __table_args__ = (
        sa.UniqueConstraint("notification_id", "channel", name="uq_notification_delivery"),
        sa.Index("ix_notification_delivery_digest", "channel", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(
        sa.ForeignKey("notification.id", ondelete="CASCADE")
    )
    channel: Mapped[str] = mapped_column(sa.String(20))
    #: sent, digest (waiting for the day's mail), off (the user's choice or no channel).
    status: Mapped[str] = mapped_column(sa.String(10))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    notification: Mapped[Notification] = relationship()


class NotificationPreference(db.Model):
    """A user's choice for one kind by email: immediate, digest or off (default: immediate)."""

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(30), primary_key=True)
    mode: Mapped[str] = mapped_column(sa.String(10))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class NotificationDigest(db.Model):
    """A day's digest mail to a user: sent at most once (the primary key decides)."""

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    count: Mapped[int] = mapped_column(default=0)


class NotificationContact(db.Model):
    """Where a user's mail goes (set on the preferences page; kept apart from the account)."""

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
