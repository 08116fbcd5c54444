"""Writing monthly guidance: save (create or update), copy last month, delete.

Once an evaluation used a month's guidance its topics and month are fixed,
since evaluations name the topics they covered by code. Each function flushes;
the caller commits. Every change goes to the audit log with before/after.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from coso import audit
from coso.admin.common import changes
from coso.extensions import db
from coso.guidance.queries import exists, in_use
from coso.guidance.rules import previous_period, snapshot
from coso.models import Guidance, GuidanceTopic, Unit, User


class GuidanceProblem(Exception):
    """A guidance action that cannot be done, with the reason in words."""


def save(guidance: Guidance | None, unit: Unit, data: dict[str, Any], user: User) -> Guidance:
    """Create or update a month's guidance from validated data (caller commits).

    :raise GuidanceProblem: topics of a guidance already used by evaluations would change.
    """
    topics = [(topic["code"], topic["title"]) for topic in data["topics"]]
    if guidance is not None and in_use(guidance):
        old = [(topic.code, topic.title) for topic in guidance.topics]
        if [code for code, _t in old] != [code for code, _t in topics]:
            raise GuidanceProblem(
                _("Evaluations already used this guidance: its topics cannot be added or removed.")
            )
        if data["period"] != guidance.period:
            raise GuidanceProblem(
                _("Evaluations already used this guidance, so its month cannot change.")
            )
    creating = guidance is None
    before = snapshot(guidance) if guidance is not None else {}
    if guidance is None:
        guidance = Guidance(unit_id=unit.id, created_by_id=user.id)
        db.session.add(guidance)
    guidance.period = data["period"]
    guidance.title = " ".join(data["title"].split())
    guidance.material = (data.get("material") or "").strip() or None
    guidance.link = data.get("link") or None
    current = {topic.code: topic for topic in guidance.topics}
    wanted = {code for code, _t in topics}
    for topic in list(guidance.topics):
        if topic.code not in wanted:
            guidance.topics.remove(topic)
    db.session.flush()
    for position, (code, title) in enumerate(topics, start=1):
        if code in current:
            current[code].title = title
            current[code].position = position
        else:
            guidance.topics.append(GuidanceTopic(code=code, title=title, position=position))
    db.session.flush()
    db.session.refresh(guidance)
    after = snapshot(guidance)
    if creating:
        audit.record("guidance.create", obj=guidance, unit_id=unit.id, after=after)
    else:
        audit.record("guidance.update", obj=guidance, unit_id=unit.id, **changes(before, after))
    return guidance


def copy_last_month(unit: Unit, period: str, user: User) -> Guidance:
    """Start ``period`` from the unit's guidance of the month before.

    :raise GuidanceProblem: the month already has guidance, or last month has none.
    """
    if exists(unit, period) is not None:
        raise GuidanceProblem(_("This month already has guidance."))
    source = exists(unit, previous_period(period))
    if source is None:
        raise GuidanceProblem(_("There is no guidance of the month before to copy."))
    data = snapshot(source)
    data["period"] = period
    data["topics"] = [{"code": code, "title": title} for code, title in data["topics"]]
    guidance = save(None, unit, data, user)
    audit.record("guidance.copy", obj=guidance, unit_id=unit.id, source=source.id, period=period)
    return guidance


def delete(guidance: Guidance) -> None:
    """Delete guidance that no evaluation has used.

    :raise GuidanceProblem: an evaluation used it.
    """
    if in_use(guidance):
        raise GuidanceProblem(_("Evaluations used this guidance; it cannot be deleted."))
    audit.record(
        "guidance.delete", obj=guidance, unit_id=guidance.unit_id, before=snapshot(guidance)
    )
    db.session.delete(guidance)
