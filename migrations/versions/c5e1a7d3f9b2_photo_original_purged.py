"""photo.original_purged_at: the original removed by the retention setting (issue 20)

Revision ID: c5e1a7d3f9b2
Revises: b3f7a1c9e2d4
Create Date: 2026-12-07 01:10:00

"""

import sqlalchemy as sa
from alembic import op

from coso.models.types import UTCDateTime

revision = "c5e1a7d3f9b2"
down_revision = "b3f7a1c9e2d4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("photo", schema=None) as batch_op:
        batch_op.add_column(sa.Column("original_purged_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("photo", schema=None) as batch_op:
        batch_op.drop_column("original_purged_at")
