"""``visit_day_tally``: how many one-day visits each person logged on each date.

The 1+2 ledger counts a person's days at the grassroots in a year as distinct dates. Over
the whole country that was a count of distinct dates over three million visits a year on
every request to ``/national``; here each (person, date) is one row whose ``visits`` is how
many one-day visits (start date = end date) fall on it, so a person's days in a year are
the rows with ``visits > 0`` in that year. Visits of several days are few and still counted
from the visits themselves (``coso.visits.rules.count_visit_days``).

Kept by triggers as the evaluation tallies are (``coso.models.tallies``): a visit inserted,
deleted (a corrected evaluation's visit day) or changed moves its date's count in the same
statement. SQLite: row triggers; PostgreSQL: statement triggers over transition tables,
one grouped upsert in key order.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from coso.extensions import db


class VisitDayTally(db.Model):
    """One person's one-day visits on one date."""

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    visits: Mapped[int] = mapped_column(default=0)


_INTO = "INSERT INTO visit_day_tally (user_id, day, visits)"
_UPSERT = (
    "ON CONFLICT (user_id, day) DO UPDATE SET visits = visit_day_tally.visits + excluded.visits"
)
_ONE_DAY = "start_date = end_date"
_NAMES = ("tally_visit_insert", "tally_visit_delete", "tally_visit_update")


def _sqlite() -> list[str]:
    def move(ref: str, sign: str) -> str:
        return (
            f"{_INTO} SELECT {ref}.user_id, {ref}.start_date, {sign}1"
            f" WHERE {ref}.start_date = {ref}.end_date {_UPSERT}"
        )

    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in ("user_id", "start_date", "end_date"))
    return [
        f"CREATE TRIGGER tally_visit_insert AFTER INSERT ON visit FOR EACH ROW"
        f" BEGIN {move('NEW', '')}; END",
        f"CREATE TRIGGER tally_visit_delete AFTER DELETE ON visit FOR EACH ROW"
        f" BEGIN {move('OLD', '-')}; END",
        "CREATE TRIGGER tally_visit_update AFTER UPDATE OF user_id, start_date, end_date"
        f" ON visit FOR EACH ROW WHEN {changed}"
        f" BEGIN {move('OLD', '-')}; {move('NEW', '')}; END",
    ]


def _postgresql() -> list[str]:
    def upsert(rows: str) -> str:
        return (
            f"{_INTO} SELECT user_id, start_date, SUM(n) FROM ({rows}) d"
            f" GROUP BY user_id, start_date ORDER BY user_id, start_date {_UPSERT}"
        )

    def side(table: str, sign: str) -> str:
        return f"SELECT user_id, start_date, {sign}1 AS n FROM {table} WHERE {_ONE_DAY}"

    bodies = {
        "tally_visit_insert": ("INSERT", "REFERENCING NEW TABLE AS new_rows", side("new_rows", "")),
        "tally_visit_delete": (
            "DELETE",
            "REFERENCING OLD TABLE AS old_rows",
            side("old_rows", "-"),
        ),
        "tally_visit_update": (
            "UPDATE",
            "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
            f"{side('old_rows', '-')} UNION ALL {side('new_rows', '')}",
        ),
    }
    out = []
    for name, (event, transition, rows) in bodies.items():
        out.append(
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"BEGIN\n  {upsert(rows)};\n  RETURN NULL;\nEND $$"
        )
        out.append(
            f"CREATE TRIGGER {name} AFTER {event} ON visit {transition}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
        )
    return out


def visit_trigger_statements(dialect: str) -> list[str]:
    """The DDL that creates the visit triggers on ``dialect``."""
    return _postgresql() if dialect == "postgresql" else _sqlite()


def drop_visit_trigger_statements(dialect: str) -> list[str]:
    if dialect == "postgresql":
        return [f"DROP FUNCTION IF EXISTS {name}() CASCADE" for name in _NAMES]
    return [f"DROP TRIGGER IF EXISTS {name}" for name in _NAMES]


def rebuild_visit_statements() -> list[str]:
    """The table counted again from the visits (the same SQL on both databases)."""
    return [
        "DELETE FROM visit_day_tally",
        f"{_INTO} SELECT user_id, start_date, COUNT(*) FROM visit WHERE {_ONE_DAY}"
        " GROUP BY user_id, start_date",
    ]
