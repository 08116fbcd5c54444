"""The field pack: everything a phone needs to fill a checklist with no signal.

design.md, "The offline path" and ``GET /api/v1/field-pack``. Built from the
branch-status rows and indexed look-ups: one query per kind of thing, however
many branches the user's area holds.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import get_locale

from coso import clock, scope
from coso.brief.queries import briefs
from coso.evaluations.twins import Earlier, recent_by_branch
from coso.extensions import among, db
from coso.feedback.rules import OPEN
from coso.guidance.rules import period_of, previous_period
from coso.judging.queries import Thresholds, thresholds
from coso.meetings import queries as meetings
from coso.models import (
    BranchStatus,
    ChecklistTemplate,
    CorrectiveAction,
    Evaluation,
    Guidance,
    Meeting,
    Unit,
    User,
)
from coso.models.checklists import PUBLISHED
from coso.practices import queries as practices

#: How far back a branch's meetings are listed in the pack (``recent_evaluations``).
RECENT_DAYS = timedelta(days=93)


def field_pack(user: User) -> dict[str, Any]:
    """The pack for ``user``; ``generated_at`` is left out so the content can be fingerprinted."""
    today = clock.today()
    locale = str(get_locale())
    resolved = thresholds(user.unit)
    branches = _branches(user, today, resolved)
    unit_ids = {int(part) for b, *_ in branches for part in b.path.strip("/").split("/")}
    unit_ids |= set(user.unit.ancestor_ids)
    period = period_of(today)
    guidance = _guidance(unit_ids, (period, previous_period(period)))
    templates = _templates(unit_ids)
    open_actions = _open_actions([b.id for b, *_ in branches])
    recent = recent_by_branch([b.id for b, *_ in branches], today - RECENT_DAYS)
    coming = meetings.upcoming([b.id for b, *_ in branches], today)
    next_meeting = meetings.next_by_branch(coming)
    brief = briefs([(b, latest) for b, _p, _s, latest in branches], user.id, today, resolved)
    by_unit_period = {(g.unit_id, g.period): g for g in guidance}
    template_by_unit: dict[int, ChecklistTemplate] = {}
    for template in templates:  # newest version per issuing unit
        template_by_unit.setdefault(template.unit_id, template)

    items = []
    used_templates: dict[int, ChecklistTemplate] = {}
    for branch, parent_name, state, latest in branches:
        ancestors = list(reversed(branch.ancestor_ids))  # nearest first
        applying = next(
            (by_unit_period[(uid, period)] for uid in ancestors if (uid, period) in by_unit_period),
            None,
        )
        template = next(
            (template_by_unit[uid] for uid in ancestors if uid in template_by_unit), None
        )
        if template is not None:
            used_templates[template.id] = template
        items.append(
            {
                "id": branch.id,
                "code": branch.code,
                "name": branch.name,
                "parent_name": parent_name,
                "state": state,
                "members": branch.member_count,
                "guidance_id": applying.id if applying else None,
                "template_id": template.id if template else None,
                "last_evaluation": (
                    {
                        "id": latest.id,
                        "meeting_date": latest.meeting_date.isoformat(),
                        "score": latest.score,
                        "compliant": latest.compliant,
                    }
                    if latest is not None
                    else None
                ),
                "open_actions": open_actions.get(branch.id, 0),
                "recent_evaluations": [_recent_dict(e, user.id) for e in recent.get(branch.id, ())],
                "next_meeting": (
                    _meeting_dict(next_meeting[branch.id]) if branch.id in next_meeting else None
                ),
                # The brief before leaving (issue 18, item 4); empty parts are left out.
                "brief": brief[branch.id],
            }
        )
    return {
        "user": user_dict(user),
        "period": period,
        "branches": items,
        "templates": [_template_dict(t, locale) for t in used_templates.values()],
        "guidance": [_guidance_dict(g) for g in guidance],
        "settings": resolved.base.as_dict(),  # in force at the user's own unit
        # The declared meetings of the coming weeks, cancelled ones too (issue 18, item 1).
        "meetings": [_meeting_dict(m) for m in coming],
        # Good practices spread to the user's area, new ones flagged (issue 19, item 4).
        "practices": practices.for_pack(user),
    }


def _meeting_dict(meeting: Meeting) -> dict[str, Any]:
    """A declared meeting as the phone keeps it: when, where, moved or cancelled."""
    return {
        "id": meeting.id,
        "branch_id": meeting.branch_id,
        "date": meeting.day.isoformat(),
        "time": meeting.time.strftime("%H:%M"),
        "place": meeting.place,
        "link": meeting.link,
        "kind": meeting.kind,
        "moved_from": meeting.moved_from.isoformat() if meeting.moved_from else None,
        "cancelled": meeting.cancelled,
        "cancel_reason": meeting.cancel_reason,
    }


def _recent_dict(earlier: Earlier, user_id: int) -> dict[str, Any]:
    """An evaluation in force of a recent meeting, for the phone's "evaluated already?" warning.

    Who and when only; the UUID (which the correction flow takes) only of the user's own.
    """
    mine = earlier.cadre_id == user_id
    return {
        "meeting_date": earlier.meeting_date.isoformat(),
        "cadre": earlier.cadre,
        "received_at": earlier.received_at.isoformat(timespec="seconds"),
        "mine": mine,
        "uuid": earlier.uuid if mine else None,
    }


def user_dict(user: User) -> dict[str, Any]:
    """Who is signed in, as ``GET /session`` and the pack both report it."""
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "roles": user.role_list,
        "unit_id": user.unit_id,
    }


def encode(pack: dict[str, Any]) -> tuple[bytes, str]:
    """The pack as JSON and its strong ETag, from one serialisation (3 MB for a province).

    ``generated_at`` is not in it (see :func:`stamped`), so an unchanged pack keeps its ETag.
    Not ASCII-escaped: Vietnamese names are 10 % shorter as UTF-8 than as ``\\uXXXX``.
    """
    body = json.dumps(
        pack, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode()
    return body, hashlib.sha256(body).hexdigest()[:32]


def stamped(body: bytes) -> bytes:
    """The pack's JSON with ``generated_at`` put first (a pack is never an empty object)."""
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    return b'{"generated_at":"' + stamp.encode() + b'",' + body[1:]


@dataclass(frozen=True, slots=True)
class PackBranch:
    """What the pack and its brief read of a branch (a plain row: a province's 3,000 branches
    as ORM objects cost more than their query)."""

    id: int
    code: str
    name: str
    path: str
    member_count: int | None
    secretary_name: str | None
    secretary_since: date | None
    secretary_party_member: bool | None

    @property
    def ancestor_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip("/").split("/") if part]


@dataclass(frozen=True, slots=True)
class PackEvaluation:
    """What the pack and its brief read of a branch's latest evaluation."""

    id: int
    meeting_date: date
    score: float | None
    compliant: bool
    notes: str | None


def _branches(
    user: User, today: Any, resolved: Thresholds
) -> list[tuple[PackBranch, str | None, str, PackEvaluation | None]]:
    if user.unit.kind == "central" and not scope.can(user, "evaluate"):
        # The Central Committee reads the provinces and never goes out with a pack: a whole
        # country's branches (250,000) are not a phone's (issue 22, item 1).
        return []
    parent = sa.orm.aliased(Unit)
    state = resolved.state_expr(today)  # each branch by its own settings, as the pages show it
    rows = db.session.execute(
        sa.select(
            Unit.id,
            Unit.code,
            Unit.name,
            Unit.path,
            Unit.member_count,
            Unit.secretary_name,
            Unit.secretary_since,
            Unit.secretary_party_member,
            parent.name,
            state,
            Evaluation.id,
            Evaluation.meeting_date,
            Evaluation.score,
            Evaluation.compliant,
            Evaluation.notes,
        )
        .outerjoin(parent, parent.id == Unit.parent_id)
        .outerjoin(BranchStatus, BranchStatus.branch_id == Unit.id)
        .outerjoin(Evaluation, Evaluation.id == BranchStatus.evaluation_id)
        .where(scope.scope_clause(user), Unit.kind == "branch", Unit.active.is_(True))
        .order_by(Unit.path)
    ).all()
    return [
        (
            PackBranch(*row[:8]),
            row[8],
            row[9],
            PackEvaluation(*row[10:15]) if row[10] is not None else None,
        )
        for row in rows
    ]


def _guidance(unit_ids: set[int], periods: tuple[str, str]) -> list[Guidance]:
    return list(
        db.session.scalars(
            sa.select(Guidance)
            .where(among(Guidance.unit_id, unit_ids), Guidance.period.in_(periods))
            .order_by(Guidance.period.desc(), Guidance.id)
        )
    )


def _templates(unit_ids: set[int]) -> list[ChecklistTemplate]:
    return list(
        db.session.scalars(
            sa.select(ChecklistTemplate)
            .where(
                among(ChecklistTemplate.unit_id, unit_ids), ChecklistTemplate.status == PUBLISHED
            )
            .order_by(ChecklistTemplate.version.desc())
        )
    )


def _open_actions(branch_ids: list[int]) -> dict[int, int]:
    if not branch_ids:
        return {}
    counts: dict[int, int] = defaultdict(int)
    rows = db.session.execute(
        sa.select(CorrectiveAction.branch_id, sa.func.count())
        .where(CorrectiveAction.status == OPEN, among(CorrectiveAction.branch_id, branch_ids))
        .group_by(CorrectiveAction.branch_id)
    )
    for branch_id, n in rows:
        counts[branch_id] = n
    return counts


def _template_dict(template: ChecklistTemplate, locale: str) -> dict[str, Any]:
    return {
        "id": template.id,
        "name": template.name,
        "version": template.version,
        "items": [
            {
                "code": item.code,
                "section": item.section,
                "text": item.text(locale),
                "text_vi": item.text_vi,
                "text_en": item.text_en,
                "weight": item.weight,
                "critical": item.critical,
                "kind": item.kind,
            }
            for item in template.items
        ],
    }


def _guidance_dict(guidance: Guidance) -> dict[str, Any]:
    return {
        "id": guidance.id,
        "unit_id": guidance.unit_id,
        "period": guidance.period,
        "title": guidance.title,
        "link": guidance.link,
        "material": guidance.material,
        "topics": [{"code": t.code, "title": t.title} for t in guidance.topics],
    }
