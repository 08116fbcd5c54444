"""evaluation indexes for the province dashboard

The trend, "where to act" and good-practice queries filter evaluations by
meeting date across a whole subtree; without these they scan the table.

Revision ID: 1cd0c703fa6a
Revises: d66782904334
Create Date: 2026-11-23 15:26:22.609115

"""

from alembic import op

revision = "1cd0c703fa6a"
down_revision = "d66782904334"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("evaluation", schema=None) as batch_op:
        batch_op.create_index("ix_evaluation_meeting_date", ["meeting_date"], unique=False)
        batch_op.create_index(
            "ix_evaluation_recommended", ["recommend_practice", "meeting_date"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("evaluation", schema=None) as batch_op:
        batch_op.drop_index("ix_evaluation_recommended")
        batch_op.drop_index("ix_evaluation_meeting_date")
