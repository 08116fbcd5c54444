"""covering indexes for "where to act"

The per-unit rates and the monthly trend read branch, meeting date and
compliance of a period's evaluations: with ``compliant`` in the branch/meeting
index they come from the index alone (it replaces the two-column one, which
it serves as well). The failing items read the failed and partly met answers
of those evaluations: a partial index holds just those.

Revision ID: 7a3e9c1d4b2f
Revises: 1cd0c703fa6a
Create Date: 2026-11-23 19:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "7a3e9c1d4b2f"
down_revision = "1cd0c703fa6a"
branch_labels = None
depends_on = None

FAILING = "value IN ('fail', 'partial')"


def upgrade() -> None:
    with op.batch_alter_table("evaluation", schema=None) as batch_op:
        batch_op.create_index(
            "ix_evaluation_branch_meeting_ok",
            ["branch_id", "meeting_date", "compliant"],
            unique=False,
        )
        batch_op.drop_index("ix_evaluation_branch_meeting")
    op.create_index(
        "ix_evaluation_answer_failing",
        "evaluation_answer",
        ["evaluation_id", "item_code", "value"],
        unique=False,
        sqlite_where=sa.text(FAILING),
        postgresql_where=sa.text(FAILING),
    )


def downgrade() -> None:
    op.drop_index("ix_evaluation_answer_failing", table_name="evaluation_answer")
    with op.batch_alter_table("evaluation", schema=None) as batch_op:
        batch_op.create_index(
            "ix_evaluation_branch_meeting", ["branch_id", "meeting_date"], unique=False
        )
        batch_op.drop_index("ix_evaluation_branch_meeting_ok")
