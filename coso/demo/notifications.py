"""A few notices for the demo users, so the bell has something to show on the first visit.

The evaluations' service writes an outbox row for every evaluation the seed stores (months
of history): none of those is news, so they go, and the demo users get a handful of recent
events instead — delivered in-app as the worker would have, the oldest one already read.
Email stays off for them: the demo has no addresses.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from coso.demo.world import Ctx
from coso.extensions import db
from coso.models import Evaluation, Feedback, Notification, NotificationDelivery
from coso.notifications import queries, rules, service

#: The demo users who get notices, and how many of their latest events each.
PER_USER = 4


def build_notifications(ctx: Ctx) -> None:
    if ctx.parent is None or not ctx.user_prefix:  # once: a national demo has more provinces
        db.session.execute(sa.delete(NotificationDelivery))
        db.session.execute(sa.delete(Notification))
    secretary, cadre = ctx.users["secretary"], ctx.users["cadre"]
    latest = db.session.scalars(
        sa.select(Evaluation)
        .where(Evaluation.branch_id == secretary.unit_id)
        .order_by(Evaluation.received_at.desc())
        .limit(PER_USER)
    ).all()
    for evaluation in latest:
        row = {
            "id": evaluation.id,
            "branch_id": evaluation.branch_id,
            "cadre_id": evaluation.cadre_id,
            "compliant": evaluation.compliant,
        }
        service.evaluations_stored([row], evaluation.received_at)
    replies = db.session.scalars(
        sa.select(Feedback)
        .join(Evaluation, Evaluation.id == Feedback.evaluation_id)
        .where(Evaluation.cadre_id == cadre.id, Feedback.reply.is_not(None))
        .order_by(Feedback.replied_at.desc())
        .limit(PER_USER)
    ).all()
    for feedback in replies:
        service.reply_changed(feedback, feedback.evaluation)
    # Time-based events of the demo's day (overdue actions, tomorrow's visits...) for them.
    mine = {ctx.users[key].id for key in ("secretary", "commune", "cadre") if key in ctx.users}
    events = [e for e in service.time_events(ctx.today) if e["user_id"] in mine]
    service.enqueue(events[: PER_USER * 3], ctx.now)
    # Delivered in-app now, as the worker would; the oldest of each user's already read.
    people = [u.id for u in ctx.users.values()]
    rows = db.session.scalars(
        sa.select(Notification)
        .where(Notification.user_id.in_(people), Notification.state != rules.DONE)
        .order_by(Notification.id)
    ).all()
    seen: set[int] = set()
    for notification in rows:
        notification.state = rules.DONE
        notification.done_at = ctx.now
        if notification.created_at > ctx.now:
            notification.created_at = ctx.now
        db.session.add(
            NotificationDelivery(
                notification_id=notification.id,
                channel=queries.IN_APP,
                status=rules.SENT,
                at=ctx.now,
            )
        )
        if notification.user_id not in seen:
            seen.add(notification.user_id)
            notification.read_at = ctx.now - timedelta(hours=1)
    db.session.flush()
    ctx.counts["notifications"] = len(rows)
