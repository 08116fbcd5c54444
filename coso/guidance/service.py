"""Writing monthly guidance: save (create or update), copy last month, delete.

Once an evaluation used a month's guidance its topics and month are fixed,
since evaluations name the topics they covered by code. Each function flushes;
the caller commits. Every change goes to the audit log with before/after.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from coso import audit
from coso.audit import changes
from coso.extensions import db
from coso.guidance.queries import exists, in_use
from coso.guidance.rules import frozen_changes, next_free_period, previous_period, snapshot
from coso.models import Guidance, GuidanceTopic, Unit, User


class GuidanceProblem(Exception):
    """A guidance action that cannot be done, with the reason in words.

    ``fields`` names the form fields at fault, so the form can mark them.
    """

    def __init__(self, message: str, fields: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.fields = fields


def save(guidance: Guidance | None, unit: Unit, data: dict[str, Any], user: User) -> Guidance:
    """Create or update a month's guidance from validated data (caller commits).

    Guidance evaluations used is frozen but may grow (``rules.frozen_changes``).

    :raise GuidanceProblem: it would rewrite what a used guidance says.
    """
    topics = [(topic["code"], topic["title"]) for topic in data["topics"]]
    if guidance is not None and in_use(guidance):
        rewritten = frozen_changes(snapshot(guidance), data)
        if rewritten:
            raise GuidanceProblem(
                _(
                    "Evaluations already used this guidance, so what it says is fixed: "
                    "you can only add topics after the existing ones, or a material or "
                    "link it does not have yet. Nothing was saved."
                ),
                tuple(rewritten),
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


def next_month_to_write(unit: Unit, today_period: str) -> str:
    """The month "copy last month" proposes: this one without guidance, else the next free."""
    return next_free_period(today_period, lambda period: exists(unit, period) is not None)


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
