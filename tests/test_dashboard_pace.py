"""The pure arithmetic behind the province's pages: periods, rates, charts."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest

from coso.dashboard import rules


def test_month_period_covers_the_calendar_month() -> None:
    period = rules.month_period("2024-02")
    assert (period.start, period.end, period.month, period.days) == (
        date(2024, 2, 1),
        date(2024, 2, 29),
        "2024-02",
        29,
    )
    assert date(2024, 2, 29) in period and date(2024, 3, 1) not in period


@pytest.mark.parametrize(
    "text", ["2024-13", "2024-1", "24-01", "2024/01", "abcd-ef", "", "1899-01"]
)
def test_bad_months_are_refused(text: str) -> None:
    with pytest.raises(rules.PeriodError) as exc:
        rules.month_period(text)
    assert exc.value.field == "month" and exc.value.problem == "invalid"


def test_previous_month_and_months_ending() -> None:
    assert rules.previous_month(date(2025, 1, 15)).month == "2024-12"
    months = rules.months_ending(date(2025, 2, 10), 3)
    assert [m.month for m in months] == ["2024-12", "2025-01", "2025-02"]


def test_parse_period_month_range_and_default() -> None:
    default = rules.month_period("2025-10")
    assert rules.parse_period(None, None, None, default) == default
    assert rules.parse_period("2025-09", "2025-01-01", None, default).month == "2025-09"
    ranged = rules.parse_period("", "2025-09-15", "2025-10-14", default)
    assert (ranged.start, ranged.end, ranged.month) == (date(2025, 9, 15), date(2025, 10, 14), None)
    assert rules.parse_period("", "2025-10-20", "", default).end == date(2025, 10, 31)


@pytest.mark.parametrize(
    ("start", "end", "field", "problem"),
    [
        ("2025-13-01", "", "from", "invalid"),
        ("", "tomorrow", "to", "invalid"),
        ("2025-10-10", "2025-10-01", "to", "order"),
        ("2020-01-01", "2025-01-01", "to", "too_long"),
    ],
)
def test_parse_period_refuses(start: str, end: str, field: str, problem: str) -> None:
    with pytest.raises(rules.PeriodError) as exc:
        rules.parse_period(None, start, end, rules.month_period("2025-10"))
    assert (exc.value.field, exc.value.problem) == (field, problem)


def test_rate() -> None:
    assert rules.rate(3, 4) == 0.75
    assert rules.rate(0, 0) is None


def test_horizontal_bars_fit_the_width() -> None:
    chart = rules.horizontal_bars([("A", 1.0), ("B", 0.5), ("C", None), ("D", 1.7)])
    assert chart.height == 4 * 44
    full, half, none, over = chart.bars
    assert full.width == pytest.approx(chart.plot_right - chart.plot_left)
    assert half.width == pytest.approx(full.width / 2)
    assert none.width == 0 and none.value is None
    assert over.width == full.width  # clamped
    assert all(bar.value_x <= chart.width for bar in chart.bars)
    assert chart.gridline_x(0.5) == pytest.approx(chart.plot_left + full.width / 2)


def test_vertical_bars_stand_on_the_axis() -> None:
    chart = rules.vertical_bars(
        [(date(2025, 1, 1), 0.0), (date(2025, 2, 1), 1.0), (date(2025, 3, 1), None)]
    )
    empty, full, none = chart.bars
    assert empty.height == 0 and none.height == 0
    assert full.y == pytest.approx(chart.plot_top)
    assert full.y + full.height == pytest.approx(chart.plot_bottom)
    assert chart.gridline_y(1.0) == chart.plot_top and chart.gridline_y(0) == chart.plot_bottom
    assert all(
        chart.plot_left <= bar.x and bar.x + bar.width <= chart.plot_right for bar in chart.bars
    )


def _months(first: date, count: int = 12) -> list[tuple[date, float | None]]:
    out, day = [], first
    for _ in range(count):
        out.append((day, 0.5))
        day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return out


@pytest.mark.parametrize("first", [date(2025, 1, 1), date(2024, 12, 1), date(2025, 6, 1)])
def test_month_labels_do_not_touch(first: date) -> None:
    """Issue 16: twelve months' labels side by side at a readable size, none touching."""
    chart = rules.vertical_bars(_months(first))
    assert rules.FONT >= 12
    rows: dict[float, list[rules.Tick]] = {}
    for tick in chart.ticks:
        rows.setdefault(tick.y, []).append(tick)
    months, years = sorted(rows)
    assert [t.text for t in rows[months]] == [str(d.month) for d, _ in _months(first)]
    for row in rows.values():  # a digit is at most ~0.6 em wide; 4 units between labels
        for a, b in itertools.pairwise(row):
            assert b.x - a.x >= (len(a.text) + len(b.text)) / 2 * 0.6 * rules.FONT + 4
    assert all(t.y <= chart.height for t in chart.ticks)
    assert "2025" in [t.text for t in rows[years]]
    # The year under every January, and under the first month unless a January is next to it.
    januaries = [t.x for t in rows[months] if t.text == "1"]
    assert {t.x for t in rows[years]} >= set(januaries)
