"""The rules of days at the grassroots (coso.visits.rules): counting, the pace, late reports."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coso.visits import rules
from coso.visits.queries import LedgerRow


def test_visit_days_count_distinct_dates_per_form_and_overall() -> None:
    visits = [
        ("meeting", date(2025, 3, 1), date(2025, 3, 1)),
        ("meeting", date(2025, 3, 1), date(2025, 3, 1)),  # two meetings, one date
        ("inspection", date(2025, 3, 1), date(2025, 3, 2)),  # overlaps the meeting's date
        ("field_study", date(2024, 12, 30), date(2025, 1, 2)),  # reaches into the year
        ("research", date(2026, 1, 1), date(2026, 1, 3)),  # next year: not counted
    ]
    days = rules.count_visit_days(visits, 2025)
    assert days.total == 1 + 1 + 2  # 1 and 2 March, 1 and 2 January
    assert days.by_form == {"meeting": 1, "inspection": 2, "field_study": 2, "research": 0}


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["meeting", "inspection", "research"]),
            st.dates(date(2024, 12, 1), date(2026, 1, 31)),
            st.integers(0, 30),
        ),
        max_size=30,
    )
)
def test_visit_days_never_exceed_the_days_covered(raw: list[tuple[str, date, int]]) -> None:
    visits = [(form, start, start + timedelta(days=n)) for form, start, n in raw]
    days = rules.count_visit_days(visits, 2025)
    assert days.total <= 365
    assert all(n <= days.total for n in days.by_form.values())
    assert days.total <= sum(days.by_form.values())


@pytest.mark.parametrize(
    ("year", "today", "expected"),
    [
        (2025, date(2025, 12, 31), 60.0),
        (2025, date(2025, 7, 2), 60 * 183 / 365),
        (2024, date(2024, 12, 31), 60.0),  # leap year: day 366 of 366
        (2024, date(2025, 3, 1), 60.0),  # a past year owes the whole target
        (2026, date(2025, 3, 1), 0.0),
    ],
)
def test_expected_days(year: int, today: date, expected: float) -> None:
    assert rules.expected_days(60, year, today) == pytest.approx(expected)


def test_behind_the_pace() -> None:
    # 1 July 2025 is day 182: 60 x 182/365 = 29.9 days expected.
    assert rules.is_behind(29, 60, 2025, date(2025, 7, 1))
    assert not rules.is_behind(30, 60, 2025, date(2025, 7, 1))
    assert rules.is_behind(0, 60, 2025, date(2025, 1, 1))  # 0.16 days expected already
    assert not rules.is_behind(0, 60, 2026, date(2025, 12, 31))


@pytest.mark.parametrize(
    ("form", "report", "end", "missing"),
    [
        ("inspection", None, date(2025, 11, 1), True),  # 19 days ago
        ("inspection", "  ", date(2025, 11, 1), True),
        ("inspection", None, date(2025, 11, 10), False),  # exactly 10 days: still in time
        ("inspection", None, date(2025, 11, 9), True),
        ("inspection", "Báo cáo", date(2025, 1, 1), False),
        ("meeting", None, date(2025, 1, 1), False),  # the evaluation is its report
    ],
)
def test_report_missing(form: str, report: str | None, end: date, missing: bool) -> None:
    assert rules.report_missing(form, report, end, date(2025, 11, 20)) is missing


@given(
    days=st.integers(0, 400),
    target=st.integers(0, 400),
    year=st.integers(2023, 2027),
    today=st.dates(date(2024, 1, 1), date(2026, 12, 31)),
)
def test_ledger_row_applies_the_pace(days: int, target: int, year: int, today: date) -> None:
    row = LedgerRow(user=None, year=year, target=target, today=today)  # type: ignore[arg-type]
    row.days.total = days
    assert row.expected == rules.expected_days(target, year, today)
    assert row.behind is rules.is_behind(days, target, year, today)


# ------------------------------------------------ reports due, and synced report versions


@pytest.mark.parametrize(
    ("form", "report", "reported_on", "end", "today", "days", "expected"),
    [
        ("meeting", None, None, date(2026, 6, 1), date(2026, 7, 1), 10, None),
        ("inspection", "x", date(2026, 6, 11), date(2026, 6, 1), date(2026, 7, 1), 10, "on_time"),
        ("inspection", "x", date(2026, 6, 12), date(2026, 6, 1), date(2026, 7, 1), 10, "late"),
        ("inspection", "x", date(2026, 6, 12), date(2026, 6, 1), date(2026, 7, 1), 11, "on_time"),
        ("coorganise", "  ", None, date(2026, 6, 1), date(2026, 6, 11), 10, "due"),
        ("coorganise", None, None, date(2026, 6, 1), date(2026, 6, 12), 10, "missing"),
        ("research", "x", None, date(2026, 6, 1), date(2026, 6, 30), 10, "on_time"),
    ],
)
def test_report_state(
    form: str,
    report: str | None,
    reported_on: date | None,
    end: date,
    today: date,
    days: int,
    expected: str | None,
) -> None:
    assert rules.report_state(form, report, reported_on, end, today, days) == expected


@pytest.mark.parametrize(
    ("stored", "sent", "expected"),
    [
        ((None, None, None), ("d1", 1, "h1"), "store"),  # the first version
        (("d1", 1, "h1"), ("d1", 1, "h1"), "same"),  # sent again
        (("d1", 1, "h1"), ("d1", 1, "h2"), "conflict"),  # the same version, other text
        (("d1", 1, "h1"), ("d1", 2, "h2"), "store"),  # a later version replaces it
        (("d1", 3, "h3"), ("d1", 2, "h2"), "conflict"),  # an older version arriving late
        (("d1", 1, "h1"), ("d2", 5, "h5"), "conflict"),  # another draft of the same visit
        ((None, 1, None), ("d1", 1, "h1"), "conflict"),  # written on the web: not later
        ((None, 1, None), ("d1", 2, "h1"), "store"),
    ],
)
def test_report_step(
    stored: tuple[str | None, int | None, str | None], sent: tuple[str, int, str], expected: str
) -> None:
    assert rules.report_step(*stored, *sent) == expected
