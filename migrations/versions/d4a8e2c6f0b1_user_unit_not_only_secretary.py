"""user (unit_id) where roles <> 'secretary': everyone but the branches' own secretaries

The national 1+2 ledger reads who goes out in the whole country: a LIKE over every user's
roles read 254,000 rows, 250,000 of them a branch's secretary who never goes (125–137 ms of
the roll-up). The people who hold another role are a few thousand; with this partial index
they are read alone, and the secretaries above the branches through the units' own partial
index. Issue 22, item 2.

Revision ID: d4a8e2c6f0b1
Revises: c9e5a3b7d1f4
Create Date: 2026-12-07 15:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "d4a8e2c6f0b1"
down_revision = "c9e5a3b7d1f4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Not in batch mode: a batch that copied the table on SQLite would drop its triggers.
    op.create_index(
        "ix_user_unit_not_only_secretary",
        "user",
        ["unit_id"],
        unique=False,
        sqlite_where=sa.text("roles <> 'secretary'"),
        postgresql_where=sa.text("roles <> 'secretary'"),
    )


def downgrade() -> None:
    op.drop_index("ix_user_unit_not_only_secretary", table_name="user")
