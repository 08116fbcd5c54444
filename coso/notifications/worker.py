"""The worker: scan for time-based events, deliver the outbox, send yesterday's digests.

``flask --app app notifications run`` loops (``--once`` for cron). Each notification is
delivered in a transaction of its own that holds its row: on PostgreSQL with
``SELECT … FOR UPDATE SKIP LOCKED``, so several workers share the queue and never take
the same row; on SQLite (one worker) the clause is left out. Each channel's delivery is
recorded once (unique per notification and channel): a retry — after a failed try, or a
worker that died mid-delivery — asks only the channels that have not delivered yet.
A failed try waits ``rules.backoff(attempts)`` before the next; after
``rules.MAX_ATTEMPTS`` the row is given up (``dead``) and its error kept.

An email handed to the SMTP server just before a worker is killed is sent again by the
next worker (the commit never happened): at-least-once, as SMTP allows; the retry keeps
the same Message-ID so mail readers show it once.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from coso import clock
from coso.extensions import db
from coso.models import Notification, NotificationDelivery, NotificationDigest, User
from coso.notifications import queries, rules, service
from coso.notifications.channels import Channel, DeliveryError, channels

log = logging.getLogger(__name__)


@dataclass
class Stats:
    """What one pass did (printed by the command, read by the tests)."""

    scanned: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    digests: int = 0
    errors: list[str] = field(default_factory=list)


def now() -> datetime:
    """The worker's clock: the real time, on the pinned day when ``COSO_TODAY`` is set."""
    return clock.now()


#: The long-running worker scans for time-based events this often (they are whole days:
#: due in 3 days, overdue, unacknowledged for N days, tomorrow's visit), not on every pass.
SCAN_EVERY = 600.0


def run_once(limit: int = 500, stop: threading.Event | None = None, *, scan: bool = True) -> Stats:
    """One pass: scan (unless told not to), deliver up to ``limit`` due notifications, send
    the digests due. A ``stop`` set meanwhile (SIGTERM) ends the pass after the notification
    in hand."""
    stats = Stats()
    at = now()
    if scan:
        stats.scanned = service.scan(at.date(), at)
        db.session.commit()
    all_channels = channels()
    for _ in range(limit):
        if stop is not None and stop.is_set():
            return stats
        outcome = deliver_next(all_channels, at)
        if outcome is None:
            break
        if outcome == rules.DONE:
            stats.delivered += 1
        elif outcome == rules.DEAD:
            stats.dead += 1
        else:
            stats.retried += 1
    stats.digests = send_digests(at.date() - timedelta(days=1), all_channels)
    return stats


def _claim(at: datetime) -> Notification | None:
    return db.session.scalar(
        sa.select(Notification)
        .where(Notification.state == rules.PENDING, Notification.next_attempt_at <= at)
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )


def _record(notification_id: int, channel: str, status: str, at: datetime) -> None:
    dialect = db.session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(
        NotificationDelivery.__table__
    )
    db.session.execute(
        insert.on_conflict_do_nothing(index_elements=["notification_id", "channel"]),
        {"notification_id": notification_id, "channel": channel, "status": status, "at": at},
    )


def deliver_next(all_channels: list[Channel], at: datetime) -> str | None:
    """Claim one due notification and deliver it by every channel that has not yet; commit.
    Returns its new state (None when nothing was due)."""
    notification = _claim(at)
    if notification is None:
        db.session.rollback()
        return None
    user = db.session.get(User, notification.user_id)
    done = set(
        db.session.scalars(
            sa.select(NotificationDelivery.channel).where(
                NotificationDelivery.notification_id == notification.id
            )
        )
    )
    mode = queries.modes(notification.user_id).get(notification.kind, rules.DEFAULT_MODE)
    error: str | None = None
    for channel in all_channels:
        if channel.name in done:
            continue
        address = channel.address(user) if user is not None and user.active else None
        if not channel.available() or address is None:
            _record(notification.id, channel.name, rules.SKIPPED, at)
            continue
        chosen = mode if channel.preferences else rules.IMMEDIATE
        if chosen == rules.OFF:
            _record(notification.id, channel.name, rules.SKIPPED, at)
        elif chosen == rules.DIGEST:
            _record(notification.id, channel.name, rules.QUEUED, at)
        else:
            try:
                channel.send(notification, user, address)  # type: ignore[arg-type]
            except DeliveryError as exc:
                error = f"{channel.name}: {exc}"[:500]
                continue
            except Exception as exc:  # a fault of ours: retried later like any other
                log.exception("notification %s by %s", notification.id, channel.name)
                error = f"{channel.name}: {type(exc).__name__}"[:500]
                continue
            _record(notification.id, channel.name, rules.SENT, at)
    if error is None:
        notification.state = rules.DONE
        notification.done_at = at
        notification.last_error = None
    else:
        notification.attempts += 1
        notification.last_error = error
        notification.next_attempt_at = at + rules.backoff(notification.attempts)
        if rules.gives_up(notification.attempts):
            notification.state = rules.DEAD
        log.warning("notification %s: %s", notification.id, error)
    state = notification.state
    db.session.commit()
    return state


def send_digests(day: date, all_channels: list[Channel]) -> int:
    """Each user's digest of ``day`` by each channel: the notices of that day (and any earlier
    still waiting) the user chose to receive daily. One mail per user and day, whatever the
    number of workers (the digest's primary key decides, inserted before sending)."""
    end = rules.day_bounds(day)[1]
    sent = 0
    for channel in all_channels:
        if not channel.preferences or not channel.available():
            continue
        waiting = db.session.execute(
            sa.select(Notification.user_id)
            .join(NotificationDelivery, NotificationDelivery.notification_id == Notification.id)
            .where(
                NotificationDelivery.channel == channel.name,
                NotificationDelivery.status == rules.QUEUED,
                Notification.created_at < end,
            )
            .distinct()
        ).scalars()
        user_ids = sorted(set(waiting))
        db.session.rollback()
        for user_id in user_ids:
            sent += _send_digest(channel, user_id, day, end)
    return sent


def _send_digest(channel: Channel, user_id: int, day: date, end: datetime) -> int:
    dialect = db.session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(
        NotificationDigest.__table__
    )
    claimed = db.session.execute(
        insert.on_conflict_do_nothing(index_elements=["user_id", "day"]).returning(
            NotificationDigest.__table__.c.user_id
        ),
        {"user_id": user_id, "day": day, "sent_at": datetime.now(UTC), "count": 0},
    ).first()
    if claimed is None:  # sent already (or being sent by another worker)
        db.session.rollback()
        return 0
    rows = db.session.execute(
        sa.select(Notification, NotificationDelivery)
        .join(NotificationDelivery, NotificationDelivery.notification_id == Notification.id)
        .where(
            Notification.user_id == user_id,
            NotificationDelivery.channel == channel.name,
            NotificationDelivery.status == rules.QUEUED,
            Notification.created_at < end,
        )
        .order_by(Notification.created_at, Notification.id)
    ).all()
    user = db.session.get(User, user_id)
    address = channel.address(user) if user is not None and user.active else None
    if not rows or address is None:
        for _notification, delivery in rows:
            delivery.status = rules.SKIPPED
        db.session.commit()
        return 0
    try:
        channel.send_digest(user, address, [n for n, _d in rows], day)  # type: ignore[arg-type]
    except DeliveryError as exc:
        log.warning("digest of user %s for %s: %s", user_id, day, exc)
        db.session.rollback()  # the digest row goes too: the next pass tries again
        return 0
    for _notification, delivery in rows:
        delivery.status = rules.SENT
    db.session.execute(
        sa.update(NotificationDigest)
        .where(NotificationDigest.user_id == user_id, NotificationDigest.day == day)
        .values(count=len(rows))
    )
    db.session.commit()
    return 1


def run_forever(interval: float, limit: int, stop: threading.Event | None = None) -> None:
    """Loop until SIGTERM/SIGINT (or ``stop``): a pass, then a pause of ``interval`` seconds."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    app: Any = current_app._get_current_object()  # type: ignore[attr-defined]
    scanned_at = -SCAN_EVERY
    while not stop.is_set():
        try:
            scan = time.monotonic() - scanned_at >= SCAN_EVERY
            with app.test_request_context(base_url=app.config["COSO_BASE_URL"]):
                stats = run_once(limit, stop, scan=scan)
                db.session.remove()
            if scan:
                scanned_at = time.monotonic()
            if stats.delivered or stats.retried or stats.digests or stats.dead:
                log.info("notifications: %s", stats)
        except Exception:  # a database that went away: log, wait, try again
            log.exception("notifications pass failed")
            with app.app_context():
                db.session.remove()
        stop.wait(interval)
