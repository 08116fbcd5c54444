"""Reading notifications: recipients of an event, a user's notices, unread counts, choices."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from coso.extensions import among, db
from coso.models import (
    Notification,
    NotificationContact,
    NotificationDelivery,
    NotificationPreference,
    Unit,
    User,
)
from coso.notifications import rules
from coso.users.rules import SECRETARY
from coso.web import Page, paginate

#: The in-app channel's name (coso.notifications.channels.InApp): a notice shows in the
#: centre once that channel has delivered it.
IN_APP = "in_app"


def branch_secretaries(
    branch_ids: Iterable[int], *, communes: bool = True
) -> dict[int, tuple[str, list[int]]]:
    """For each branch: its name and the active secretaries of it (and, with ``communes``,
    of its parent unit — the commune's secretary), in id order. Two queries for any number."""
    branch_ids = set(branch_ids)
    if not branch_ids:
        return {}
    branches = db.session.execute(
        sa.select(Unit.id, Unit.name, Unit.parent_id).where(among(Unit.id, branch_ids))
    ).all()
    units = {b.id for b in branches} | (
        {b.parent_id for b in branches if b.parent_id} if communes else set()
    )
    people: dict[int, list[int]] = {}
    for user in db.session.scalars(
        sa.select(User)
        .where(among(User.unit_id, units), User.active.is_(True), User.roles.contains(SECRETARY))
        .order_by(User.id)
    ):
        if user.has_role(SECRETARY):
            people.setdefault(user.unit_id, []).append(user.id)
    result: dict[int, tuple[str, list[int]]] = {}
    for branch in branches:
        ids = list(people.get(branch.id, []))
        if communes and branch.parent_id:
            ids += [uid for uid in people.get(branch.parent_id, []) if uid not in ids]
        result[branch.id] = (branch.name, ids)
    return result


def _shown(user_id: int) -> sa.ColumnElement[bool]:
    # EXISTS per row (the unique index on notification and channel answers it), not IN over
    # every user's in-app deliveries: the bell asks on every page.
    delivered = sa.exists().where(
        NotificationDelivery.notification_id == Notification.id,
        NotificationDelivery.channel == IN_APP,
        NotificationDelivery.status == rules.SENT,
    )
    return sa.and_(Notification.user_id == user_id, delivered)


def unread_count(user_id: int) -> int:
    """The bell's number: notices delivered in-app and not read."""
    return int(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Notification)
            .where(_shown(user_id), Notification.read_at.is_(None))
        )
        or 0
    )


def notices(user_id: int, page: int, *, unread_only: bool = False) -> Page[Notification]:
    """A user's notices, newest first."""
    conditions = [_shown(user_id)]
    if unread_only:
        conditions.append(Notification.read_at.is_(None))
    query = sa.select(Notification).where(*conditions).order_by(Notification.id.desc())
    return paginate(query, page, 25, scalars=True)


def modes(user_id: int) -> dict[str, str]:
    """The user's choice for every kind (the default where none was made)."""
    stored = dict(
        db.session.execute(
            sa.select(NotificationPreference.kind, NotificationPreference.mode).where(
                NotificationPreference.user_id == user_id
            )
        ).all()
    )
    return {kind: stored.get(kind, rules.DEFAULT_MODE) for kind in rules.KINDS}


def email_of(user_id: int) -> str | None:
    contact = db.session.get(NotificationContact, user_id)
    return contact.email if contact else None
