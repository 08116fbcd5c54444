"""Versioned checklist templates; a published version never changes again."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coso.extensions import db
from coso.models.types import UTCDateTime, utcnow

DRAFT, PUBLISHED, RETIRED = "draft", "published", "retired"
SECTIONS = ("procedure", "content")
ITEM_KINDS = ("choice", "computed")


class ChecklistTemplate(db.Model):
    """One version of the checklist issued by a unit (usually the province)."""

    __table_args__ = (sa.UniqueConstraint("unit_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    version: Mapped[int]
    status: Mapped[str] = mapped_column(sa.String(12), default=DRAFT, index=True)
    based_on_id: Mapped[int | None] = mapped_column(sa.ForeignKey("checklist_template.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))

    items: Mapped[list[ChecklistItem]] = relationship(
        back_populates="template",
        order_by="ChecklistItem.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )

    def item(self, code: str) -> ChecklistItem | None:
        return next((item for item in self.items if item.code == code), None)

    def __repr__(self) -> str:
        return f"<ChecklistTemplate {self.name} v{self.version} {self.status}>"


class ChecklistItem(db.Model):
    """One line of a template: what is checked, its weight, whether it is critical."""

    __table_args__ = (sa.UniqueConstraint("template_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(sa.ForeignKey("checklist_template.id"), index=True)
    position: Mapped[int]
    code: Mapped[str] = mapped_column(sa.String(10))
    section: Mapped[str] = mapped_column(sa.String(12))
    text_vi: Mapped[str] = mapped_column(sa.String(300))
    text_en: Mapped[str] = mapped_column(sa.String(300))
    weight: Mapped[int]
    critical: Mapped[bool] = mapped_column(default=False)
    kind: Mapped[str] = mapped_column(sa.String(10), default="choice")

    template: Mapped[ChecklistTemplate] = relationship(back_populates="items")

    def text(self, locale: str) -> str:
        return self.text_en if locale == "en" and self.text_en else self.text_vi
