"""The unit tree's rules as plain data and functions: no Flask, no database.

What a unit spreadsheet's columns and words mean, what the audit log keeps of
a unit, and when a unit may not hang under another. The messages shown to a
person for these codes live in :mod:`coso.units.words`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from coso.search_keys import SEARCH_SEPARATOR, search_key

if TYPE_CHECKING:
    from coso.models import Unit

# --- The spreadsheet's columns and words

REQUIRED = ("code", "name", "kind", "parent_code")
OPTIONAL = ("secretary_name", "secretary_since", "secretary_party_member", "member_count")
COLUMNS = REQUIRED + OPTIONAL
MAX_ROWS = 20_000
#: How a spreadsheet may write "yes" and "no" (English, Vietnamese with and without accents).
TRUE_WORDS = {"1", "x", "yes", "true", "có", "co", "đảng viên", "dang vien"}
FALSE_WORDS = {"", "0", "no", "false", "không", "khong"}
#: Kinds as a Vietnamese spreadsheet may write them.
KIND_ALIASES = {
    "trung ương đoàn": "central",
    "trung ương": "central",
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

# --- Unit codes

#: How long a code may be (the column's width).
CODE_MAX = 40
#: A new or changed code: ASCII letters, digits, '-', '_' and '.', starting with a letter or
#: digit. It travels in file names, URLs, spreadsheets and the field pack, so it stays plain.
#: Codes stored before this rule only had to be 1 to 40 characters without spaces; they
#: are kept (a unit keeps its code when edited) and their exports still download.
CODE_RE = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._-]{{0,{CODE_MAX - 1}}}")


def code_ok(code: str, current: str | None = None) -> bool:
    """Whether ``code`` may be given to a unit whose code is now ``current`` (None: a new one)."""
    return code == current or CODE_RE.fullmatch(code) is not None


# --- Searching units by name and code


def unit_search_key(name: str, code: str) -> str:
    """What a unit's ``search`` column holds: its name's key and its code's key."""
    return f"{search_key(name)}{SEARCH_SEPARATOR}{search_key(code)}"


# --- A checked row's fate

CREATE, UPDATE, UNCHANGED, ERROR = "create", "update", "unchanged", "error"


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
    """Every row of a checked file; it may be applied only when no row has an error."""

    rows: list[RowResult]

    @property
    def errors(self) -> list[RowResult]:
        return [row for row in self.rows if row.errors]

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.errors

    def count(self, action: str) -> int:
        return sum(row.action == action for row in self.rows)


def kind_of(text: str) -> str:
    """A kind as written in a cell, in the tree's own words (Vietnamese names understood)."""
    kind = text.strip().lower()
    return KIND_ALIASES.get(kind, kind)


def yes_no(text: str) -> bool | None:
    """A yes/no cell: True, False, or None when empty.

    :raise ValueError: the cell says neither yes nor no.
    """
    word = text.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False if word else None
    raise ValueError(text)


def party_word(party: bool | None) -> str:
    """Party membership as the export writes it (and the import reads it back)."""
    return "" if party is None else ("có" if party else "không")


def parse_date(text: str) -> date:
    """A date as spreadsheets in Vietnam write it: ISO or day/month/year."""
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def current_values(unit: Unit, parent_code: str | None) -> dict[str, Any]:
    """A unit's fields in the shape a checked row's values take, to compare the two."""
    return {
        "name": unit.name,
        "kind": unit.kind,
        "parent_code": parent_code or "",
        "secretary_name": unit.secretary_name,
        "secretary_since": unit.secretary_since,
        "secretary_party_member": unit.secretary_party_member,
        "member_count": unit.member_count,
    }


def form_values(unit: Unit) -> dict[str, Any]:
    """A unit's fields as the edit form shows them."""
    party = unit.secretary_party_member
    return {
        "code": unit.code,
        "name": unit.name,
        "kind": unit.kind,
        "secretary_name": unit.secretary_name or "",
        "secretary_since": unit.secretary_since.isoformat() if unit.secretary_since else "",
        "secretary_party_member": "" if party is None else ("yes" if party else "no"),
        "member_count": "" if unit.member_count is None else str(unit.member_count),
    }


def audit_snapshot(unit: Unit, parent_code: str | None) -> dict[str, Any]:
    """What the audit log keeps of a unit."""
    snap: dict[str, Any] = {}
    for name in AUDIT_FIELDS:
        value = parent_code if name == "parent_code" else getattr(unit, name)
        snap[name] = value.isoformat() if isinstance(value, date) else value
    return snap


# --- Moving a unit

#: Why a unit cannot hang under a parent (words: coso.units.words.move_problem).
UNDER_ITSELF, UNDER_BRANCH, PARENT_INACTIVE, ALREADY_THERE = (
    "under_itself",
    "under_branch",
    "parent_inactive",
    "already_there",
)


def move_problem(unit: Unit, parent: Unit) -> str | None:
    """Why ``unit`` cannot be moved under ``parent``, as a code; None when it can."""
    if parent.id == unit.id or parent.path.startswith(unit.path):
        return UNDER_ITSELF
    if parent.is_branch:
        return UNDER_BRANCH
    if not parent.active:
        return PARENT_INACTIVE
    if parent.id == unit.parent_id:
        return ALREADY_THERE
    return None
