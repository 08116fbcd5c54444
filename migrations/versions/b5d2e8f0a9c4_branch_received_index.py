"""branch/received index for the unacknowledged counts

The flagged list shows, for each branch of the page, how many evaluations wait
for the secretaries and how many of those are late (by ``received_at``); with
this index the count reads no table rows, however long the branches' history.

Revision ID: b5d2e8f0a9c4
Revises: 7a3e9c1d4b2f
Create Date: 2026-11-23 20:00:00

"""

from alembic import op

revision = "b5d2e8f0a9c4"
down_revision = "7a3e9c1d4b2f"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("evaluation", schema=None) as batch_op:
        batch_op.create_index(
            "ix_evaluation_branch_received", ["branch_id", "received_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("evaluation", schema=None) as batch_op:
        batch_op.drop_index("ix_evaluation_branch_received")
