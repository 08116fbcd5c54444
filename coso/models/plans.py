"""Visit plans (chương trình đi cơ sở): who goes where, when, in which form, and what came of it."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coso.extensions import db
from coso.models.types import JSONType, UTCDateTime, utcnow
from coso.models.units import Unit
from coso.models.users import User

#: What a plan's row says of itself; done, missed and upcoming are read from the visits
#: (coso.plans.rules.plan_state), never stored.
PLAN_STATUSES = ("proposed", "planned", "declined", "replanned")


class VisitPlan(db.Model):
    """One planned visit of a unit by one or several cadres over a few days."""

    __tablename__ = "visit_plan"
    __table_args__ = (sa.Index("ix_visit_plan_start", "start_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), index=True)
    form: Mapped[str] = mapped_column(sa.String(12))
    start_date: Mapped[date]
    end_date: Mapped[date]
    day_before: Mapped[bool] = mapped_column(default=False)
    focus: Mapped[str | None] = mapped_column(sa.Text)
    #: Checklist items the plan asks the cadre to look at (codes of the unit's checklist).
    look_items: Mapped[list[str]] = mapped_column(
        JSONType, default=list, server_default=sa.text("'[]'")
    )
    status: Mapped[str] = mapped_column(sa.String(10), default="planned")
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decline_reason: Mapped[str | None] = mapped_column(sa.Text)
    replaces_id: Mapped[int | None] = mapped_column(sa.ForeignKey("visit_plan.id"), index=True)
    replan_reason: Mapped[str | None] = mapped_column(sa.Text)

    unit: Mapped[Unit] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    cadres: Mapped[list[PlanCadre]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanCadre.id"
    )


class PlanCadre(db.Model):
    """A cadre sent on a plan; ``visit_id`` is a visit linked by hand (automatic links are read)."""

    __tablename__ = "plan_cadre"
    __table_args__ = (sa.UniqueConstraint("plan_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("visit_plan.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), index=True)
    visit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("visit.id"))

    plan: Mapped[VisitPlan] = relationship(back_populates="cadres")
    user: Mapped[User] = relationship()
