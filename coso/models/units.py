"""The union's organisation tree: units of any depth under the centre or a province."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coso.extensions import db
from coso.models.types import PathString, UTCDateTime, utcnow

#: Kinds of unit, from the top down; a tree may skip levels. A tree's root is either the
#: Central Committee (``central``, the provinces under it) or a single province.
UNIT_KINDS = (
    "central",
    "province",
    "bloc",
    "commune",
    "ward",
    "school",
    "enterprise",
    "agency",
    "interbranch",
    "branch",
)


class Unit(db.Model):
    """A node of the union tree.

    ``path`` is the chain of ids from the root, ``/1/5/17/``: the subtree of a
    unit is every row whose path starts with its own, one indexed range scan.
    """

    __table_args__ = (
        # The units above the branches (a few thousand in the country, against 250,000
        # branches) of a subtree, without reading its branches: the tallies' communes.
        sa.Index(
            "ix_unit_path_above_branches",
            "path",
            sqlite_where=sa.text("kind <> 'branch'"),
            postgresql_where=sa.text("kind <> 'branch'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(20), index=True)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unit.id"), index=True)
    path: Mapped[str] = mapped_column(PathString, index=True, default="")
    depth: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    # Branch profile (domain.md: a Party-member secretary tends to stay longer).
    secretary_name: Mapped[str | None] = mapped_column(sa.String(120))
    secretary_since: Mapped[date | None]
    secretary_party_member: Mapped[bool | None]
    member_count: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Name and code as searches compare them (coso.units.rules.unit_search_key): the same
    #: on SQLite and PostgreSQL, whose lower() differ. Kept on every insert and update.
    search: Mapped[str] = mapped_column(sa.Text, default="", server_default="", index=True)

    parent: Mapped[Unit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Unit]] = relationship(back_populates="parent", order_by="Unit.name")

    @property
    def is_branch(self) -> bool:
        return self.kind == "branch"

    @property
    def ancestor_ids(self) -> list[int]:
        """Ids from the root down to and including this unit."""
        return [int(part) for part in self.path.strip("/").split("/") if part]

    def subtree_clause(self) -> sa.ColumnElement[bool]:
        """A WHERE clause matching this unit and every unit under it."""
        return subtree_of(self.path)

    def __repr__(self) -> str:
        return f"<Unit {self.code} {self.kind}>"


@sa.event.listens_for(Unit, "before_insert")
@sa.event.listens_for(Unit, "before_update")
def _keep_search_key(mapper: Any, connection: Any, unit: Unit) -> None:
    """Re-key a unit's ``search`` column whenever the ORM writes the unit.

    Every write path (the unit pages, the spreadsheet import, the demo) goes through the
    ORM, so this one hook keeps the column true; a raw SQL write must set it itself.
    """
    from coso.units.rules import unit_search_key  # the units package imports the models

    unit.search = unit_search_key(unit.name or "", unit.code or "")


def subtree_of(path: str) -> sa.ColumnElement[bool]:
    """Units whose path starts with ``path`` as a B-tree range.

    Paths are digits and slashes; every string with the prefix ``/1/5/`` sorts
    at or after it and before ``/1/50`` ('0' is the character after '/').
    """
    upper = path[:-1] + chr(ord(path[-1]) + 1)
    return sa.and_(Unit.path >= path, Unit.path < upper)


def place(unit: Unit, parent: Unit | None) -> None:
    """Set ``unit`` under ``parent`` and compute its path (flushes for the id)."""
    unit.parent = parent
    if unit.id is None:
        db.session.add(unit)
        db.session.flush()
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    unit.depth = parent.depth + 1 if parent else 0


#: The posts a term is held in (coso.secretaries.rules.ROLES says the same).
SECRETARY_ROLE, DEPUTY_ROLE = "secretary", "deputy"


class SecretaryTerm(db.Model):
    """One secretary's (or deputy's) term at a branch, so turnover can be counted.

    An open term (``ended_on`` is None) is the post's current holder; recording someone
    else closes it. ``guided_to_party`` is asked of a non-member only (None for a member).
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), index=True)
    role: Mapped[str] = mapped_column(
        sa.String(10), default=SECRETARY_ROLE, server_default=SECRETARY_ROLE
    )
    name: Mapped[str] = mapped_column(sa.String(120))
    party_member: Mapped[bool] = mapped_column(default=False)
    guided_to_party: Mapped[bool | None]
    started_on: Mapped[date | None]
    ended_on: Mapped[date | None]
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
