"""unit (path) where kind <> 'branch': the units above the branches of a subtree

The tallies belong to communes; the national roll-up joined them to every unit of each
province (253,000 with the branches) to find their province. With this partial index the
join reads the few thousand units above the branches. Issue 22, item 2.

Revision ID: c9e5a3b7d1f4
Revises: b8d4f2a6c3e7
Create Date: 2026-12-07 13:25:00

"""

import sqlalchemy as sa
from alembic import op

revision = "c9e5a3b7d1f4"
down_revision = "b8d4f2a6c3e7"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Not in batch mode: a batch that copied the table on SQLite would lose its triggers.
    op.create_index(
        "ix_unit_path_above_branches",
        "unit",
        ["path"],
        unique=False,
        sqlite_where=sa.text("kind <> 'branch'"),
        postgresql_where=sa.text("kind <> 'branch'"),
    )


def downgrade() -> None:
    op.drop_index("ix_unit_path_above_branches", table_name="unit")
