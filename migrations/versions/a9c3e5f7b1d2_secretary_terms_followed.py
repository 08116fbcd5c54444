"""secretary_term: the post (secretary or deputy), guided towards the Party, who recorded it

Issue 19, item 5: the commune and the branch itself record a branch's secretary and
deputy; a non-member secretary may be guided towards the Party. Existing terms are
secretaries' (the server default).

Revision ID: a9c3e5f7b1d2
Revises: a5c3e9f1b7d2
Create Date: 2026-12-06 03:10:00

"""

import sqlalchemy as sa
from alembic import op

import coso.models.types

revision = "a9c3e5f7b1d2"
down_revision = "a5c3e9f1b7d2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("secretary_term", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("role", sa.String(length=10), server_default="secretary", nullable=False)
        )
        batch_op.add_column(sa.Column("guided_to_party", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("recorded_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("recorded_at", coso.models.types.UTCDateTime(), nullable=True)
        )
        batch_op.create_foreign_key(
            "fk_secretary_term_recorded_by_id_user", "user", ["recorded_by_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("secretary_term", schema=None) as batch_op:
        batch_op.drop_constraint("fk_secretary_term_recorded_by_id_user", type_="foreignkey")
        batch_op.drop_column("recorded_at")
        batch_op.drop_column("recorded_by_id")
        batch_op.drop_column("guided_to_party")
        batch_op.drop_column("role")
