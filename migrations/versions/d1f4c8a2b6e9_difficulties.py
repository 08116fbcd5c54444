"""difficulty, difficulty_category, difficulty_pass: difficulties and proposals (issue 19, item 1)

A difficulty (khó khăn, vướng mắc, kiến nghị) is raised about a unit, routed to the commune
or the province, answered, passed up (difficulty_pass keeps each pass) and closed with what
was done. difficulty_category holds a province's own list of categories.

Revision ID: d1f4c8a2b6e9
Revises: a7c41e9d2b30
Create Date: 2026-12-06 19:25:00

"""

import sqlalchemy as sa
from alembic import op

import coso.models.types

revision = "d1f4c8a2b6e9"
down_revision = "a7c41e9d2b30"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "difficulty_category",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("province_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["province_id"], ["unit.id"], name=op.f("fk_difficulty_category_province_id_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_difficulty_category")),
        sa.UniqueConstraint("province_id", "code", name=op.f("uq_difficulty_category_province_id")),
    )
    op.create_table(
        "difficulty",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("raised_by_id", sa.Integer(), nullable=True),
        sa.Column("raised_at", coso.models.types.UTCDateTime(), nullable=False),
        sa.Column("evaluation_id", sa.Integer(), nullable=True),
        sa.Column("visit_id", sa.Integer(), nullable=True),
        sa.Column("routed_to_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_at", coso.models.types.UTCDateTime(), nullable=True),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("closed_at", coso.models.types.UTCDateTime(), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["answered_by_id"], ["user.id"], name=op.f("fk_difficulty_answered_by_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["closed_by_id"], ["user.id"], name=op.f("fk_difficulty_closed_by_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["evaluation.id"],
            name=op.f("fk_difficulty_evaluation_id_evaluation"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["user.id"], name=op.f("fk_difficulty_owner_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["raised_by_id"], ["user.id"], name=op.f("fk_difficulty_raised_by_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["routed_to_id"], ["unit.id"], name=op.f("fk_difficulty_routed_to_id_unit")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_difficulty_unit_id_unit")),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visit.id"], name=op.f("fk_difficulty_visit_id_visit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_difficulty")),
        sa.UniqueConstraint("uuid", name=op.f("uq_difficulty_uuid")),
    )
    with op.batch_alter_table("difficulty", schema=None) as batch_op:
        batch_op.create_index("ix_difficulty_routed_state", ["routed_to_id", "state"], unique=False)
        batch_op.create_index(batch_op.f("ix_difficulty_unit_id"), ["unit_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_difficulty_raised_by_id"), ["raised_by_id"], unique=False
        )
    op.create_table(
        "difficulty_pass",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("difficulty_id", sa.Integer(), nullable=False),
        sa.Column("from_unit_id", sa.Integer(), nullable=False),
        sa.Column("to_unit_id", sa.Integer(), nullable=False),
        sa.Column("passed_by_id", sa.Integer(), nullable=True),
        sa.Column("passed_at", coso.models.types.UTCDateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["difficulty_id"],
            ["difficulty.id"],
            name=op.f("fk_difficulty_pass_difficulty_id_difficulty"),
        ),
        sa.ForeignKeyConstraint(
            ["from_unit_id"], ["unit.id"], name=op.f("fk_difficulty_pass_from_unit_id_unit")
        ),
        sa.ForeignKeyConstraint(
            ["passed_by_id"], ["user.id"], name=op.f("fk_difficulty_pass_passed_by_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["to_unit_id"], ["unit.id"], name=op.f("fk_difficulty_pass_to_unit_id_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_difficulty_pass")),
    )
    with op.batch_alter_table("difficulty_pass", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_difficulty_pass_difficulty_id"), ["difficulty_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("difficulty_pass", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_difficulty_pass_difficulty_id"))
    op.drop_table("difficulty_pass")
    with op.batch_alter_table("difficulty", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_difficulty_raised_by_id"))
        batch_op.drop_index(batch_op.f("ix_difficulty_unit_id"))
        batch_op.drop_index("ix_difficulty_routed_state")
    op.drop_table("difficulty")
    op.drop_table("difficulty_category")
