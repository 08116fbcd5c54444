"""Writes: who holds a branch's post, and a post left empty — each with its audit event.

The branch keeps its current secretary on its own row too (``Unit.secretary_*``: the
province's figures and the unit pages read it there), so both change together here.
Party membership is sensitive: every change records before and after in the audit log.
The caller commits.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from coso import audit
from coso.extensions import db
from coso.models import SecretaryTerm, Unit, User
from coso.models.types import utcnow
from coso.secretaries import rules
from coso.secretaries.queries import open_term


class Refused(ValueError):
    """A record the rules refuse: ``problem`` is a rules constant, ``field`` the form's field."""

    def __init__(self, problem: str, field: str, term: SecretaryTerm | None) -> None:
        super().__init__(problem)
        self.problem, self.field, self.term = problem, field, term


def _snapshot(term: SecretaryTerm | None) -> dict[str, Any] | None:
    if term is None:
        return None
    return {
        "name": term.name,
        "party_member": term.party_member,
        "guided_to_party": term.guided_to_party,
        "started_on": term.started_on.isoformat() if term.started_on else None,
        "ended_on": term.ended_on.isoformat() if term.ended_on else None,
    }


def _keep_on_branch(branch: Unit, term: SecretaryTerm | None) -> None:
    """The branch row's copy of its current secretary (empty when the post is)."""
    branch.secretary_name = term.name if term else None
    branch.secretary_since = term.started_on if term else None
    branch.secretary_party_member = term.party_member if term else None


def record(branch: Unit, data: dict[str, Any], user: User) -> SecretaryTerm:
    """Record who holds ``data["role"]`` at ``branch``: a new person closes the previous
    term on their first day and opens theirs; the same person's term is corrected.

    :raise Refused: the new term would start before the current one began.
    """
    role, since = data["role"], data["since"]
    current = open_term(branch, role)
    is_change = current is None or not rules.same_person(current.name, data["name"])
    problem = rules.change_problem(current.started_on if current else None, since, is_change)
    if problem:
        raise Refused(problem, "since", current)
    before = _snapshot(current)
    closed = None
    if current is not None and is_change:
        current.ended_on = since
        closed = _snapshot(current)
        term = SecretaryTerm(branch_id=branch.id, role=role)
        db.session.add(term)
    elif current is not None:
        term = current
    else:
        term = SecretaryTerm(branch_id=branch.id, role=role)
        db.session.add(term)
    term.name = data["name"]
    term.started_on = since
    term.party_member = data["party_member"]
    term.guided_to_party = data["guided"]
    term.recorded_by_id = user.id
    term.recorded_at = utcnow()
    if role == rules.SECRETARY:
        _keep_on_branch(branch, term)
    db.session.flush()
    audit.record(
        "secretary.change" if is_change else "secretary.update",
        obj=term,
        unit_id=branch.id,
        user=user,
        role=role,
        before=before,
        after=_snapshot(term),
        closed=closed,
    )
    return term


def end(branch: Unit, role: str, on: date, user: User) -> SecretaryTerm | None:
    """Leave ``role`` empty from ``on``: the holder's term ends (nothing when it is empty).

    :raise Refused: ``on`` is before the term began.
    """
    current = open_term(branch, role)
    if current is None:
        return None
    problem = rules.end_problem(current.started_on, on)
    if problem:
        raise Refused(problem, "on", current)
    before = _snapshot(current)
    current.ended_on = on
    if role == rules.SECRETARY:
        _keep_on_branch(branch, None)
    audit.record(
        "secretary.end",
        obj=current,
        unit_id=branch.id,
        user=user,
        role=role,
        before=before,
        after=_snapshot(current),
    )
    return current
