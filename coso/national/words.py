"""The national roll-up's figures in words, for the export's text columns."""

from __future__ import annotations

from coso.national.rules import ProvinceRow


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{round(value * 100)}%"


def trend_in_words(row: ProvinceRow) -> str:
    """The trend's months and rates, oldest first: ``09/26 71% → 10/26 74%``."""
    return " → ".join(f"{month.label} {_percent(month.rate)}" for month in row.trend)


def items_in_words(row: ProvinceRow) -> str:
    """The items failed most, each with its share of the period's evaluations:
    ``P10 Có biên bản …: 12%; P4 …: 9%``."""
    return "; ".join(
        f"{item.code} {item.text}: {_percent(row.item_share(item))}" for item in row.items
    )
