"""The pure rules of the exports' periods and the report's periods, on hand-made cases."""

from __future__ import annotations

from datetime import date

import pytest

from coso.answers import rules as export_rules
from coso.dashboard.rules import Period, PeriodError
from coso.reports import rules
from coso.reports.document import BAR, bar

TODAY = date(2025, 11, 20)


def test_an_export_defaults_to_this_year_so_far() -> None:
    assert export_rules.export_period(None, None, TODAY) == Period(date(2025, 1, 1), TODAY)
    assert export_rules.export_period("2025-03-01", "", TODAY) == Period(date(2025, 3, 1), TODAY)


def test_an_export_covers_a_leap_year_but_no_more() -> None:
    year = export_rules.export_period("2024-01-01", "2024-12-31", TODAY)
    assert year.days == 366
    with pytest.raises(PeriodError) as caught:
        export_rules.export_period("2024-01-01", "2025-01-01", TODAY)
    assert (caught.value.field, caught.value.problem) == ("to", "too_long")
    with pytest.raises(PeriodError):
        export_rules.export_period("2025-02-30", None, TODAY)
    with pytest.raises(PeriodError):
        export_rules.export_period("2025-05-01", "2025-04-30", TODAY)


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2025, 11, 20), rules.ReportPeriod(2025, rules.H1)),
        (date(2025, 7, 1), rules.ReportPeriod(2025, rules.H1)),
        (date(2025, 6, 30), rules.ReportPeriod(2024, rules.H2)),
        (date(2026, 1, 2), rules.ReportPeriod(2025, rules.H2)),
    ],
)
def test_the_default_report_is_the_last_half_that_ended(
    today: date, expected: rules.ReportPeriod
) -> None:
    assert rules.parse(None, None, today) == expected


def test_the_periods_of_a_report() -> None:
    assert rules.ReportPeriod(2024, rules.H1).period == Period(date(2024, 1, 1), date(2024, 6, 30))
    assert rules.ReportPeriod(2024, rules.H2).period == Period(date(2024, 7, 1), date(2024, 12, 31))
    whole = rules.ReportPeriod(2024, rules.YEAR)
    assert whole.period.days == 366 and whole.year_share == 1
    assert rules.ReportPeriod(2025, rules.H1).year_share == pytest.approx(181 / 365)
    assert rules.parse("2024", "year", TODAY) == whole


@pytest.mark.parametrize(
    ("year", "part", "field"),
    [
        ("1999", "h1", "year"),
        ("2026", "h1", "year"),
        ("20x5", "h1", "year"),
        ("02025", "h1", "year"),
        ("2025", "q3", "part"),
        ("2025", "H1 ", "part"),
    ],
)
def test_a_report_period_that_cannot_be_read(year: str, part: str, field: str) -> None:
    with pytest.raises(rules.ReportPeriodError) as caught:
        rules.parse(year, part, TODAY)
    assert caught.value.field == field


def test_the_chart_bar_is_as_long_as_the_rate() -> None:
    assert bar(None) == "" and bar(0) == ""
    assert bar(1) == "█" * BAR
    assert bar(0.5) == "█" * round(BAR / 2)
