"""The tallies' trigger functions plan each run for its transition table (PostgreSQL)

A batch's answers now go in as one statement (1,050 rows) instead of one statement per row.
PL/pgSQL keeps a generic plan of a trigger's statements after five runs, made without the
transition table's size: one such plan probed every branch for every answer, 0.7 s a batch.
``SET plan_cache_mode = force_custom_plan`` on each function plans every run for its rows.
Nothing to do on SQLite (row triggers, no plan cache). Issue 22, item 5.

Revision ID: e5f1a9c3b7d2
Revises: d4a8e2c6f0b1
Create Date: 2026-12-07 18:40:00

"""

from alembic import op

revision = "e5f1a9c3b7d2"
down_revision = "d4a8e2c6f0b1"
branch_labels = None
depends_on = None

FUNCTIONS = (
    "tally_evaluation_insert",
    "tally_evaluation_update",
    "tally_answer_insert",
    "tally_answer_update",
    "tally_unit_update",
    "tally_visit_insert",
    "tally_visit_delete",
    "tally_visit_update",
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in FUNCTIONS:
        op.execute(f"ALTER FUNCTION {name}() SET plan_cache_mode = force_custom_plan")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in FUNCTIONS:
        op.execute(f"ALTER FUNCTION {name}() RESET plan_cache_mode")
