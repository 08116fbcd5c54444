"""visit_plan.look_items: the checklist items a plan asks the cadre to look at (issue 18, item 2)

Revision ID: f3d9b2c7a415
Revises: 6e466a9b4f88
Create Date: 2026-12-06 04:10:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql


revision = "f3d9b2c7a415"
down_revision = "6e466a9b4f88"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("visit_plan", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "look_items",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                server_default=sa.text("'[]'"),
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("visit_plan", schema=None) as batch_op:
        batch_op.drop_column("look_items")
