"""visit_day_tally: each person's one-day visits per date, kept by triggers

The national 1+2 ledger counted distinct visit dates over three million visits a year on
every request (1.5–2 s). This table holds one row per person and date, kept by triggers in
the statement that inserts, deletes or changes a visit (coso.models.visit_days); the
upgrade counts what is there; a partial index finds the few visits of several days.
Issue 22, item 2.

Revision ID: b8d4f2a6c3e7
Revises: a7c3e5f1b9d2
Create Date: 2026-12-07 13:20:00

"""

import sqlalchemy as sa
from alembic import op

from coso.models.visit_days import (
    drop_visit_trigger_statements,
    rebuild_visit_statements,
    visit_trigger_statements,
)

revision = "b8d4f2a6c3e7"
down_revision = "a7c3e5f1b9d2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "visit_day_tally",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("visits", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("user_id", "day"),
    )
    # Not in batch mode: a batch that copied the table on SQLite would lose its triggers.
    op.create_index(
        "ix_visit_several_days",
        "visit",
        ["user_id", "start_date", "end_date"],
        unique=False,
        sqlite_where=sa.text("start_date <> end_date"),
        postgresql_where=sa.text("start_date <> end_date"),
    )
    dialect = op.get_bind().dialect.name
    for statement in visit_trigger_statements(dialect) + rebuild_visit_statements():
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_visit_trigger_statements(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_index("ix_visit_several_days", table_name="visit")
    op.drop_table("visit_day_tally")
