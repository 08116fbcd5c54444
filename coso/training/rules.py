"""Ranking training needs from findings: pure functions over counts, unit-tested by hand.

An item's weight is its failures plus half its partly-met answers, as a share of the
evaluations that could have failed it; the items are ranked by that weight over the whole
area, then by how many child units it reaches, then by code (stable). A child unit's own
needs are its items ranked the same way over its own evaluations.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

#: A partly met answer counts this much of a failure.
PARTIAL_WEIGHT = 0.5
#: A child unit "needs" an item when at least this share of its evaluations failed it.
NEED_SHARE = 0.2


@dataclass(frozen=True)
class Tally:
    """How often one item was failed or partly met in one unit's evaluations."""

    fail: int = 0
    partial: int = 0

    @property
    def weight(self) -> float:
        return self.fail + PARTIAL_WEIGHT * self.partial

    def share(self, evaluations: int) -> float | None:
        """The weight as a share of ``evaluations`` (None when there were none)."""
        return self.weight / evaluations if evaluations else None


@dataclass
class Need:
    """One item's place in the training plan."""

    code: str
    fail: int = 0
    partial: int = 0
    share: float | None = None  # weighted, of the area's evaluations
    #: Child unit id -> its own tally of this item.
    by_child: dict[int, Tally] = field(default_factory=dict)
    #: Child units where the item reached ``NEED_SHARE`` of their evaluations.
    reach: int = 0


def rank(
    tallies: Mapping[tuple[int, str], Tally],
    evaluations: Mapping[int, int],
    limit: int | None = None,
) -> list[Need]:
    """The area's needs, most pressing first.

    :param tallies: (child unit id, item code) -> how often the item failed there.
    :param evaluations: child unit id -> its evaluations in the period.
    """
    needs: dict[str, Need] = {}
    for (child, code), tally in tallies.items():
        need = needs.setdefault(code, Need(code))
        need.fail += tally.fail
        need.partial += tally.partial
        need.by_child[child] = tally
        share = tally.share(evaluations.get(child, 0))
        if share is not None and share >= NEED_SHARE:
            need.reach += 1
    total = sum(evaluations.values())
    for need in needs.values():
        need.share = Tally(need.fail, need.partial).share(total)
    ordered = sorted(
        needs.values(),
        key=lambda n: (-Tally(n.fail, n.partial).weight, -n.reach, n.code),
    )
    return ordered if limit is None else ordered[:limit]


def top_for(child: int, needs: list[Need], evaluations: int, count: int = 3) -> list[str]:
    """A child unit's own most pressing items (codes), by its own tally."""
    mine = [(n.by_child[child], n.code) for n in needs if child in n.by_child]
    mine = [(t, c) for t, c in mine if t.weight > 0]
    mine.sort(key=lambda pair: (-pair[0].weight, pair[1]))
    return [code for _tally, code in mine[:count]] if evaluations else []


# ------------------------------------------------ difficulties raised, by category
@dataclass(frozen=True)
class CategoryNeed:
    """One difficulty category's place: how many were raised, and in which child units."""

    code: str
    raised: int
    by_child: Mapping[int, int]


def rank_categories(
    total: Mapping[str, int], by_child: Mapping[int, Mapping[str, int]]
) -> list[CategoryNeed]:
    """The categories raised in a period, most raised first, then by how many child units
    raised them, then by code (stable). ``total`` counts every difficulty of the area (the
    area's own unit too), ``by_child`` those of each child unit."""
    needs = [
        CategoryNeed(
            code,
            raised,
            {child: cats[code] for child, cats in by_child.items() if cats.get(code)},
        )
        for code, raised in total.items()
        if raised
    ]
    return sorted(needs, key=lambda n: (-n.raised, -len(n.by_child), n.code))


def top_categories(counts: Mapping[str, int], n: int = 3) -> list[str]:
    """A child unit's most raised categories (at most ``n``), ties by code."""
    ranked = sorted(((-count, code) for code, count in counts.items() if count))
    return [code for _count, code in ranked[:n]]
