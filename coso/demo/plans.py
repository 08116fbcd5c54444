"""Visit plans in every state: done (a meeting visit of the planned branch on the planned day),
missed, re-planned, upcoming (one arriving a day before), proposed and declined.

A few dozen rows through the ORM, after the visits they are matched against exist; the
states are the app's own (``coso.plans.rules``), read from the plans and the visits.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from coso.demo.world import Ctx
from coso.extensions import db
from coso.judging import flags
from coso.models import PlanCadre, Unit, User, Visit, VisitPlan

FOCUS = (
    "Kiểm tra sổ biên bản và việc triển khai nghị quyết tháng.",
    "Dự sinh hoạt, làm việc với bí thư, phó bí thư chi đoàn về việc khắc phục lần trước.",
    "Xem nội dung sinh hoạt có theo hướng dẫn của tháng không; tỷ lệ đoàn viên tham dự.",
    "Làm việc với Đoàn cơ sở xã về chương trình tháng thanh niên.",
)
REPLAN_REASONS = (
    "Chi đoàn dời ngày sinh hoạt vì trùng lịch thu hoạch.",
    "Cán bộ đi họp đột xuất tại Tỉnh đoàn.",
)
DECLINE_REASON = "Trùng đợt kiểm tra của Thường trực; đăng ký lại vào tháng sau."


def _plan(
    unit: Unit,
    cadres: list[User],
    start: date,
    author: User,
    *,
    form: str = "meeting",
    days: int = 1,
    status: str = "planned",
    day_before: bool = False,
    focus: str | None = None,
) -> VisitPlan:
    now = datetime.now(UTC)
    plan = VisitPlan(
        unit_id=unit.id,
        form=form,
        start_date=start,
        end_date=start + timedelta(days=days - 1),
        day_before=day_before,
        focus=focus,
        status=status,
        created_by_id=author.id,
        decided_by_id=author.id if status == "planned" else None,
        decided_at=now if status == "planned" else None,
    )
    plan.cadres = [PlanCadre(user_id=c.id) for c in cadres]
    db.session.add(plan)
    return plan


def _visited(user: User, unit: Unit, first: date, last: date) -> bool:
    return bool(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Visit)
            .join(Unit, Unit.id == Visit.unit_id)
            .where(
                Visit.user_id == user.id,
                unit.subtree_clause(),
                Visit.start_date <= last,
                Visit.end_date >= first,
            )
        )
    )


def build_plans(ctx: Ctx) -> None:
    """For the demo cadre and up to four others: a plan in every state."""
    rng, today = ctx.rng, ctx.today
    province = ctx.users["province"]
    others = [u for u, _w, _c in ctx.cadres if u is not ctx.users["cadre"]]
    cadres = [ctx.users["cadre"], *others[:4]]
    needy = [b.unit for b in ctx.branches if b.plan in (flags.NEVER, flags.OVERDUE, flags.FLAGGED)]
    every = [b.unit for b in ctx.branches]
    made = 0
    for index, cadre in enumerate(cadres):
        # done: the cadre's latest meeting visit of the last two months, planned for that day
        visit = db.session.scalar(
            sa.select(Visit)
            .where(
                Visit.user_id == cadre.id,
                Visit.form == "meeting",
                Visit.start_date >= today - timedelta(days=60),
                Visit.start_date < today,
            )
            .order_by(Visit.start_date.desc(), Visit.id.desc())
            .limit(1)
        )
        if visit is not None:
            _plan(visit.unit, [cadre], visit.start_date, province, focus=rng.choice(FOCUS))
            made += 1
        # missed (and, for every other cadre, re-planned to next week)
        missed_day = today - timedelta(days=rng.randint(5, 20))
        for unit in rng.sample(every, min(len(every), 8)):
            if not _visited(cadre, unit, missed_day - timedelta(days=1), missed_day):
                plan = _plan(unit, [cadre], missed_day, province, focus=rng.choice(FOCUS))
                made += 1
                if index % 2 == 1:
                    db.session.flush()
                    new_day = today + timedelta(days=rng.randint(3, 9))
                    new = _plan(unit, [cadre], new_day, province, focus=plan.focus)
                    new.replaces_id = plan.id
                    new.replan_reason = rng.choice(REPLAN_REASONS)
                    plan.status = "replanned"
                    made += 1
                break
        # upcoming: the neediest branches, one arriving a day before
        targets = needy or every
        unit = targets[(index * 3) % len(targets)]
        _plan(
            unit,
            [cadre],
            today + timedelta(days=1 + index),
            province,
            day_before=index == 0,
            focus=rng.choice(FOCUS),
        )
        made += 1
    # one plan with two cadres, upcoming
    if len(cadres) > 2 and needy:
        _plan(needy[-1], cadres[1:3], today + timedelta(days=12), province, days=2)
        made += 1
    # proposals: a month of field study waiting, and one declined
    cadre = ctx.users["cadre"]
    if ctx.communes:
        first_of_next = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
        _plan(
            ctx.communes[0],
            [cadre],
            first_of_next,
            cadre,
            form="field_study",
            days=30,
            status="proposed",
            focus="Đăng ký đi cơ sở bằng hình thức học tập thực tế một tháng.",
        )
        declined = _plan(
            ctx.communes[-1],
            [cadre],
            today + timedelta(days=4),
            cadre,
            form="research",
            status="declined",
        )
        declined.decided_by_id, declined.decided_at = province.id, datetime.now(UTC)
        declined.decline_reason = DECLINE_REASON
        made += 2
    db.session.flush()
    ctx.counts["plans"] += made
    ctx.progress(f"Visit plans: {made}.")
