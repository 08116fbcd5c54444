"""photo: photo evidence for an evaluation or one of its items (issue 20)

Revision ID: b3f7a1c9e2d4
Revises: d1f4c8a2b6e9
Create Date: 2026-12-06 19:30:00

"""

import sqlalchemy as sa
from alembic import op


revision = "b3f7a1c9e2d4"
down_revision = "d1f4c8a2b6e9"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "photo",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evaluation_uuid", sa.String(length=36), nullable=False),
        sa.Column("item_code", sa.String(length=20), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=20), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("evaluation_uuid", "item_code", "sha256"),
    )
    with op.batch_alter_table("photo", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_photo_evaluation_uuid"), ["evaluation_uuid"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("photo", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_photo_evaluation_uuid"))
    op.drop_table("photo")
