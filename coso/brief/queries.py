"""Reading the brief of many branches at once: a handful of queries whatever their number.

A brief is a plain dict, compact because it travels in the field pack to a phone on a weak
link: a key whose value is empty is left out (no failed items, no actions, no plan ...).

    {"failed": ["P10", "C1"], "notes": "...",       # of the branch's last evaluation (the
                                                    # pack's last_evaluation: id, date, score)
     "actions": [{"id": 5, "item": "P10", "text": "...", "owner": "...",
                  "due": "2026-12-01", "overdue": true, "seen": false}],
     "unanswered": 2,                               # evaluations the branch has not acknowledged
     "secretary": {"name": "...", "since": "2025-03-01", "party": true},
     "plans": [{"id": 7, "start": "...", "end": "...", "form": "attend",
                "form_label": "...", "focus": "...", "day_before": false}]}

The declared meeting is the pack's ``next_meeting`` beside it; the month's guidance (with
its material) is the pack's ``guidance``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any, Protocol

import sqlalchemy as sa

from coso.dashboard.words import form_label
from coso.extensions import among, db
from coso.feedback.alerts import alerts_for
from coso.feedback.rules import OPEN, is_overdue
from coso.judging.queries import Thresholds
from coso.models import CorrectiveAction, Evaluation, EvaluationAnswer, PlanCadre, Unit, VisitPlan

#: The plan rows a brief names: approved, or proposed and waiting (the cadre's own idea).
PLAN_STATUSES = ("planned", "proposed")


class BriefBranch(Protocol):
    """What a brief reads of a branch: a ``Unit``, or the field pack's plain row."""

    @property
    def id(self) -> int: ...
    @property
    def secretary_name(self) -> str | None: ...
    @property
    def secretary_since(self) -> date | None: ...
    @property
    def secretary_party_member(self) -> bool | None: ...


class BriefEvaluation(Protocol):
    """What a brief reads of the latest evaluation: an ``Evaluation``, or the pack's row."""

    @property
    def id(self) -> int: ...
    @property
    def notes(self) -> str | None: ...


def briefs(
    branches: Iterable[tuple[BriefBranch, BriefEvaluation | None]],
    user_id: int,
    today: date,
    resolved: Thresholds | None = None,
) -> dict[int, dict[str, Any]]:
    """The brief of each branch, by branch id (every branch asked for has an entry).

    :param branches: each branch with its evaluation in force of the latest meeting (the
        branch-status row's), or None when it was never evaluated.
    :param user_id: whose plans are named (a cadre reads their own visits).
    """
    pairs = list(branches)
    ids = [branch.id for branch, _latest in pairs]
    if not ids:
        return {}
    latest_ids = [latest.id for _b, latest in pairs if latest is not None]
    failed = _failed(latest_ids)
    actions = _actions(ids, today)
    alerts = alerts_for(ids, today, resolved)
    plans = _plans(ids, user_id, today)
    out: dict[int, dict[str, Any]] = {}
    for branch, latest in pairs:
        brief: dict[str, Any] = {}
        if latest is not None:
            if failed.get(latest.id):
                brief["failed"] = failed[latest.id]
            if latest.notes:
                brief["notes"] = latest.notes
        if actions.get(branch.id):
            brief["actions"] = actions[branch.id]
        if alerts[branch.id].unacknowledged:
            brief["unanswered"] = alerts[branch.id].unacknowledged
        secretary = _secretary(branch)
        if secretary:
            brief["secretary"] = secretary
        if plans.get(branch.id):
            brief["plans"] = plans[branch.id]
        out[branch.id] = brief
    return out


def brief_of(branch: Unit, latest: Evaluation | None, user_id: int, today: date) -> dict[str, Any]:
    """One branch's brief (the online checklist's)."""
    return briefs([(branch, latest)], user_id, today)[branch.id]


def _secretary(branch: BriefBranch) -> dict[str, Any] | None:
    if not branch.secretary_name and branch.secretary_party_member is None:
        return None
    secretary: dict[str, Any] = {"name": branch.secretary_name}
    if branch.secretary_since is not None:
        secretary["since"] = branch.secretary_since.isoformat()
    if branch.secretary_party_member is not None:
        secretary["party"] = branch.secretary_party_member
    return secretary


def _failed(evaluation_ids: list[int]) -> dict[int, list[str]]:
    """The items each evaluation failed, in the order of the checklist's answers."""
    out: dict[int, list[str]] = defaultdict(list)
    for start in range(0, len(evaluation_ids), 500):
        rows = db.session.execute(
            sa.select(EvaluationAnswer.evaluation_id, EvaluationAnswer.item_code)
            .where(
                among(EvaluationAnswer.evaluation_id, evaluation_ids[start : start + 500]),
                EvaluationAnswer.value == "fail",
            )
            .order_by(EvaluationAnswer.evaluation_id, EvaluationAnswer.item_code)
        )
        for evaluation_id, code in rows:
            out[evaluation_id].append(code)
    return out


def _actions(branch_ids: list[int], today: date) -> dict[int, list[dict[str, Any]]]:
    """The open corrective actions of each branch, the oldest due first."""
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for start in range(0, len(branch_ids), 500):
        action = CorrectiveAction
        rows = db.session.execute(
            sa.select(  # columns, not objects: a province's open actions are thousands
                action.id,
                action.branch_id,
                action.description,
                action.owner,
                action.due_date,
                action.item_code,
                action.status,
                action.seen_done_at,
            )
            .where(
                among(CorrectiveAction.branch_id, branch_ids[start : start + 500]),
                CorrectiveAction.status == OPEN,
            )
            .order_by(CorrectiveAction.due_date, CorrectiveAction.id)
        )
        for row in rows:
            entry: dict[str, Any] = {
                "id": row.id,
                "text": row.description,
                "owner": row.owner,
                "due": row.due_date.isoformat(),
            }
            if row.item_code:
                entry["item"] = row.item_code
            if is_overdue(row.status, row.due_date, today):
                entry["overdue"] = True
            if row.seen_done_at is not None:
                entry["seen"] = True
            out[row.branch_id].append(entry)
    return out


def _plans(branch_ids: list[int], user_id: int, today: date) -> dict[int, list[dict[str, Any]]]:
    """The user's own plans of each branch that are not over yet: what to look at there."""
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    rows = db.session.scalars(
        sa.select(VisitPlan)
        .join(PlanCadre, PlanCadre.plan_id == VisitPlan.id)
        .where(
            PlanCadre.user_id == user_id,
            among(VisitPlan.unit_id, branch_ids),
            VisitPlan.status.in_(PLAN_STATUSES),
            VisitPlan.end_date >= today,
        )
        .order_by(VisitPlan.start_date, VisitPlan.id)
    )
    for plan in rows:
        entry: dict[str, Any] = {
            "id": plan.id,
            "start": plan.start_date.isoformat(),
            "end": plan.end_date.isoformat(),
            "form": plan.form,
            "form_label": form_label(plan.form),
        }
        if plan.focus:
            entry["focus"] = plan.focus
        if plan.look_items:
            entry["items"] = list(plan.look_items)
        if plan.day_before:
            entry["day_before"] = True
        if plan.status != "planned":
            entry["proposed"] = True
        out[plan.unit_id].append(entry)
    return out
