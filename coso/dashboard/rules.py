"""The pure rules of the province's pages: periods, rates and the charts' geometry.

No Flask and no database here, so every rule can be read and tested on its own.

The small SVG charts the templates draw (no chart library in the browser) take
rows of ``(label, share)`` in and give rectangles in SVG user units out. The
SVGs scale to their container through ``viewBox``, so one geometry fits a
360-px phone and a desktop alike.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from coso.dates import parse_day, parse_month

#: The longest period a rate or an export may cover (about two years).
MAX_PERIOD_DAYS = 731


class PeriodError(ValueError):
    """A period that cannot be read; ``field`` names the offending input."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem  # "invalid" | "order" | "too_long"


@dataclass(frozen=True)
class Period:
    """A closed range of dates; ``month`` is set when it is exactly one calendar month."""

    start: date
    end: date
    month: str | None = None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


def month_period(text: str) -> Period:
    """The calendar month ``YYYY-MM`` as a period.

    :raise PeriodError: the text is not a month.
    """
    try:
        first = parse_month(text)
    except ValueError:
        raise PeriodError("month", "invalid") from None
    year, month = first.year, first.month
    last = calendar.monthrange(year, month)[1]
    return Period(date(year, month, 1), date(year, month, last), f"{year:04d}-{month:02d}")


def previous_month(today: date) -> Period:
    """The last full calendar month before ``today``'s."""
    first = today.replace(day=1)
    return month_period((first - timedelta(days=1)).strftime("%Y-%m"))


def parse_period(month: str | None, start: str | None, end: str | None, default: Period) -> Period:
    """A period from a month (``YYYY-MM``) or a date range; nothing given is ``default``.

    A month wins over a range. A range may leave one end open: it then runs from
    the other end to the end (or start) of the default period.

    :raise PeriodError: a value cannot be read, the range is reversed or too long.
    """
    if month and month.strip():
        return month_period(month)
    if not (start and start.strip()) and not (end and end.strip()):
        return default
    first = _date("from", start) or default.start
    last = _date("to", end) or max(default.end, first)
    if last < first:
        raise PeriodError("to", "order")
    if (last - first).days + 1 > MAX_PERIOD_DAYS:
        raise PeriodError("to", "too_long")
    return Period(first, last)


def _date(name: str, text: str | None) -> date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return parse_day(text)
    except ValueError:
        raise PeriodError(name, "invalid") from None


def months_ending(last: date, count: int) -> list[Period]:
    """``count`` calendar months, oldest first, the last one containing ``last``."""
    out = []
    year, month = last.year, last.month
    for _ in range(count):
        # Built directly, not through month_period: a trend ending in January 2000 still
        # shows the months before, outside the years a person may type.
        end = date(year, month, calendar.monthrange(year, month)[1])
        out.append(Period(date(year, month, 1), end, f"{year:04d}-{month:02d}"))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    out.reverse()
    return out


#: Months a trend shows: the period's month and the eleven before it.
TREND_MONTHS = 12


def trend_window(today: date) -> list[Period]:
    """The months of the "where to act" trend on its default period (the last full month)."""
    return months_ending(previous_month(today).end, TREND_MONTHS)


def rate(part: int, whole: int) -> float | None:
    """``part / whole`` as a 0..1 share, or None when there is nothing to divide."""
    return part / whole if whole else None


# ---------------------------------------------------------------------- charts

#: The charts' width in user units: about a 360-px phone's card, so that one user unit is about
#: one CSS pixel there and FONT stays readable (the SVG only grows on wider screens).
WIDTH = 300.0
#: The labels' font size in user units (static/css/dashboard.css draws them at this size).
FONT = 13.0
#: Characters of a unit's name that fit on one line of the rates chart at FONT.
LABEL_CHARS = 40


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its share (None = no data) and where to draw them."""

    label: str
    value: float | None
    x: float
    y: float
    width: float
    height: float
    label_x: float
    label_y: float
    value_x: float
    value_y: float


@dataclass(frozen=True)
class Tick:
    """A label on a chart's axis, centred on ``x``."""

    text: str
    x: float
    y: float


@dataclass(frozen=True)
class Chart:
    width: float
    height: float
    bars: tuple[Bar, ...]
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    ticks: tuple[Tick, ...] = ()

    def gridline_x(self, share: float) -> float:
        """Where a share falls on a horizontal chart's axis."""
        return self.plot_left + (self.plot_right - self.plot_left) * share

    def gridline_y(self, share: float) -> float:
        """Where a share falls on a vertical chart's axis."""
        return self.plot_bottom - (self.plot_bottom - self.plot_top) * share


def _clamp(value: float | None) -> float:
    return 0.0 if value is None else max(0.0, min(1.0, value))


def horizontal_bars(
    rows: Sequence[tuple[str, float | None]],
    width: float = WIDTH,
    row_height: float = 44.0,
) -> Chart:
    """A bar per row: the label on its own line above a bar as long as the share.

    Labels above the bars (not beside them) leave the whole width to the bar on a phone.
    """
    left, right, value_room = 2.0, width - 2.0, 48.0
    bars = []
    for index, (label, value) in enumerate(rows):
        top = index * row_height
        plot = right - left - value_room
        length = plot * _clamp(value)
        bars.append(
            Bar(
                label=label,
                value=value,
                x=left,
                y=top + 19.0,
                width=round(length, 2),
                height=16.0,
                label_x=left,
                label_y=top + 14.0,
                value_x=round(left + length + 4.0, 2),
                value_y=top + 32.0,
            )
        )
    height = max(row_height, row_height * len(rows))
    return Chart(width, height, tuple(bars), left, right - value_room, 0.0, height)


def vertical_bars(
    months: Sequence[tuple[date, float | None]], width: float = WIDTH, height: float = 170.0
) -> Chart:
    """A column per month of a trend, shares from 0 to 100 %, the months' numbers underneath.

    Twelve labels such as "03/26" do not fit side by side on a phone, so each column shows
    only its month's number and a second line the year: under the first column and under
    each January (the first column's year is left out when a January follows within two
    columns, where the two would touch).
    """
    left, right, top, bottom = 40.0, width - 4.0, 8.0, height - 38.0
    count = max(1, len(months))
    slot = (right - left) / count
    bar_width = max(2.0, slot * 0.7)
    bars = []
    ticks = []
    januaries = [i for i, (day, _) in enumerate(months) if day.month == 1]
    for index, (day, value) in enumerate(months):
        bar_height = (bottom - top) * _clamp(value)
        x = left + slot * index + (slot - bar_width) / 2
        centre = round(x + bar_width / 2, 2)
        bars.append(
            Bar(
                label=f"{day.month:02d}/{day.year % 100:02d}",
                value=value,
                x=round(x, 2),
                y=round(bottom - bar_height, 2),
                width=round(bar_width, 2),
                height=round(bar_height, 2),
                label_x=centre,
                label_y=bottom + FONT + 3.0,
                value_x=centre,
                value_y=round(bottom - bar_height - 3.0, 2),
            )
        )
        ticks.append(Tick(str(day.month), centre, bottom + FONT + 3.0))
        first_alone = index == 0 and not any(0 < j <= 2 for j in januaries)
        if day.month == 1 or first_alone:
            ticks.append(Tick(str(day.year), centre, bottom + 2 * FONT + 7.0))
    return Chart(width, height, tuple(bars), left, right, top, bottom, tuple(ticks))
