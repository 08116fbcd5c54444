"""The meeting calendar's pure rules: the n-th weekday, a pattern's dates, slots, windows."""

from __future__ import annotations

from datetime import date

import pytest

from coso.meetings.rules import (
    DAY,
    MAX_AHEAD,
    WEEK,
    days_of,
    may_declare_on,
    months_from,
    nth_weekday,
    pattern_dates,
    slot_of,
    slots_to_fill,
    step,
    week_start,
    window,
)
from coso.visits.rules import goes_out

SUNDAY, MONDAY, FRIDAY = 6, 0, 4


@pytest.mark.parametrize(
    ("year", "month", "nth", "weekday", "expected"),
    [
        (2026, 12, 2, SUNDAY, date(2026, 12, 13)),  # December 2026 begins on a Tuesday
        (2026, 12, 1, MONDAY, date(2026, 12, 7)),
        (2026, 12, 1, 1, date(2026, 12, 1)),  # the 1st is itself the first Tuesday
        (2026, 11, 5, MONDAY, date(2026, 11, 30)),  # a month with five Mondays
        (2026, 11, 5, SUNDAY, date(2026, 11, 29)),
        (2028, 2, 5, 1, date(2028, 2, 29)),  # a leap February with five Tuesdays
        (2026, 1, 5, FRIDAY, date(2026, 1, 30)),
    ],
)
def test_nth_weekday(year: int, month: int, nth: int, weekday: int, expected: date) -> None:
    assert nth_weekday(year, month, nth, weekday) == expected
    assert nth_weekday(year, month, nth, weekday).weekday() == weekday  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("year", "month", "weekday"),
    [(2026, 2, SUNDAY), (2026, 12, SUNDAY), (2027, 2, MONDAY), (2026, 6, SUNDAY)],
)
def test_a_fifth_weekday_that_the_month_lacks_is_none(year: int, month: int, weekday: int) -> None:
    assert nth_weekday(year, month, 5, weekday) is None


@pytest.mark.parametrize(
    ("nth", "weekday", "month"), [(0, 0, 1), (6, 0, 1), (1, 7, 1), (1, -1, 1), (1, 0, 13)]
)
def test_nonsense_patterns_are_refused(nth: int, weekday: int, month: int) -> None:
    with pytest.raises(ValueError):
        nth_weekday(2026, month, nth, weekday)


def test_months_run_across_a_year_end() -> None:
    assert months_from(2026, 11, 4) == [(2026, 11), (2026, 12), (2027, 1), (2027, 2)]
    assert months_from(2026, 12, 1) == [(2026, 12)]
    assert months_from(2026, 12, 0) == []
    assert len(months_from(2026, 1, 25)) == 25 and months_from(2026, 1, 25)[-1] == (2028, 1)


def test_pattern_dates_across_a_year_end_and_skip_the_past_day() -> None:
    # The 2nd Sunday from 14 December 2026: December's (the 13th) has passed.
    assert pattern_dates(2, SUNDAY, date(2026, 12, 14), 3) == [date(2027, 1, 10), date(2027, 2, 14)]
    # On the day itself it is still to come.
    assert pattern_dates(2, SUNDAY, date(2026, 12, 13), 2) == [
        date(2026, 12, 13),
        date(2027, 1, 10),
    ]


def test_pattern_dates_of_a_fifth_weekday_skip_the_months_without_one() -> None:
    days = pattern_dates(5, SUNDAY, date(2026, 11, 1), 6)
    # November 2026 and January 2027 have five Sundays; December, February, March, April not.
    assert days == [date(2026, 11, 29), date(2027, 1, 31)]
    assert all(d.weekday() == SUNDAY and d.day > 28 for d in days)
    assert [slot_of(d) for d in days] == ["2026-11", "2027-01"]


def test_slots_already_filled_are_never_filled_again() -> None:
    days = pattern_dates(2, SUNDAY, date(2026, 12, 1), 4)
    assert [slot_of(d) for d in days] == ["2026-12", "2027-01", "2027-02", "2027-03"]
    # December was moved, January cancelled: filling again adds only February and March.
    assert slots_to_fill(days, ["2026-12", "2027-01"]) == days[2:]
    assert slots_to_fill(days, {slot_of(d) for d in days}) == []
    assert slots_to_fill(days, []) == days


def test_the_week_runs_monday_to_sunday() -> None:
    wednesday = date(2026, 12, 30)
    assert week_start(wednesday) == date(2026, 12, 28)
    assert window(WEEK, wednesday) == (date(2026, 12, 28), date(2027, 1, 3))
    assert window(DAY, wednesday) == (wednesday, wednesday)
    assert window(WEEK, date(2026, 12, 28)) == (date(2026, 12, 28), date(2027, 1, 3))
    assert window(WEEK, date(2027, 1, 3)) == (date(2026, 12, 28), date(2027, 1, 3))
    assert len(days_of(*window(WEEK, wednesday))) == 7


def test_steps_move_by_a_week_or_a_day() -> None:
    assert step(WEEK, date(2026, 12, 30), 1) == date(2027, 1, 6)
    assert step(WEEK, date(2026, 12, 30), -1) == date(2026, 12, 23)
    assert step(DAY, date(2026, 12, 31), 1) == date(2027, 1, 1)
    assert step(DAY, date(2027, 1, 1), -1) == date(2026, 12, 31)


def test_meetings_are_declared_from_today_to_about_a_year_ahead() -> None:
    today = date(2026, 12, 6)
    assert may_declare_on(today, today)
    assert may_declare_on(today + MAX_AHEAD, today)
    assert not may_declare_on(date(2026, 12, 5), today)
    assert not may_declare_on(today + MAX_AHEAD + (today - date(2026, 12, 5)), today)


@pytest.mark.parametrize(
    ("roles", "kind", "expected"),
    [
        (["cadre"], "province", True),
        (["province"], "province", True),  # the standing committee goes too
        (["admin", "province"], "province", True),
        (["admin", "cadre"], "province", True),
        (["secretary"], "commune", True),  # a commune secretary goes to its branches
        (["secretary"], "school", True),
        (["secretary", "cadre"], "branch", True),
        (["admin"], "province", False),  # an administrator alone never counts as behind
        (["secretary"], "branch", False),  # a branch's own secretary is the grassroots
        ([], "province", False),
    ],
)
def test_who_goes_out(roles: list[str], kind: str, expected: bool) -> None:
    assert goes_out(roles, kind) is expected
