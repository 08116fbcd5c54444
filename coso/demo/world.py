"""What every phase of the demo shares: its clock, the plans and records passed from phase
to phase (``Ctx``), and the few bulk-insert helpers for the rows no service writes.

Units, secretary terms, other visits and feedback are plain rows of the demo's own
making, inserted in chunks; evaluations are not: they go through the sync API's
service (see ``coso.demo.evaluations``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from random import Random
from typing import Any

import sqlalchemy as sa

from coso.demo.phrases import Phrases
from coso.extensions import Base, db
from coso.models import Unit, User

DEMO_USERS = ("admin", "province", "cadre", "commune", "secretary")
DEMO_PASSWORD = "coso-demo"

#: Vietnam's clock (UTC+7, no daylight saving): meetings happen in local time.
VN = timezone(timedelta(hours=7), "ICT")

PROVINCE_NAME, PROVINCE_CODE = "Tỉnh đoàn Đồng Nai", "DN"


@dataclass
class BranchPlan:
    """What the demo plans for one branch before any row is written."""

    unit: Unit
    commune: int  # index into the communes
    plan: str  # the state it should end in (flags.OK, FLAGGED, REPEAT, OVERDUE, NEVER)
    quality: float  # chance that a meeting outside the planned tail is compliant
    day: int  # usual day of the month it meets on
    evening: bool  # evening (19:00) or weekend morning (07:30) meetings
    coverage: float = 0.85  # chance that a month's meeting was evaluated


@dataclass
class EvalRecord:
    """What the feedback phase needs to know about one stored evaluation."""

    id: int  # 0 until the service has stored it
    branch_id: int
    cadre_id: int
    meeting_date: date
    received_at: datetime
    compliant: bool
    failed: tuple[str, ...]  # items whose effective value is "fail", template order
    present: int = 0  # members present


@dataclass
class Ctx:
    """Everything the phases share."""

    rng: Random
    today: date
    now: datetime
    progress: Callable[[str], None]
    province: Unit | None = None
    #: The province's code and name, the unit above it (the Central Committee, in a national
    #: demo), what its demo users' names start with and the usernames already taken.
    province_code: str = PROVINCE_CODE
    province_name: str = PROVINCE_NAME
    parent: Unit | None = None
    user_prefix: str = ""
    taken: set[str] = field(default_factory=set)
    communes: list[Unit] = field(default_factory=list)
    branches: list[BranchPlan] = field(default_factory=list)
    users: dict[str, User] = field(default_factory=dict)
    cadres: list[tuple[User, float, int | None]] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    states: Counter[str] = field(default_factory=Counter)
    first_states: Counter[str] = field(default_factory=Counter)
    records: dict[int, list[EvalRecord]] = field(default_factory=dict)
    #: Who acknowledges a commune's evaluations (its secretary), by commune index.
    acknowledgers: dict[int, User] = field(default_factory=dict)
    #: Province-wide swing of each month (``YYYY-MM``): (share evaluated, compliance shift).
    moods: dict[str, tuple[float, float]] = field(default_factory=dict)
    phrases: Phrases = field(init=False)

    def __post_init__(self) -> None:
        self.phrases = Phrases(self.rng)

    def mood(self, period: str) -> tuple[float, float]:
        """The month's (share of meetings evaluated, shift of compliance), drawn once."""
        if period not in self.moods:
            quiet = period[5:] in ("01", "02")  # Tết: fewer meetings, fewer visits
            share = self.rng.uniform(0.7, 0.85) if quiet else self.rng.uniform(0.9, 1.0)
            self.moods[period] = (share, self.rng.uniform(-0.05, 0.04))
        return self.moods[period]


def wipe_all() -> None:
    """Delete every row of every table, children first."""
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.flush()
    db.session.expunge_all()


def first_free_id(model: type[Base]) -> int:
    """The first primary key after those already used."""
    return (db.session.scalar(sa.select(sa.func.max(model.id))) or 0) + 1


def insert_rows(model: type[Base], rows: list[dict[str, Any]]) -> None:
    """Insert plain rows with one executemany (the rows no service of the app writes).

    Core, not the ORM bulk path: that one splits a chunk into a statement per
    pattern of None values, which is many times slower here.
    """
    if rows:
        db.session.execute(sa.insert(model.__table__), rows)


def sync_sequences(models: Sequence[type[Base]]) -> None:
    """Move PostgreSQL's id sequences past the keys assigned here."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for model in models:
        table = model.__tablename__
        db.session.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                f'COALESCE((SELECT MAX(id) FROM "{table}"), 0) + 1, false)'
            )
        )


def period_of(day: date, back: int = 0) -> str:
    """``YYYY-MM`` of the month ``back`` months before ``day``'s."""
    months = day.year * 12 + day.month - 1 - back
    return f"{months // 12:04d}-{months % 12 + 1:02d}"


def weighted(rng: Random, choices: Sequence[tuple[str, float]]) -> str:
    """One of ``choices`` (value, probability), drawn by its probability."""
    r, total = rng.random(), 0.0
    for value, weight in choices:
        total += weight
        if r < total:
            return value
    return choices[-1][0]


def local_time(day: date, hour: int, minute: int) -> datetime:
    """``hour:minute`` of ``day`` in Vietnam, as a UTC time (what the database stores)."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=VN).astimezone(UTC)
