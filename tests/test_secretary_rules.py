"""The secretaries' pure rules on hand-made cases: who is a new holder, when a term may
close, and the figures per commune (share of Party members, guided, vacant, turnover)."""

from __future__ import annotations

from datetime import date

import pytest

from coso.secretaries import rules
from coso.secretaries.rules import Figures, Post

TODAY = date(2026, 12, 6)


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Nguyễn Văn An", "Nguyễn Văn An", True),
        ("Nguyễn Văn An", "  nguyễn   văn an ", True),
        ("Nguyễn Văn An", "Nguyễn Văn Ân", False),
        ("Nguyễn Văn An", None, False),
        (None, None, False),
        ("", "", False),
    ],
)
def test_same_person_ignores_case_and_spaces_only(a: str | None, b: str | None, same: bool) -> None:
    assert rules.same_person(a, b) is same


def test_guided_is_kept_for_a_non_member_only() -> None:
    assert rules.guided_value(True, True) is None
    assert rules.guided_value(False, True) is True
    assert rules.guided_value(False, None) is False


def test_a_new_holder_cannot_start_before_the_current_term_began() -> None:
    start = date(2025, 3, 1)
    assert rules.change_problem(start, date(2025, 2, 28), True) == rules.STARTS_BEFORE_CURRENT
    assert rules.change_problem(start, start, True) is None
    assert rules.change_problem(start, date(2026, 1, 1), True) is None
    # correcting the same person's first day has no such limit, nor a post nobody held
    assert rules.change_problem(start, date(2024, 1, 1), False) is None
    assert rules.change_problem(None, date(2024, 1, 1), True) is None


def test_a_term_cannot_end_before_it_began() -> None:
    assert rules.end_problem(date(2025, 3, 1), date(2025, 2, 1)) == rules.ENDS_BEFORE_START
    assert rules.end_problem(date(2025, 3, 1), date(2025, 3, 1)) is None
    assert rules.end_problem(None, date(2025, 3, 1)) is None


@pytest.mark.parametrize(
    ("ended", "counts"),
    [
        (date(2026, 12, 6), True),  # today
        (date(2025, 12, 7), True),  # 364 days ago
        (date(2025, 12, 6), False),  # 365 days ago: the window is (today - 365, today]
        (date(2026, 12, 7), False),  # tomorrow
        (None, False),  # still in office
    ],
)
def test_turnover_window_is_the_last_twelve_months(ended: date | None, counts: bool) -> None:
    assert rules.counts_as_turnover(ended, TODAY) is counts


def test_figures_per_commune() -> None:
    posts = [
        # commune 10: 4 branches, 2 members, one non-member guided, one without a secretary
        Post(1, 10, True, True),
        Post(2, 10, True, True),
        Post(3, 10, True, False, guided=True),
        Post(4, 10, False, None),
        # commune 20: 2 branches, no member, one not guided
        Post(5, 20, True, False, guided=False),
        Post(6, 20, True, None),
    ]
    endings = [(10, date(2026, 6, 1)), (10, date(2024, 1, 1)), (20, date(2026, 11, 30))]
    by_group = rules.figures_by_group(posts, endings, TODAY)
    a, b = by_group[10], by_group[20]
    assert (a.branches, a.with_secretary, a.party, a.guided, a.changes) == (4, 3, 2, 1, 1)
    assert a.without_secretary == 1
    assert a.party_share == 0.5  # of all branches: a vacant one counts against
    assert a.turnover == 0.25
    assert (b.branches, b.party, b.guided, b.changes, b.without_secretary) == (2, 0, 0, 1, 0)
    assert b.party_share == 0.0
    total = rules.total_of(by_group.values())
    assert (total.branches, total.party, total.changes, total.without_secretary) == (6, 2, 2, 1)
    assert total.party_share == pytest.approx(2 / 6)


def test_figures_of_nothing_are_empty_not_zero_division() -> None:
    assert rules.figures_by_group([], [], TODAY) == {}
    empty = Figures()
    assert empty.party_share is None and empty.turnover is None
    # a commune whose only news is a departure still shows it
    only = rules.figures_by_group([], [(30, date(2026, 10, 1))], TODAY)[30]
    assert (only.branches, only.changes, only.turnover) == (0, 1, None)


def test_one_party_member_more_moves_the_share() -> None:
    before = rules.figures_by_group([Post(1, 10, True, False), Post(2, 10, True, True)], [], TODAY)
    after = rules.figures_by_group([Post(1, 10, True, True), Post(2, 10, True, True)], [], TODAY)
    assert before[10].party_share == 0.5 and after[10].party_share == 1.0


@pytest.mark.parametrize(
    ("path", "depth", "group"),
    [
        ("/1/5/17/", 0, 5),
        ("/1/5/17/", 1, 17),
        ("/1/5/", 1, None),
        ("/1/", 1, None),
        ("/1/5/", 0, 5),
    ],
)
def test_group_of_a_path(path: str, depth: int, group: int | None) -> None:
    assert rules.group_of(path, depth) == group


@pytest.mark.parametrize(
    ("roles", "sees"),
    [
        (["province"], True),
        (["admin"], True),
        (["secretary"], True),
        (["cadre"], True),
        (["cadre", "secretary"], True),
        ([], False),
    ],
)
def test_who_sees_party_membership(roles: list[str], sees: bool) -> None:
    assert rules.sees_party(roles) is sees
