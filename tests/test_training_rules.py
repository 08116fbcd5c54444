"""Ranking training needs (issue 19, item 3): hand-made cases."""

from __future__ import annotations

import pytest

from coso.training.rules import NEED_SHARE, Tally, rank, top_for


def test_failures_weigh_full_and_partly_met_half() -> None:
    assert Tally(2, 2).weight == 3
    assert Tally(1, 0).share(4) == 0.25
    assert Tally(1, 1).share(0) is None


def test_the_area_ranks_by_weight_then_reach_then_code() -> None:
    evaluations = {1: 10, 2: 10}
    tallies = {
        (1, "P10"): Tally(4, 0),  # 4 in one commune
        (1, "P2"): Tally(2, 0),
        (2, "P2"): Tally(2, 0),  # 4 as well, over two communes: first
        (2, "C1"): Tally(0, 2),  # weight 1
        (1, "P5"): Tally(1, 0),  # weight 1, reaches no commune (10 %)
    }
    needs = rank(tallies, evaluations)
    assert [n.code for n in needs] == ["P2", "P10", "C1", "P5"]
    p2 = needs[0]
    assert (p2.fail, p2.partial, p2.reach) == (4, 0, 2)  # both communes at 20 %
    assert p2.share == pytest.approx(4 / 20)
    assert needs[1].reach == 1
    assert needs[2].share == pytest.approx(1 / 20)
    assert [n.code for n in rank(tallies, evaluations, limit=2)] == ["P2", "P10"]


def test_reach_counts_child_units_at_the_need_share() -> None:
    evaluations = {1: 5, 2: 5, 3: 5}
    at = int(NEED_SHARE * 5)  # exactly the share
    tallies = {(1, "P1"): Tally(at, 0), (2, "P1"): Tally(0, 2 * at), (3, "P1"): Tally(at - 1, 0)}
    (need,) = rank(tallies, evaluations)
    assert need.reach == 2


def test_a_child_without_evaluations_has_no_needs() -> None:
    tallies = {(1, "P1"): Tally(1, 0), (1, "P3"): Tally(0, 4), (1, "P4"): Tally(0, 1)}
    needs = rank(tallies, {1: 8, 2: 0})
    assert top_for(1, needs, 8) == ["P3", "P1", "P4"]
    assert top_for(1, needs, 8, count=1) == ["P3"]
    assert top_for(2, needs, 0) == []


def test_nothing_failed_is_an_empty_plan() -> None:
    assert rank({}, {1: 4}) == []


def test_categories_rank_by_raised_then_reach_then_code() -> None:
    from coso.training.rules import rank_categories, top_categories

    total = {"funds": 3, "venue": 3, "other": 1, "members_away": 0}
    by_child = {1: {"funds": 3}, 2: {"venue": 2}, 3: {"venue": 1, "other": 1}}
    ranked = rank_categories(total, by_child)
    # venue and funds tie on 3; venue reached two units, funds one; a zero is left out.
    assert [(n.code, n.raised, dict(n.by_child)) for n in ranked] == [
        ("venue", 3, {2: 2, 3: 1}),
        ("funds", 3, {1: 3}),
        ("other", 1, {3: 1}),
    ]
    assert top_categories({"venue": 1, "other": 1, "funds": 4, "x": 0}, 2) == ["funds", "other"]
    assert rank_categories({}, {}) == [] and top_categories({}) == []
