"""evaluation_tally and answer_tally: a commune's evaluations and failing answers per month

The national roll-up read a year's evaluations of the whole country (3 million, with 63
million answers) on every request: 9.5 s. These two tables hold the counts per commune and
month, kept by triggers in the transaction that writes an evaluation (coso.models.tallies).
The upgrade makes the tables and the triggers, then counts what is already there. Issue 22,
item 2 (bench/README.md, "The national scale").

Revision ID: a7c3e5f1b9d2
Revises: e4b8d2a6c1f3
Create Date: 2026-12-07 12:45:00

"""

import sqlalchemy as sa
from alembic import op

from coso.models.tally_triggers import (
    drop_trigger_statements,
    rebuild_statements,
    trigger_statements,
)

revision = "a7c3e5f1b9d2"
down_revision = "e4b8d2a6c1f3"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evaluation_tally",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("evaluations", sa.Integer(), nullable=False),
        sa.Column("compliant", sa.Integer(), nullable=False),
        sa.Column("branches", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.PrimaryKeyConstraint("unit_id", "month"),
    )
    op.create_table(
        "answer_tally",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("item_code", sa.String(length=10), nullable=False),
        sa.Column("fail", sa.Integer(), nullable=False),
        sa.Column("partial", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.PrimaryKeyConstraint("unit_id", "month", "item_code"),
    )
    dialect = op.get_bind().dialect.name
    for statement in trigger_statements(dialect) + rebuild_statements(dialect):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_trigger_statements(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_table("answer_tally")
    op.drop_table("evaluation_tally")
