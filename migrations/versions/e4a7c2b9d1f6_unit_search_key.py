"""unit.search: name and code as searches compare them

SQLite's lower() folds only A–Z, so "Hưng Định" never matched "hưng định", and
nobody typing without accents ("hung dinh") found a branch. Each unit now keeps
its name and code lower-cased, without accents, đ as d (coso.units.rules
.unit_search_key); the application writes it with every unit, and this
migration fills it for the units already there. An index serves prefix
searches and keeps the column cheap to read.

Revision ID: e4a7c2b9d1f6
Revises: c8f1a2d3e4b5
Create Date: 2026-12-05 08:15:00

"""

import sqlalchemy as sa
from alembic import op

revision = "e4a7c2b9d1f6"
down_revision = "c8f1a2d3e4b5"
branch_labels = None
depends_on = None

unit = sa.table(
    "unit", sa.column("id", sa.Integer), sa.column("code"), sa.column("name"), sa.column("search")
)


def _key(name: str, code: str) -> str:
    """The key as of this revision (a copy: later changes to the rule get their own migration)."""
    import unicodedata

    def key(text: str) -> str:
        out: list[str] = []
        space = False
        for char in unicodedata.normalize("NFD", text or "").lower():
            category = unicodedata.category(char)
            if category[0] == "M" or category == "Cf":
                continue
            if category[0] == "Z" or category == "Cc":
                space = bool(out)
                continue
            if space:
                out.append(" ")
                space = False
            out.append("d" if char == "đ" else char)
        return "".join(out)

    return f"{key(name)}\n{key(code)}"


def upgrade() -> None:
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("search", sa.Text(), server_default="", nullable=False))
        batch_op.create_index("ix_unit_search", ["search"], unique=False)
    conn = op.get_bind()
    rows = conn.execute(sa.select(unit.c.id, unit.c.name, unit.c.code)).all()
    for start in range(0, len(rows), 1000):
        conn.execute(
            unit.update().where(unit.c.id == sa.bindparam("uid")).values(search=sa.bindparam("key")),
            [{"uid": r.id, "key": _key(r.name, r.code)} for r in rows[start : start + 1000]],
        )


def downgrade() -> None:
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.drop_index("ix_unit_search")
        batch_op.drop_column("search")
