"""Writing plans: plan, propose, approve, decline, re-plan, link a visit by hand.

Each function adds its audit event; the caller commits (one transaction per action).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from coso import audit
from coso.extensions import db
from coso.models import PlanCadre, User, Visit, VisitPlan
from coso.notifications import service as notify
from coso.plans.rules import DECLINED, PLANNED, PROPOSED, REPLANNED


def _plan(author: User, data: dict[str, Any], cadres: list[User], status: str) -> VisitPlan:
    plan = VisitPlan(
        unit_id=data["unit"].id,
        form=data["form"],
        start_date=data["start_date"],
        end_date=data["end_date"],
        day_before=bool(data.get("day_before")),
        focus=(data.get("focus") or "").strip() or None,
        look_items=list(data.get("look_items") or []),
        status=status,
        created_by_id=author.id,
    )
    plan.cadres = [PlanCadre(user_id=cadre.id) for cadre in cadres]
    db.session.add(plan)
    db.session.flush()
    return plan


def _details(plan: VisitPlan) -> dict[str, Any]:
    return {
        "form": plan.form,
        "start": plan.start_date.isoformat(),
        "end": plan.end_date.isoformat(),
        "day_before": plan.day_before,
        "cadres": [c.user_id for c in plan.cadres],
        "look_items": list(plan.look_items or []),
    }


def create(author: User, data: dict[str, Any]) -> VisitPlan:
    """A planner's plan, from ``PlanSchema``'s data: approved as it is made."""
    plan = _plan(author, data, data["cadres"], PLANNED)
    plan.decided_by_id, plan.decided_at = author.id, datetime.now(UTC)
    audit.record("plan.create", obj=plan, unit_id=plan.unit_id, user=author, **_details(plan))
    notify.plan_assigned(plan, author)
    return plan


def propose(cadre: User, data: dict[str, Any]) -> VisitPlan:
    """A cadre's proposal of a visit of their own, waiting for a planner's decision."""
    plan = _plan(cadre, data, [cadre], PROPOSED)
    audit.record("plan.propose", obj=plan, unit_id=plan.unit_id, user=cadre, **_details(plan))
    return plan


def approve(plan: VisitPlan, planner: User) -> None:
    plan.status = PLANNED
    plan.decided_by_id, plan.decided_at = planner.id, datetime.now(UTC)
    audit.record("plan.approve", obj=plan, unit_id=plan.unit_id, user=planner)


def decline(plan: VisitPlan, planner: User, reason: str) -> None:
    plan.status = DECLINED
    plan.decline_reason = reason.strip()
    plan.decided_by_id, plan.decided_at = planner.id, datetime.now(UTC)
    audit.record(
        "plan.decline", obj=plan, unit_id=plan.unit_id, user=planner, reason=plan.decline_reason
    )


def replan(plan: VisitPlan, planner: User, data: dict[str, Any]) -> VisitPlan:
    """New dates for a plan: a new plan takes them, the old one stays, marked re-planned."""
    reason = data["reason"].strip()
    new = VisitPlan(
        unit_id=plan.unit_id,
        form=plan.form,
        start_date=data["start_date"],
        end_date=data["end_date"],
        day_before=plan.day_before,
        focus=plan.focus,
        look_items=list(plan.look_items or []),
        status=PLANNED,
        created_by_id=planner.id,
        decided_by_id=planner.id,
        decided_at=datetime.now(UTC),
        replaces_id=plan.id,
        replan_reason=reason,
    )
    new.cadres = [PlanCadre(user_id=c.user_id) for c in plan.cadres]
    plan.status = REPLANNED
    db.session.add(new)
    db.session.flush()
    audit.record(
        "plan.replan",
        obj=plan,
        unit_id=plan.unit_id,
        user=planner,
        reason=reason,
        before={"start": plan.start_date.isoformat(), "end": plan.end_date.isoformat()},
        after={"start": new.start_date.isoformat(), "end": new.end_date.isoformat()},
        new_plan=new.id,
    )
    notify.plan_assigned(new, planner)
    return new


def link(share: PlanCadre, visit: Visit, by: User) -> None:
    """Link a visit to a cadre's share of a plan by hand (a visit outside the planned days)."""
    share.visit_id = visit.id
    audit.record(
        "plan.link",
        obj=share.plan,
        unit_id=share.plan.unit_id,
        user=by,
        cadre=share.user_id,
        visit=visit.id,
    )
