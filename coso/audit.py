"""Recording audit events in the caller's transaction, and what changed between two states.

The demo seed leaves an event too (``DEMO_SEED``): it is how the app knows its data is a
demo, and as of which day (``demo_as_of``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import has_request_context, request
from flask_login import current_user

from coso.extensions import db
from coso.models import AuditEvent, User


def record(
    action: str,
    *,
    obj: Any = None,
    unit_id: int | None = None,
    user: User | None = None,
    **details: Any,
) -> AuditEvent:
    """Add an audit event to the session; it commits with the change it describes.

    :param action: a short verb phrase, e.g. ``login``, ``evaluation.create``.
    :param obj: the model instance acted on (its class name and id are kept).
    """
    if user is None and has_request_context() and current_user.is_authenticated:
        user = current_user._get_current_object()
    event = AuditEvent(
        action=action,
        user_id=user.id if user else None,
        object_type=type(obj).__name__ if obj is not None else None,
        object_id=str(getattr(obj, "id", "")) if obj is not None else None,
        unit_id=unit_id,
        remote_addr=request.remote_addr if has_request_context() else None,
        details=details,
    )
    db.session.add(event)
    return event


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Only what changed, as ``{"before": {...}, "after": {...}}`` (the details of an update)."""
    keys = [key for key in after if before.get(key) != after.get(key)]
    keys += [key for key in before if key not in after]
    return {
        "before": {key: before.get(key) for key in keys},
        "after": {key: after.get(key) for key in keys},
    }


#: The event ``seed-demo`` records; its ``as_of`` detail is the demo's "today".
DEMO_SEED = "demo.seed"


def demo_as_of() -> date | None:
    """The day the demo data was made as of, or None when the database holds no demo.

    One indexed look-up (action, at). A database that cannot answer (a page shown for
    an error) is taken as no demo rather than a second error.
    """
    try:
        details = db.session.scalar(
            sa.select(AuditEvent.details)
            .where(AuditEvent.action == DEMO_SEED)
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            .limit(1)
        )
    except sa.exc.SQLAlchemyError:
        return None
    try:
        return date.fromisoformat(str((details or {})["as_of"]))
    except (KeyError, TypeError, ValueError):
        return None
