"""The SQL that keeps ``evaluation_tally`` and ``answer_tally`` (``coso.models.tallies``).

Two databases, two shapes of trigger, one set of counts:

- **SQLite** fires a row trigger right after each row, so a row's trigger sees the rows
  before it and none after: counts move by deltas (+1 for a new evaluation, −1 for the one
  it corrects, ±1 to a month's branches when the branch had no other standing one there).
- **PostgreSQL** fires row triggers only once the whole statement is done, so a delta of "the
  branch had no other one" would be wrong inside a batch. Its triggers are per statement,
  read the rows the statement wrote from transition tables and add grouped deltas in one
  upsert *in key order* (two concurrent batches cannot deadlock); a month's branches move by
  each touched (branch, month) evaluated after the statement less before it.

Counted: evaluations no correction replaced (*standing*), of active branches (kind
``branch``), under their parent. Evaluations are never deleted and never change branch or
meeting date; only their judgement (``compliant``) and an answer's value change.
"""

from __future__ import annotations

from collections.abc import Callable

_INTO_MONTH = "INSERT INTO evaluation_tally (unit_id, month, evaluations, compliant, branches)"
_INTO_ITEM = "INSERT INTO answer_tally (unit_id, month, item_code, fail, partial)"
_UPSERT_MONTH = (
    "ON CONFLICT (unit_id, month) DO UPDATE SET"
    " evaluations = evaluation_tally.evaluations + excluded.evaluations,"
    " compliant = evaluation_tally.compliant + excluded.compliant,"
    " branches = evaluation_tally.branches + excluded.branches"
)
_UPSERT_ITEM = (
    "ON CONFLICT (unit_id, month, item_code) DO UPDATE SET"
    " fail = answer_tally.fail + excluded.fail,"
    " partial = answer_tally.partial + excluded.partial"
)
_FAILING = "IN ('fail', 'partial')"


def _standing(ev: str) -> str:
    return f"NOT EXISTS (SELECT 1 FROM evaluation c WHERE c.supersedes_id = {ev}.id)"


def _counted(unit: str) -> str:
    return f"{unit}.kind = 'branch' AND {unit}.active AND {unit}.parent_id IS NOT NULL"


class _Dialect:
    """The few expressions SQLite and PostgreSQL spell differently."""

    def __init__(self, name: str) -> None:
        self.pg = name == "postgresql"

    def month(self, day: str) -> str:
        if self.pg:
            return f"CAST(date_trunc('month', {day}) AS date)"
        return f"date({day}, 'start of month')"

    def next_month(self, day: str) -> str:
        if self.pg:
            return f"CAST(date_trunc('month', {day}) + interval '1 month' AS date)"
        return f"date({day}, 'start of month', '+1 month')"

    def num(self, condition: str) -> str:
        """1 when ``condition`` holds, else 0."""
        return f"CAST(({condition}) AS integer)" if self.pg else f"({condition})"

    def value(self, answer: str, value: str) -> str:
        return self.num(f"{answer}.value = '{value}'")


_SQLITE = _Dialect("sqlite")
_PG = _Dialect("postgresql")


# --- SQLite: row triggers, deltas -------------------------------------------------------


def _other_standing(ev: str, *excluded: str) -> str:
    """Another standing evaluation of ``ev``'s branch in ``ev``'s month (not ``excluded``)."""
    d = _SQLITE
    others = " ".join(f"AND o.id <> {x}" for x in excluded)
    return (
        f"EXISTS (SELECT 1 FROM evaluation o WHERE o.branch_id = {ev}.branch_id {others}"
        f" AND o.meeting_date >= {d.month(f'{ev}.meeting_date')}"
        f" AND o.meeting_date < {d.next_month(f'{ev}.meeting_date')} AND {_standing('o')})"
    )


def _sqlite_evaluation_insert() -> list[str]:
    """A new evaluation counts; the one it corrects (``supersedes_id``) counts no more."""
    d = _SQLITE
    month_x = d.month("x.meeting_date")
    return [
        f"{_INTO_MONTH} SELECT u.parent_id, {d.month('NEW.meeting_date')}, 1, NEW.compliant,"
        f" NOT {_other_standing('NEW', 'NEW.id')}"
        f" FROM unit u WHERE u.id = NEW.branch_id AND {_counted('u')} {_UPSERT_MONTH}",
        f"{_INTO_MONTH} SELECT u.parent_id, {month_x}, -1, -x.compliant,"
        f" -(NOT {_other_standing('x', 'x.id', 'NEW.id')})"
        " FROM evaluation x JOIN unit u ON u.id = x.branch_id"
        f" WHERE x.id = NEW.supersedes_id AND {_counted('u')} {_UPSERT_MONTH}",
        f"{_INTO_ITEM} SELECT u.parent_id, {month_x}, a.item_code,"
        f" -SUM({d.value('a', 'fail')}), -SUM({d.value('a', 'partial')})"
        " FROM evaluation_answer a JOIN evaluation x ON x.id = a.evaluation_id"
        " JOIN unit u ON u.id = x.branch_id"
        f" WHERE x.id = NEW.supersedes_id AND a.value {_FAILING} AND {_counted('u')}"
        f" GROUP BY u.parent_id, {month_x}, a.item_code {_UPSERT_ITEM}",
    ]


def _sqlite_compliant_update() -> list[str]:
    """Re-judging changed a standing evaluation's compliance."""
    return [
        f"{_INTO_MONTH} SELECT u.parent_id, {_SQLITE.month('NEW.meeting_date')}, 0,"
        f" NEW.compliant - OLD.compliant, 0 FROM unit u"
        f" WHERE u.id = NEW.branch_id AND {_counted('u')} AND {_standing('NEW')} {_UPSERT_MONTH}"
    ]


def _sqlite_answer(old: str | None) -> list[str]:
    """An answer written (``old`` None) or changed: its failing counts move."""
    d = _SQLITE

    def part(value: str) -> str:
        gained = d.value("NEW", value)
        return f"{gained} - {d.value(old, value)}" if old else gained

    return [
        f"{_INTO_ITEM} SELECT u.parent_id, {d.month('e.meeting_date')}, NEW.item_code,"
        f" {part('fail')}, {part('partial')}"
        " FROM evaluation e JOIN unit u ON u.id = e.branch_id"
        f" WHERE e.id = NEW.evaluation_id AND {_counted('u')} AND {_standing('e')}"
        f" {_UPSERT_ITEM}"
    ]


def _sqlite_branch(ref: str, sign: str) -> list[str]:
    """All of branch ``ref``'s standing evaluations, added (``""``) to or taken (``"-"``)
    from its parent's months (a branch moved, deactivated or brought back)."""
    d = _SQLITE
    month = d.month("e.meeting_date")
    return [
        f"{_INTO_MONTH} SELECT {ref}.parent_id, {month}, {sign}COUNT(*),"
        f" {sign}SUM(e.compliant), {sign}1"
        f" FROM evaluation e WHERE e.branch_id = {ref}.id AND {_standing('e')}"
        f" AND {_counted(ref)} GROUP BY {month} {_UPSERT_MONTH}",
        f"{_INTO_ITEM} SELECT {ref}.parent_id, {month}, a.item_code,"
        f" {sign}SUM({d.value('a', 'fail')}), {sign}SUM({d.value('a', 'partial')})"
        " FROM evaluation_answer a JOIN evaluation e ON e.id = a.evaluation_id"
        f" WHERE e.branch_id = {ref}.id AND a.value {_FAILING}"
        f" AND {_standing('e')} AND {_counted(ref)}"
        f" GROUP BY {month}, a.item_code {_UPSERT_ITEM}",
    ]


def _unit_changed(old: str, new: str) -> str:
    columns = ("parent_id", "active", "kind")
    return " OR ".join(f"{old}.{c} IS DISTINCT FROM {new}.{c}" for c in columns)


#: SQLite: (name, event, table, condition, statements).
_SQLITE_TRIGGERS: tuple[tuple[str, str, str, str | None, Callable[[], list[str]]], ...] = (
    ("tally_evaluation_insert", "INSERT", "evaluation", None, _sqlite_evaluation_insert),
    (
        "tally_evaluation_compliant",
        "UPDATE OF compliant",
        "evaluation",
        "OLD.compliant IS NOT NEW.compliant",
        _sqlite_compliant_update,
    ),
    (
        "tally_answer_insert",
        "INSERT",
        "evaluation_answer",
        f"NEW.value {_FAILING}",
        lambda: _sqlite_answer(None),
    ),
    (
        "tally_answer_update",
        "UPDATE OF value",
        "evaluation_answer",
        "OLD.value IS NOT NEW.value",
        lambda: _sqlite_answer("OLD"),
    ),
    (
        "tally_unit_update",
        "UPDATE OF parent_id, active, kind",
        "unit",
        _unit_changed("OLD", "NEW").replace("IS DISTINCT FROM", "IS NOT"),
        lambda: [*_sqlite_branch("OLD", "-"), *_sqlite_branch("NEW", "")],
    ),
)


# --- PostgreSQL: statement triggers over transition tables ------------------------------


def _pg_month_upsert(deltas: str) -> str:
    """Add ``deltas`` (rows of unit_id, month, n, ok, b) to the months, in key order."""
    return (
        f"{_INTO_MONTH} SELECT unit_id, month, SUM(n), SUM(ok), SUM(b) FROM ({deltas}) d"
        f" GROUP BY unit_id, month ORDER BY unit_id, month {_UPSERT_MONTH}"
    )


def _pg_item_upsert(deltas: str) -> str:
    """Add ``deltas`` (rows of unit_id, month, item_code, fail, partial), in key order."""
    return (
        f"{_INTO_ITEM} SELECT unit_id, month, item_code, SUM(fail), SUM(partial)"
        f" FROM ({deltas}) d GROUP BY unit_id, month, item_code"
        f" ORDER BY unit_id, month, item_code {_UPSERT_ITEM}"
    )


def _pg_evaluation_insert() -> list[str]:
    d = _PG
    new = (
        f"SELECT u.parent_id AS unit_id, {d.month('i.meeting_date')} AS month, 1 AS n,"
        f" {d.num('i.compliant')} AS ok, 0 AS b FROM inserted i"
        f" JOIN unit u ON u.id = i.branch_id WHERE {_counted('u')}"
    )
    corrected = (
        f"SELECT u.parent_id AS unit_id, {d.month('x.meeting_date')} AS month, -1 AS n,"
        f" -{d.num('x.compliant')} AS ok, 0 AS b FROM inserted i"
        " JOIN evaluation x ON x.id = i.supersedes_id JOIN unit u ON u.id = x.branch_id"
        f" WHERE {_counted('u')}"
    )
    # Each (branch, month) the statement touched: evaluated after it, and before it (an
    # evaluation not inserted by it and corrected by none other than it).
    pairs = (
        f"SELECT DISTINCT branch_id, month FROM (SELECT i.branch_id, {d.month('i.meeting_date')}"
        " AS month FROM inserted i UNION ALL SELECT x.branch_id,"
        f" {d.month('x.meeting_date')} FROM inserted i"
        " JOIN evaluation x ON x.id = i.supersedes_id) p"
    )
    in_month = (
        "o.branch_id = t.branch_id AND o.meeting_date >= t.month"
        f" AND o.meeting_date < {d.next_month('t.month')}"
    )
    after = f"EXISTS (SELECT 1 FROM evaluation o WHERE {in_month} AND {_standing('o')})"
    before = (
        f"EXISTS (SELECT 1 FROM evaluation o WHERE {in_month}"
        " AND o.id NOT IN (SELECT id FROM inserted) AND NOT EXISTS (SELECT 1 FROM evaluation c"
        " WHERE c.supersedes_id = o.id AND c.id NOT IN (SELECT id FROM inserted)))"
    )
    branches = (
        f"SELECT u.parent_id AS unit_id, t.month AS month, 0 AS n, 0 AS ok,"
        f" {d.num(after)} - {d.num(before)} AS b FROM ({pairs}) t"
        f" JOIN unit u ON u.id = t.branch_id WHERE {_counted('u')}"
    )
    their_answers = (
        f"SELECT u.parent_id AS unit_id, {d.month('x.meeting_date')} AS month, a.item_code,"
        f" -{d.value('a', 'fail')} AS fail, -{d.value('a', 'partial')} AS partial"
        " FROM inserted i JOIN evaluation x ON x.id = i.supersedes_id"
        " JOIN evaluation_answer a ON a.evaluation_id = x.id JOIN unit u ON u.id = x.branch_id"
        f" WHERE a.value {_FAILING} AND {_counted('u')}"
    )
    return [
        _pg_month_upsert(f"{new} UNION ALL {corrected} UNION ALL {branches}"),
        _pg_item_upsert(their_answers),
    ]


def _pg_evaluation_update() -> list[str]:
    d = _PG
    return [
        _pg_month_upsert(
            f"SELECT u.parent_id AS unit_id, {d.month('n.meeting_date')} AS month, 0 AS n,"
            f" {d.num('n.compliant')} - {d.num('o.compliant')} AS ok, 0 AS b"
            " FROM new_rows n JOIN old_rows o ON o.id = n.id JOIN unit u ON u.id = n.branch_id"
            f" WHERE o.compliant IS DISTINCT FROM n.compliant AND {_counted('u')}"
            f" AND {_standing('n')}"
        )
    ]


def _pg_answers(rows: str, old: bool) -> list[str]:
    d = _PG

    def part(value: str) -> str:
        gained = d.value("n", value)
        return f"{gained} - {d.value('o', value)}" if old else gained

    join = (
        " JOIN old_rows o ON o.evaluation_id = n.evaluation_id AND o.item_code = n.item_code"
        if old
        else ""
    )
    changed = "o.value IS DISTINCT FROM n.value" if old else f"n.value {_FAILING}"
    return [
        _pg_item_upsert(
            f"SELECT u.parent_id AS unit_id, {d.month('e.meeting_date')} AS month, n.item_code,"
            f" {part('fail')} AS fail, {part('partial')} AS partial FROM {rows} n{join}"
            " JOIN evaluation e ON e.id = n.evaluation_id JOIN unit u ON u.id = e.branch_id"
            f" WHERE {changed} AND {_counted('u')} AND {_standing('e')}"
        )
    ]


def _pg_unit_update() -> list[str]:
    d = _PG
    moved = f"old_rows o JOIN new_rows w ON w.id = o.id AND ({_unit_changed('o', 'w')})"
    month = d.month("e.meeting_date")
    months, items = [], []
    for ref, sign in (("o", "-"), ("w", "")):
        months.append(  # a row per (branch, month): its evaluations, and 1 branch
            f"SELECT {ref}.parent_id AS unit_id, {month} AS month, {sign}COUNT(*) AS n,"
            f" {sign}SUM({d.num('e.compliant')}) AS ok, {sign}1 AS b FROM {moved}"
            f" JOIN evaluation e ON e.branch_id = o.id WHERE {_counted(ref)} AND {_standing('e')}"
            f" GROUP BY {ref}.parent_id, o.id, {month}"
        )
        items.append(
            f"SELECT {ref}.parent_id AS unit_id, {month} AS month, a.item_code,"
            f" {sign}{d.value('a', 'fail')} AS fail, {sign}{d.value('a', 'partial')} AS partial"
            f" FROM {moved} JOIN evaluation e ON e.branch_id = o.id"
            " JOIN evaluation_answer a ON a.evaluation_id = e.id"
            f" WHERE a.value {_FAILING} AND {_counted(ref)} AND {_standing('e')}"
        )
    return [
        _pg_month_upsert(" UNION ALL ".join(months)),
        _pg_item_upsert(" UNION ALL ".join(items)),
    ]


_NEW = "REFERENCING NEW TABLE AS inserted"
_BOTH = "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"
#: PostgreSQL: (name, event, table, transition tables, statements).
_PG_TRIGGERS: tuple[tuple[str, str, str, str, Callable[[], list[str]]], ...] = (
    ("tally_evaluation_insert", "INSERT", "evaluation", _NEW, _pg_evaluation_insert),
    ("tally_evaluation_update", "UPDATE", "evaluation", _BOTH, _pg_evaluation_update),
    (
        "tally_answer_insert",
        "INSERT",
        "evaluation_answer",
        _NEW,
        lambda: _pg_answers("inserted", old=False),
    ),
    (
        "tally_answer_update",
        "UPDATE",
        "evaluation_answer",
        _BOTH,
        lambda: _pg_answers("new_rows", old=True),
    ),
    ("tally_unit_update", "UPDATE", "unit", _BOTH, _pg_unit_update),
)


def trigger_statements(dialect: str) -> list[str]:
    """The DDL that creates the triggers on ``dialect`` (``sqlite`` or ``postgresql``)."""
    out = []
    if dialect != "postgresql":
        for name, event, table, condition, statements in _SQLITE_TRIGGERS:
            body = "".join(f"  {sql};\n" for sql in statements())
            when = f" WHEN {condition}" if condition else ""
            out.append(
                f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW{when}\n"
                f"BEGIN\n{body}END"
            )
        return out
    for name, event, table, transition, statements in _PG_TRIGGERS:
        body = "".join(f"  {sql};\n" for sql in statements())
        out.append(
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"BEGIN\n{body}  RETURN NULL;\nEND $$"
        )
        out.append(
            f"CREATE TRIGGER {name} AFTER {event} ON {table} {transition}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
        )
    return out


def drop_trigger_statements(dialect: str) -> list[str]:
    """The DDL that removes the triggers (on PostgreSQL, the functions and with them their
    triggers: a restore that dropped the tables must not find the functions there)."""
    if dialect != "postgresql":
        return [f"DROP TRIGGER IF EXISTS {t[0]}" for t in _SQLITE_TRIGGERS]
    return [f"DROP FUNCTION IF EXISTS {t[0]}() CASCADE" for t in _PG_TRIGGERS]


def rebuild_statements(dialect: str) -> list[str]:
    """Both tables counted again from the evaluations (the same counts the triggers keep)."""
    d = _Dialect(dialect)
    month = d.month("e.meeting_date")
    where = f"WHERE {_counted('u')} AND {_standing('e')}"
    return [
        "DELETE FROM answer_tally",
        "DELETE FROM evaluation_tally",
        f"{_INTO_MONTH} SELECT u.parent_id, {month}, COUNT(*), SUM({d.num('e.compliant')}),"
        " COUNT(DISTINCT e.branch_id) FROM evaluation e JOIN unit u ON u.id = e.branch_id"
        f" {where} GROUP BY u.parent_id, {month}",
        f"{_INTO_ITEM} SELECT u.parent_id, {month}, a.item_code,"
        f" SUM({d.value('a', 'fail')}), SUM({d.value('a', 'partial')})"
        " FROM evaluation_answer a JOIN evaluation e ON e.id = a.evaluation_id"
        f" JOIN unit u ON u.id = e.branch_id {where} AND a.value {_FAILING}"
        f" GROUP BY u.parent_id, {month}, a.item_code",
    ]
