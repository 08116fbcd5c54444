"""visits through the sync API: the phone's UUID, content digest and report versions

Revision ID: a5c3e9f1b7d2
Revises: b7e3f1a90c24
Create Date: 2026-12-06 03:05:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "a5c3e9f1b7d2"
down_revision = "b7e3f1a90c24"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("uuid", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("content_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("report_uuid", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("report_version", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("report_hash", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_visit_uuid"), ["uuid"])


def downgrade():
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_visit_uuid"), type_="unique")
        batch_op.drop_column("report_hash")
        batch_op.drop_column("report_version")
        batch_op.drop_column("report_uuid")
        batch_op.drop_column("content_hash")
        batch_op.drop_column("uuid")
