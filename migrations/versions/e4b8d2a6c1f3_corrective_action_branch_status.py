"""corrective_action (branch_id, status): a branch's open actions without the country's

The field pack, the briefs and the branch alerts count or list the open (and proposed)
actions of up to 500 branches at a time. With only (status, due_date) and (branch_id),
PostgreSQL read every open action of the country (130,000 at the national scale) and kept
the chunk's: 10–60 ms a chunk; with (branch_id, status) it reads the chunk's own (under a
millisecond). Issue 22, item 2 (bench/README.md, "The national scale").

Revision ID: e4b8d2a6c1f3
Revises: c5e1a7d3f9b2
Create Date: 2026-12-07 05:05:00

"""

from alembic import op

revision = "e4b8d2a6c1f3"
down_revision = "c5e1a7d3f9b2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("corrective_action", schema=None) as batch_op:
        batch_op.create_index(
            "ix_corrective_action_branch_status", ["branch_id", "status"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("corrective_action", schema=None) as batch_op:
        batch_op.drop_index("ix_corrective_action_branch_status")
