"""The pure rules of difficulties (issue 19, item 1), on hand-made cases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from coso.difficulties import rules
from coso.difficulties.rules import ANSWERED, CLOSED, OPEN, Node, Timing


def at(day: str, hour: int = 0) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def test_routing_goes_to_the_commune_above_a_branch() -> None:
    province, commune, branch = Node(1, "province"), Node(2, "commune"), Node(3, "branch")
    assert rules.route_default([province, commune, branch]) == commune


def test_routing_skips_an_interbranch_and_a_bloc() -> None:
    chain = [Node(1, "province"), Node(2, "bloc"), Node(3, "school"), Node(4, "interbranch")]
    assert rules.route_default([*chain, Node(5, "branch")]) == Node(3, "school")


def test_routing_of_a_commune_or_a_branch_without_one_goes_to_the_province() -> None:
    assert rules.route_default([Node(1, "province"), Node(2, "commune")]) == Node(1, "province")
    assert rules.route_default([Node(1, "province"), Node(9, "branch")]) == Node(1, "province")
    with pytest.raises(ValueError):
        rules.route_default([])


def test_who_may_raise() -> None:
    assert rules.may_raise(["cadre"], "branch", own_unit=False, in_area=True)
    assert not rules.may_raise(["cadre"], "branch", own_unit=False, in_area=False)
    assert not rules.may_raise(["cadre"], "commune", own_unit=False, in_area=True)
    assert rules.may_raise(["secretary"], "branch", own_unit=True, in_area=True)
    assert rules.may_raise(["secretary"], "branch", own_unit=False, in_area=True)
    assert not rules.may_raise(["secretary"], "branch", own_unit=False, in_area=False)
    assert not rules.may_raise(["province"], "branch", own_unit=False, in_area=True)


def test_who_may_answer_pass_up_and_close() -> None:
    commune_secretary = rules.may_handle(
        ["secretary"], home_is_receiver=True, receiver_in_area=True
    )
    branch_secretary = rules.may_handle(
        ["secretary"], home_is_receiver=False, receiver_in_area=False
    )
    province = rules.may_handle(["province"], home_is_receiver=False, receiver_in_area=True)
    other_province = rules.may_handle(["province"], home_is_receiver=False, receiver_in_area=False)
    cadre = rules.may_handle(["cadre"], home_is_receiver=False, receiver_in_area=True)
    assert commune_secretary and province
    assert not (branch_secretary or other_province or cadre)
    assert rules.may_answer(OPEN, True) and rules.may_answer(ANSWERED, True)
    assert not rules.may_answer(CLOSED, True) and not rules.may_answer(OPEN, False)
    assert rules.may_pass_up(OPEN, True, receiver_is_root=False)
    assert not rules.may_pass_up(OPEN, True, receiver_is_root=True)
    assert not rules.may_pass_up(CLOSED, True, receiver_is_root=False)
    assert rules.may_close(ANSWERED, True) and not rules.may_close(CLOSED, True)
    assert rules.state_after_answer(OPEN) == ANSWERED
    assert rules.state_after_answer(CLOSED) == CLOSED


def test_overdue() -> None:
    today = date(2026, 5, 10)
    assert rules.is_overdue(OPEN, date(2026, 5, 9), today)
    assert rules.is_overdue(ANSWERED, date(2026, 5, 9), today)
    assert not rules.is_overdue(OPEN, date(2026, 5, 10), today)
    assert not rules.is_overdue(CLOSED, date(2026, 5, 1), today)
    assert not rules.is_overdue(OPEN, None, today)


def test_percentile_on_hand_made_lists() -> None:
    assert rules.percentile([], 0.5) is None
    assert rules.percentile([4.0], 0.9) == 4.0
    assert rules.percentile([1.0, 3.0, 2.0], 0.5) == 2.0
    assert rules.percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    # ten values 1..10: rank 0.9 * 9 = 8.1 -> 9 + 0.1 * (10 - 9)
    assert rules.percentile([float(v) for v in range(10, 0, -1)], 0.9) == pytest.approx(9.1)


def test_figures_per_period() -> None:
    timings = [
        # answered in May after 2 days, closed in June after 40 days
        Timing(at("2026-05-01"), at("2026-05-03"), at("2026-06-10")),
        # answered in May after 4 days, still open
        Timing(at("2026-05-10"), at("2026-05-14"), None),
        # answered in May after half a day, closed in May after 6 days
        Timing(at("2026-05-20"), at("2026-05-20", 12), at("2026-05-26")),
        # closed in June without an answer after 3 days: closing answers it
        Timing(at("2026-06-01"), None, at("2026-06-04")),
        # neither: counts nowhere
        Timing(at("2026-06-02"), None, None),
    ]
    may, june = rules.figures(timings)
    assert may.period == "2026-05" and may.answered == 3
    assert may.answer_median == 2.0
    # [0.5, 2, 4]: rank 0.9 * 2 = 1.8 -> 2 + 0.8 * (4 - 2)
    assert may.answer_p90 == pytest.approx(3.6)
    assert may.resolved == 1 and may.resolve_median == 6.0 and may.resolve_p90 == 6.0
    assert june.period == "2026-06" and june.answered == 1 and june.answer_median == 3.0
    assert june.resolved == 2
    assert june.resolve_median == 21.5
    assert june.resolve_p90 == pytest.approx(3 + 37 * 0.9)


def test_figures_of_nothing() -> None:
    assert rules.figures([]) == []


def test_age_buckets_and_open_counts() -> None:
    today = date(2026, 5, 31)
    assert rules.age_bucket(date(2026, 5, 31), today) == "0-7"
    assert rules.age_bucket(date(2026, 5, 24), today) == "0-7"
    assert rules.age_bucket(date(2026, 5, 23), today) == "8-30"
    assert rules.age_bucket(date(2026, 5, 1), today) == "8-30"
    assert rules.age_bucket(date(2026, 4, 30), today) == "31-90"
    assert rules.age_bucket(date(2025, 1, 1), today) == "90+"
    assert rules.age_bucket(date(2026, 6, 2), today) == "0-7"
    rows = [
        (OPEN, date(2026, 5, 30), "funds"),
        (ANSWERED, date(2026, 5, 29), "funds"),
        (CLOSED, date(2026, 5, 29), "funds"),
        (OPEN, date(2026, 1, 1), "venue"),
    ]
    assert rules.open_by_age_and_category(rows, today) == {
        ("0-7", "funds"): 2,
        ("90+", "venue"): 1,
    }


def test_category_and_text_problems() -> None:
    codes = [code for code, _ in rules.DEFAULT_CATEGORIES]
    assert "other" in codes and "funds" in codes
    assert rules.category_problem("funds", codes) is None
    assert rules.category_problem("weather", codes) == "unknown_category"
    assert rules.text_problem("  ") == "required"
    assert rules.text_problem(None) == "required"
    assert rules.text_problem("x" * (rules.TEXT_MAX + 1)) == "too_long"
    assert rules.text_problem(" Thiếu kinh phí ") is None


def test_a_period_summary_counts_raised_answered_closed_and_open_at_the_end() -> None:
    from coso.difficulties.rules import Timing, period_summary

    def at(day: int) -> datetime:
        return datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=day)

    start, end = at(10), at(20)
    rows = [
        ("funds", Timing(at(12), at(14), at(18))),  # raised, answered (2 d), closed (6 d) in it
        ("funds", Timing(at(2), at(11), None)),  # answered in it (9 d), open at the end
        ("venue", Timing(at(1), at(3), at(5))),  # all before: nothing to show
        ("venue", Timing(at(15), None, None)),  # raised in it, open at the end
        ("venue", Timing(at(25), None, None)),  # after: left out
        ("other", Timing(at(5), None, at(22))),  # closed after the end: open at the end
    ]
    counts, totals = period_summary(rows, start, end)
    got = {k: (v.raised, v.answered, v.closed, v.open_at_end) for k, v in counts.items()}
    assert got == {"funds": (1, 2, 1, 1), "venue": (1, 0, 0, 1), "other": (0, 0, 0, 1)}
    assert totals.answered == 2 and totals.answer_median == 5.5
    assert totals.resolved == 1 and totals.resolve_median == 6.0 and totals.resolve_p90 == 6.0
    assert period_summary([], start, end)[1].answer_median is None
