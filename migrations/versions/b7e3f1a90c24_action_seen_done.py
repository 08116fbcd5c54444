"""corrective_action: seen done by a cadre at a meeting (issue 18, item 4)

The cadre ticks an open action "seen done" on the checklist; the evaluation carries it
(an optional field of the sync item) and the action records who, when and in which
evaluation. Its status does not change: the secretary closes it.

Revision ID: b7e3f1a90c24
Revises: a91c3e5f7b20
Create Date: 2026-12-06 03:05:00

"""
from alembic import op
import sqlalchemy as sa
import coso.models.types  # noqa: F401  (autogenerate renders our column types by path)


# revision identifiers, used by Alembic.
revision = 'b7e3f1a90c24'
down_revision = 'a91c3e5f7b20'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('corrective_action', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seen_done_at', coso.models.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('seen_done_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('seen_done_evaluation_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_corrective_action_seen_done_by_id_user'), 'user', ['seen_done_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_corrective_action_seen_done_evaluation_id_evaluation'), 'evaluation', ['seen_done_evaluation_id'], ['id'])


def downgrade():
    with op.batch_alter_table('corrective_action', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_corrective_action_seen_done_evaluation_id_evaluation'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_corrective_action_seen_done_by_id_user'), type_='foreignkey')
        batch_op.drop_column('seen_done_evaluation_id')
        batch_op.drop_column('seen_done_by_id')
        batch_op.drop_column('seen_done_at')
