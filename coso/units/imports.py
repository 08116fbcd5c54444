"""The province's unit spreadsheet (CSV or XLSX): read it, check every row, export the tree.

A clean check is applied, all rows or none, by :func:`coso.units.service.apply_import`.
The same columns are written by :func:`export_rows`, so a tree exported,
edited in Excel and imported again round-trips. A column left out of the file
leaves that field alone; a column present with an empty cell clears it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO, Any

import sqlalchemy as sa
from flask_babel import gettext as _

from coso import clock
from coso.extensions import db
from coso.fields import squash
from coso.models import Unit
from coso.models.units import UNIT_KINDS
from coso.spreadsheets import SheetError, read_records
from coso.units.queries import codes_outside, evaluated, units_in
from coso.units.rules import (
    CREATE,
    ERROR,
    MAX_ROWS,
    REQUIRED,
    UNCHANGED,
    UPDATE,
    ImportReport,
    RowResult,
    code_ok,
    current_values,
    kind_of,
    parse_date,
    party_word,
    yes_no,
)

#: The error of a file that cannot be read as a whole (the one error of every import).
ImportError_ = SheetError


def read_rows(
    filename: str,
    stream: IO[bytes],
    required: Sequence[str] = REQUIRED,
    max_rows: int = MAX_ROWS,
) -> list[dict[str, str]]:
    """Rows of a CSV or XLSX file as dicts keyed by lower-case header (see ``read_records``).

    :raise SheetError: unknown format, unreadable file, missing columns, or a limit passed.
    """
    return read_records(filename, stream, required, max_rows)


def _row_values(row: dict[str, str], errors: list[str]) -> dict[str, Any]:
    """The row's fields as typed values; optional columns only when the file has them."""
    values: dict[str, Any] = {
        "name": squash(row.get("name", "")),
        "kind": kind_of(row.get("kind", "")),
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
        secretary = squash(row["secretary_name"])
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
        try:
            values["secretary_party_member"] = yes_no(row["secretary_party_member"])
        except ValueError:
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
    existing = units_in(root)
    code_by_id = {unit.id: code for code, unit in existing.items()}
    outside = codes_outside({row.get("code", "") for row in rows if row}, existing)
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
        elif code not in existing and not code_ok(code):
            # A code already in the tree may be old-style; a new one follows the rule.
            errors.append(
                _(
                    "code must be 1 to 40 characters: letters A-Z without marks, digits,"
                    " '-', '_' or '.', starting with a letter or digit"
                )
            )
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
    if values.get("kind") == "central" and parent_code:
        errors.append(_("The Central Committee is the top of the tree: no unit is above it."))
        return
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
        for branch_id in evaluated(list(leaving_branch)):
            row = leaving_branch[branch_id]
            row.errors.append(_("this branch has evaluations, so its kind cannot change"))
            row.action = ERROR


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
        rows.append(
            [
                unit.code,
                unit.name,
                unit.kind,
                parent_code or "",
                unit.secretary_name or "",
                unit.secretary_since,
                party_word(unit.secretary_party_member),
                unit.member_count,
            ]
        )
    return rows
