"""visit_review, review_rubric: quality review of visit reports (issue 19, item 2)

Revision ID: a7c41e9d2b30
Revises: f3d9b2c7a415
Create Date: 2026-12-06 19:30:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import coso.models.types

revision = "a7c41e9d2b30"
down_revision = "f3d9b2c7a415"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "visit_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("scores", JSON, nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", coso.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_visit_review_user_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["visit.id"],
            name=op.f("fk_visit_review_visit_id_visit"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_review")),
    )
    with op.batch_alter_table("visit_review", schema=None) as batch_op:
        batch_op.create_index("ix_visit_review_visit", ["visit_id", "id"], unique=False)
    op.create_table(
        "review_rubric",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("criteria", JSON, nullable=False),
        sa.Column("updated_at", coso.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["unit.id"], name=op.f("fk_review_rubric_unit_id_unit")
        ),
        sa.PrimaryKeyConstraint("unit_id", name=op.f("pk_review_rubric")),
    )


def downgrade() -> None:
    op.drop_table("review_rubric")
    with op.batch_alter_table("visit_review", schema=None) as batch_op:
        batch_op.drop_index("ix_visit_review_visit")
    op.drop_table("visit_review")
