"""The province's unit spreadsheet (CSV or XLSX): check every row, then apply all or nothing.

The same columns are written by :func:`export_rows`, so a tree exported,
edited in Excel and imported again round-trips. A column left out of the file
leaves that field alone; a column present with an empty cell clears it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from flask_babel import gettext as _

from coso import audit, clock
from coso.extensions import db
from coso.models import Evaluation, Unit
from coso.models.units import UNIT_KINDS, SecretaryTerm, place

REQUIRED = ("code", "name", "kind", "parent_code")
OPTIONAL = ("secretary_name", "secretary_since", "secretary_party_member", "member_count")
COLUMNS = REQUIRED + OPTIONAL
MAX_ROWS = 20_000
TRUE_WORDS = {"1", "x", "yes", "true", "có", "co", "đảng viên", "dang vien"}
FALSE_WORDS = {"", "0", "no", "false", "không", "khong"}
#: Kinds as a Vietnamese spreadsheet may write them.
KIND_ALIASES = {
    "tỉnh đoàn": "province",
    "thành đoàn": "province",
    "đoàn khối": "bloc",
    "đoàn xã": "commune",
    "đoàn phường": "ward",
    "đoàn trường": "school",
    "doanh nghiệp": "enterprise",
    "cơ quan": "agency",
    "liên chi đoàn": "interbranch",
    "chi đoàn": "branch",
}
#: What the audit log keeps of a unit before and after a change.
AUDIT_FIELDS = ("code", "name", "kind", "parent_code", "active", *OPTIONAL)
CREATE, UPDATE, UNCHANGED, ERROR = "create", "update", "unchanged", "error"


class ImportError_(Exception):
    """The file as a whole cannot be read (not a per-row problem)."""


@dataclass
class RowResult:
    """One row's fate: ``create``, ``update``, ``unchanged`` or ``error``, with the reasons."""

    number: int
    code: str
    action: str = ""
    errors: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class ImportReport:
    rows: list[RowResult]

    @property
    def errors(self) -> list[RowResult]:
        return [row for row in self.rows if row.errors]

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.errors

    def count(self, action: str) -> int:
        return sum(row.action == action for row in self.rows)


def read_rows(
    filename: str,
    stream: IO[bytes],
    required: Sequence[str] = REQUIRED,
    max_rows: int = MAX_ROWS,
) -> list[dict[str, str]]:
    """Rows of a CSV or XLSX file as dicts keyed by lower-case header.

    Blank rows are kept as empty dicts so that row numbers match the spreadsheet's.

    :raise ImportError_: unknown format, unreadable file, or missing columns.
    """
    suffix = Path(filename).suffix.lower()
    if suffix == ".csv":
        raw = stream.read()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ImportError_(_("The CSV file must be encoded as UTF-8.")) from exc
        if "\x00" in text:
            raise ImportError_(_("The CSV file contains a NUL character and cannot be read."))
        try:
            table = [list(row) for row in csv.reader(io.StringIO(text))]
        except csv.Error as exc:
            raise ImportError_(_("The CSV file could not be read.")) from exc
    elif suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            # data_only: a formula's cached value, never the formula text.
            book = load_workbook(io.BytesIO(stream.read()), read_only=True, data_only=True)
            sheet = book.worksheets[0]
            table = [[_cell(value) for value in row] for row in sheet.iter_rows(values_only=True)]
            book.close()
        except Exception as exc:  # openpyxl raises many kinds on a corrupt file
            raise ImportError_(_("The spreadsheet could not be opened.")) from exc
    else:
        raise ImportError_(_("Use a .csv or .xlsx file."))
    if not table:
        raise ImportError_(_("The file is empty."))
    header = [str(name or "").strip().lower() for name in table[0]]
    missing = [name for name in required if name not in header]
    if missing:
        raise ImportError_(_("Missing columns: %(cols)s", cols=", ".join(missing)))
    if len(table) - 1 > max_rows:
        raise ImportError_(_("At most %(n)s rows per file.", n=max_rows))
    rows = []
    for values in table[1:]:
        if not any(str(v or "").strip() for v in values):
            rows.append({})  # keep numbering; blank rows are skipped later
            continue
        rows.append(
            {
                name: _unquote(str(values[i] or "").strip()) if i < len(values) else ""
                for i, name in enumerate(header)
                if name
            }
        )
    return rows


def _unquote(text: str) -> str:
    """Undo the apostrophe an export puts before a cell that looks like a formula."""
    if text.startswith("'") and text[1:2] in ("=", "+", "-", "@"):
        return text[1:]
    return text


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def parse_date(text: str) -> date:
    """A date as spreadsheets in Vietnam write it: ISO or day/month/year."""
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def _units_in(root: Unit | None) -> dict[str, Unit]:
    query = sa.select(Unit)
    if root is not None:
        query = query.where(root.subtree_clause())
    return {unit.code: unit for unit in db.session.scalars(query)}


def _codes_outside(codes: set[str], inside: dict[str, Unit]) -> set[str]:
    """Which of ``codes`` belong to units outside ``inside`` (checked in chunks)."""
    wanted = sorted(code for code in codes if code and code not in inside)
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found.update(db.session.scalars(sa.select(Unit.code).where(Unit.code.in_(chunk))))
    return found


def current_values(unit: Unit, parent_code: str | None) -> dict[str, Any]:
    """A unit's fields in the shape :func:`check` gives a row's values."""
    return {
        "name": unit.name,
        "kind": unit.kind,
        "parent_code": parent_code or "",
        "secretary_name": unit.secretary_name,
        "secretary_since": unit.secretary_since,
        "secretary_party_member": unit.secretary_party_member,
        "member_count": unit.member_count,
    }


def _row_values(row: dict[str, str], errors: list[str]) -> dict[str, Any]:
    """The row's fields as typed values; optional columns only when the file has them."""
    kind = row.get("kind", "").strip().lower()
    values: dict[str, Any] = {
        "name": " ".join(row.get("name", "").split()),
        "kind": KIND_ALIASES.get(kind, kind),
        "parent_code": row.get("parent_code", ""),
    }
    name = values["name"]
    if not name:
        errors.append(_("name is empty"))
    elif len(name) > 200:
        errors.append(_("name is longer than 200 characters"))
    if values["kind"] not in UNIT_KINDS:
        errors.append(_("kind must be one of: %(kinds)s", kinds=", ".join(UNIT_KINDS)))
    if "secretary_name" in row:
        secretary = " ".join(row["secretary_name"].split())
        if len(secretary) > 120:
            errors.append(_("secretary_name is longer than 120 characters"))
        values["secretary_name"] = secretary or None
    if "secretary_since" in row:
        since = row["secretary_since"]
        try:
            values["secretary_since"] = parse_date(since) if since else None
        except ValueError:
            errors.append(_("secretary_since must be a date (YYYY-MM-DD or DD/MM/YYYY)"))
        else:
            if values["secretary_since"] and values["secretary_since"] > clock.today():
                errors.append(_("secretary_since is in the future"))
    if "secretary_party_member" in row:
        party = row["secretary_party_member"].lower()
        if party in TRUE_WORDS:
            values["secretary_party_member"] = True
        elif party in FALSE_WORDS:
            values["secretary_party_member"] = False if party else None
        else:
            errors.append(_("secretary_party_member must be yes or no"))
    if "member_count" in row:
        count = row["member_count"]
        if not count:
            values["member_count"] = None
        elif not count.isdecimal() or not 0 <= int(count) <= 100_000:
            errors.append(_("member_count must be a whole number from 0 to 100000"))
        else:
            values["member_count"] = int(count)
    return values


def check(rows: list[dict[str, str]], root: Unit | None) -> ImportReport:
    """Validate every row against the database and each other; change nothing.

    Row numbers count the header as row 1, as a spreadsheet shows them.
    Parents must exist already or come earlier in the file, inside ``root``'s
    subtree. With no ``root`` (the command line) the whole tree is open and a
    row with an empty ``parent_code`` creates a top-level unit.
    """
    existing = _units_in(root)
    code_by_id = {unit.id: code for code, unit in existing.items()}
    outside = _codes_outside({row.get("code", "") for row in rows if row}, existing)
    seen: dict[str, int] = {}
    kind_in_file: dict[str, str] = {}
    results: list[RowResult] = []
    for index, row in enumerate(rows, start=2):
        if not row:
            continue
        code = row.get("code", "")
        result = RowResult(number=index, code=code)
        errors = result.errors
        if not code:
            errors.append(_("code is empty"))
        elif len(code) > 40 or any(ch.isspace() for ch in code):
            errors.append(_("code must be at most 40 characters without spaces"))
        elif code in seen:
            errors.append(_("code %(code)s repeats row %(row)s", code=code, row=seen[code]))
        values = _row_values(row, errors)
        result.values = values
        unit = existing.get(code)
        if code in outside:
            errors.append(_("code %(code)s belongs to a unit outside your area", code=code))
        if root is not None and code == root.code:
            # The top of the area comes back in every export: fine as long as it is unchanged.
            parent_code = code_by_id.get(root.parent_id or 0) or (
                root.parent.code if root.parent else ""
            )
            now = current_values(root, parent_code)
            if any(now[key] != value for key, value in values.items()):
                errors.append(_("the top unit of your area cannot be changed by import"))
            result.action = ERROR if errors else UNCHANGED
        else:
            _check_parent(values, unit, code, root, existing, seen, kind_in_file, errors)
            if errors:
                result.action = ERROR
            elif unit is None:
                result.action = CREATE
            else:
                now = current_values(unit, code_by_id.get(unit.parent_id or 0, ""))
                same = all(now[key] == value for key, value in values.items())
                result.action = UNCHANGED if same else UPDATE
        if code and code not in seen:
            seen[code] = index
            kind_in_file[code] = values["kind"]
        results.append(result)
    _check_cycles(results, existing, code_by_id)
    _check_kinds(results, existing, code_by_id)
    return ImportReport(rows=results)


def _check_parent(
    values: dict[str, Any],
    unit: Unit | None,
    code: str,
    root: Unit | None,
    existing: dict[str, Unit],
    seen: dict[str, int],
    kind_in_file: dict[str, str],
    errors: list[str],
) -> None:
    parent_code = values["parent_code"]
    if not parent_code:
        if root is not None:
            errors.append(_("parent_code is empty"))
        return
    if parent_code == code:
        errors.append(_("a unit cannot be its own parent"))
        return
    parent = existing.get(parent_code)
    if parent is None and parent_code not in seen:
        errors.append(
            _("parent %(code)s is not in your area nor earlier in the file", code=parent_code)
        )
        return
    parent_kind = kind_in_file.get(parent_code) or (parent.kind if parent else "")
    if parent_kind == "branch":
        errors.append(
            _("parent %(code)s is a branch; a branch has no units under it", code=parent_code)
        )
    moving_in = unit is None or parent is None or unit.parent_id != parent.id
    if parent is not None and not parent.active and moving_in:
        errors.append(_("parent %(code)s is deactivated", code=parent_code))


def _check_cycles(
    results: list[RowResult], existing: dict[str, Unit], code_by_id: dict[int, str]
) -> None:
    """A move may not put a unit under its own descendant."""
    parent_of = {code: code_by_id.get(unit.parent_id or 0) for code, unit in existing.items()}
    for row in results:
        if not row.errors:
            parent_of[row.code] = row.values["parent_code"] or None
    for row in results:
        if row.errors:
            continue
        walk, steps = row.values["parent_code"] or None, 0
        while walk is not None and steps <= len(parent_of):
            if walk == row.code:
                row.errors.append(_("moving this unit would put it under itself"))
                row.action = ERROR
                break
            walk, steps = parent_of.get(walk), steps + 1


def _check_kinds(
    results: list[RowResult], existing: dict[str, Unit], code_by_id: dict[int, str]
) -> None:
    """A unit with units under it cannot become a branch; an evaluated branch stays a branch."""
    rows = {row.code: row for row in results if not row.errors}
    becoming_branch = {
        code
        for code, row in rows.items()
        if row.values["kind"] == "branch" and code in existing and existing[code].kind != "branch"
    }
    if becoming_branch:
        final_parent = {
            code: code_by_id.get(unit.parent_id or 0) for code, unit in existing.items()
        }
        final_parent.update({code: row.values["parent_code"] for code, row in rows.items()})
        for parent_code in set(final_parent.values()) & becoming_branch:
            row = rows[parent_code]
            row.errors.append(_("units are under it, so it cannot become a branch"))
            row.action = ERROR
    leaving_branch = {
        existing[code].id: row
        for code, row in rows.items()
        if code in existing and existing[code].kind == "branch" and row.values["kind"] != "branch"
    }
    if leaving_branch:
        evaluated = set(
            db.session.scalars(
                sa.select(Evaluation.branch_id)
                .where(Evaluation.branch_id.in_(list(leaving_branch)))
                .distinct()
            )
        )
        for branch_id in evaluated:
            row = leaving_branch[branch_id]
            row.errors.append(_("this branch has evaluations, so its kind cannot change"))
            row.action = ERROR


def apply(report: ImportReport, root: Unit | None) -> tuple[int, int]:
    """Write a clean report in the current transaction; returns (created, updated).

    Every unit created or changed gets its own audit event with before/after.
    """
    if not report.ok:
        raise ValueError("refusing to apply a report with errors")
    units = _units_in(root)
    code_by_id = {unit.id: code for code, unit in units.items()}
    created = updated = 0
    for row in report.rows:
        if row.action == UNCHANGED:
            continue
        values = dict(row.values)
        parent_code = values.pop("parent_code")
        parent = units[parent_code] if parent_code else None
        unit = units.get(row.code)
        if unit is None:
            unit = Unit(code=row.code, **values)
            place(unit, parent)
            units[row.code] = unit
            code_by_id[unit.id] = unit.code
            note_secretary(unit, None)
            audit.record(
                "unit.create",
                obj=unit,
                unit_id=unit.id,
                via="import",
                after=audit_snapshot(unit, parent_code),
            )
            created += 1
            continue
        before = audit_snapshot(unit, code_by_id.get(unit.parent_id or 0))
        previous_secretary = unit.secretary_name
        for key, value in values.items():
            setattr(unit, key, value)
        if unit.parent_id != (parent.id if parent else None):
            move(unit, parent)
        note_secretary(unit, previous_secretary)
        after = audit_snapshot(unit, parent_code)
        audit.record("unit.update", obj=unit, unit_id=unit.id, via="import", **diff(before, after))
        updated += 1
    db.session.flush()
    return created, updated


def audit_snapshot(unit: Unit, parent_code: str | None) -> dict[str, Any]:
    """What the audit log keeps of a unit."""
    snap: dict[str, Any] = {}
    for name in AUDIT_FIELDS:
        value = parent_code if name == "parent_code" else getattr(unit, name)
        snap[name] = value.isoformat() if isinstance(value, date) else value
    return snap


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    keys = [key for key in after if before.get(key) != after.get(key)]
    return {
        "before": {key: before.get(key) for key in keys},
        "after": {key: after.get(key) for key in keys},
    }


def move_problem(unit: Unit, parent: Unit) -> str | None:
    """Why ``unit`` cannot be moved under ``parent``, in words; None when it can."""
    if parent.id == unit.id or parent.path.startswith(unit.path):
        return _("A unit cannot be moved under itself or a unit below it.")
    if parent.is_branch:
        return _("A branch has no units under it.")
    if not parent.active:
        return _("The new parent is deactivated.")
    if parent.id == unit.parent_id:
        return _("The unit is already there.")
    return None


def move(unit: Unit, parent: Unit | None) -> None:
    """Re-hang ``unit`` under ``parent``; its whole subtree's paths follow.

    Users keep their home unit, and scope is computed from paths, so every user
    at or under ``unit`` now sees the subtree in its new place.
    """
    old_path = unit.path
    descendants = db.session.scalars(
        sa.select(Unit).where(unit.subtree_clause(), Unit.id != unit.id)
    ).all()
    place(unit, parent)
    for child in descendants:
        child.path = unit.path + child.path[len(old_path) :]
        child.depth = child.path.count("/") - 2


def note_secretary(unit: Unit, previous: str | None) -> None:
    """Keep a branch's secretary terms in step with its secretary's name.

    A new name closes the open term (on the new secretary's since-date, or today)
    and opens one for the new secretary; Party membership updates the open term.
    """
    if unit.kind != "branch":
        return
    if previous and unit.secretary_name != previous:
        _close_term(unit)
    if unit.secretary_name:
        term = _open_term(unit)
        term.party_member = bool(unit.secretary_party_member)
        if term.started_on is None:
            term.started_on = unit.secretary_since


def _current_term(unit: Unit) -> SecretaryTerm | None:
    return db.session.scalar(
        sa.select(SecretaryTerm).where(
            SecretaryTerm.branch_id == unit.id, SecretaryTerm.ended_on.is_(None)
        )
    )


def _close_term(unit: Unit) -> None:
    term = _current_term(unit)
    if term is not None:
        term.ended_on = unit.secretary_since or clock.today()


def _open_term(unit: Unit) -> SecretaryTerm:
    term = _current_term(unit)
    if term is None:
        term = SecretaryTerm(
            branch_id=unit.id,
            name=unit.secretary_name or "",
            party_member=bool(unit.secretary_party_member),
            started_on=unit.secretary_since,
        )
        db.session.add(term)
    return term


def export_rows(root: Unit, *, include_inactive: bool = False) -> list[list[Any]]:
    """The subtree of ``root`` in the import's columns, parents before children.

    The root's own row comes first; importing the file again leaves it alone.
    """
    parent = sa.orm.aliased(Unit)
    query = (
        sa.select(Unit, parent.code)
        .outerjoin(parent, parent.id == Unit.parent_id)
        .where(root.subtree_clause())
        .order_by(Unit.depth, Unit.path)
    )
    if not include_inactive:
        query = query.where(Unit.active.is_(True))
    rows = []
    for unit, parent_code in db.session.execute(query):
        party = unit.secretary_party_member
        rows.append(
            [
                unit.code,
                unit.name,
                unit.kind,
                parent_code or "",
                unit.secretary_name or "",
                unit.secretary_since,
                "" if party is None else ("có" if party else "không"),
                unit.member_count,
            ]
        )
    return rows
