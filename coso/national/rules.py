"""The national roll-up's rules, pure: one row per province and how its figures combine.

The figures are the province pages' own (the dashboard's state counts, where to act's
rates, trend and failing items, the 1+2 ledger), read for every province at once by
:mod:`coso.national.queries`; here they are added up, ranked and compared.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from coso.dashboard.rules import rate
from coso.judging import flags

#: Months of the trend column: the period's month and the two before it.
TREND_MONTHS = 3
#: Failing items shown per province.
TOP_ITEMS = 3
#: States that need attention, worst first (the flagged list's "attention" filter).
ATTENTION_STATES = (flags.REPEAT, flags.FLAGGED, flags.OVERDUE, flags.NEVER)


@dataclass
class Item:
    """A checklist item failed or partly met in a province over the period."""

    code: str
    fail: int = 0
    partial: int = 0
    text: str = ""
    critical: bool = False

    @property
    def count(self) -> int:
        return self.fail + self.partial


@dataclass
class MonthRate:
    """One month of a province's trend."""

    label: str  # mm/yy
    evaluations: int = 0
    compliant: int = 0

    @property
    def rate(self) -> float | None:
        return rate(self.compliant, self.evaluations)


@dataclass
class Ledger:
    """The 1+2 ledger of a province: those who go out, their days, who is behind the pace."""

    goers: int = 0
    days: int = 0
    behind: int = 0
    reached: int = 0  # at or past their year's target

    @property
    def average(self) -> float | None:
        return self.days / self.goers if self.goers else None

    def add(self, other: Ledger) -> None:
        self.goers += other.goers
        self.days += other.days
        self.behind += other.behind
        self.reached += other.reached


@dataclass
class ProvinceRow:
    """One province (or the nation's total) on the national page."""

    unit: Any  # the province's Unit (or the Central Committee's for the total)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(flags.STATES, 0))
    evaluations: int = 0  # of the period, still standing
    compliant: int = 0
    evaluated: int = 0  # branches with at least one evaluation in the period
    trend: list[MonthRate] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    ledger: Ledger = field(default_factory=Ledger)

    @property
    def branches(self) -> int:
        return sum(self.counts.values())

    @property
    def attention(self) -> int:
        """Branches on the province's flagged list (every state but ok)."""
        return sum(self.counts[state] for state in ATTENTION_STATES)

    @property
    def rate(self) -> float | None:
        return rate(self.compliant, self.evaluations)

    @property
    def coverage(self) -> float | None:
        return rate(self.evaluated, self.branches)

    @property
    def change(self) -> float | None:
        """The last month's rate minus the month before's (None when either has none)."""
        return trend_change(self.trend)

    def item_share(self, item: Item) -> float | None:
        return rate(item.count, self.evaluations)


def trend_change(trend: list[MonthRate]) -> float | None:
    """How the rate moved from the month before last to the last month of ``trend``."""
    if len(trend) < 2:
        return None
    before, last = trend[-2].rate, trend[-1].rate
    if before is None or last is None:
        return None
    return last - before


def top_items(items: dict[str, Item], limit: int = TOP_ITEMS) -> list[Item]:
    """The items failed most (fails first, then partial passes, then by code)."""
    ordered = sorted(items.values(), key=lambda i: (-i.fail, -i.partial, i.code))
    return ordered[:limit]


def total(unit: Any, rows: list[ProvinceRow]) -> ProvinceRow:
    """The nation's row: every province's figures added up (failing items stay per province)."""
    out = ProvinceRow(unit)
    for row in rows:
        for state, count in row.counts.items():
            out.counts[state] = out.counts.get(state, 0) + count
        out.evaluations += row.evaluations
        out.compliant += row.compliant
        out.evaluated += row.evaluated
        out.ledger.add(row.ledger)
        for index, month in enumerate(row.trend):
            if len(out.trend) <= index:
                out.trend.append(MonthRate(month.label))
            out.trend[index].evaluations += month.evaluations
            out.trend[index].compliant += month.compliant
    return out


def worst_first(rows: list[ProvinceRow]) -> list[ProvinceRow]:
    """Provinces with the most branches needing attention (in share) first, then by name."""

    def key(row: ProvinceRow) -> tuple[float, str]:
        share = rate(row.attention, row.branches)
        return (-(share or 0.0), str(row.unit.name))

    return sorted(rows, key=key)
