"""Summary rows kept by the database: evaluations and failing answers per commune and month.

The national roll-up and where to act read a period's evaluations of a whole province or of
the country: three million a year, sixty million answers. These two tables hold what those
pages count, per **unit** (the branch's parent: its commune) and **month** (the first day):

- ``evaluation_tally``: evaluations still standing (no correction replaced them), the
  compliant ones, and the branches with at least one of them in the month;
- ``answer_tally``: per checklist item, the standing evaluations' failed and partly met
  answers.

Only active branches count, as on the pages (a deactivated branch drops out, a reactivated
one comes back). They are kept by **triggers**, in the statement (so the transaction) that
writes an evaluation, an answer, a re-judged outcome or a moved or (de)activated branch:
every writer — the sync API, the web form, re-judging, imports, the demo, a manual fix in
SQL — keeps them current, and no nightly job can lag. Evaluations are never deleted and
their branch and meeting date never change (a correction is a new row); the triggers rely
on it. ``tally_triggers.rebuild_statements`` counts both tables again from scratch (the
migration that made them; a bulk load made with the triggers off; ``flask tallies``).

Concurrent batches on PostgreSQL do not deadlock on the rows: each statement trigger upserts
its rows in key order, and a batch takes its months' ``evaluation_tally`` rows (evaluations
first) before their ``answer_tally`` rows (answers after). Re-judging, which updates rows
one statement at a time, can still meet a batch crosswise; PostgreSQL then cancels one of
the two, and the phone sends its batch again.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from coso.extensions import db
from coso.models.tally_triggers import trigger_statements
from coso.models.visit_days import visit_trigger_statements


class EvaluationTally(db.Model):
    """A commune's standing evaluations of one month (see the module's docstring)."""

    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), primary_key=True)
    month: Mapped[date] = mapped_column(primary_key=True)
    evaluations: Mapped[int] = mapped_column(default=0)
    compliant: Mapped[int] = mapped_column(default=0)
    branches: Mapped[int] = mapped_column(default=0)


class AnswerTally(db.Model):
    """A commune's failed and partly met answers to one item in one month."""

    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), primary_key=True)
    month: Mapped[date] = mapped_column(primary_key=True)
    item_code: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    fail: Mapped[int] = mapped_column(default=0)
    partial: Mapped[int] = mapped_column(default=0)


def _create_triggers(target: sa.MetaData, connection: sa.Connection, **_: object) -> None:
    dialect = connection.dialect.name
    for statement in trigger_statements(dialect) + visit_trigger_statements(dialect):
        connection.exec_driver_sql(statement)


# ``create_all`` (the tests, a fresh demo) makes the triggers once every table exists;
# the migration that added the tables makes them on a migrated database.
sa.event.listen(db.metadata, "after_create", _create_triggers)
