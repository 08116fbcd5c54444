"""Geometry of the small SVG charts the templates draw (no chart library in the browser).

Pure functions: rows of ``(label, share)`` in, rectangles in SVG user units out.
The SVGs scale to their container through ``viewBox``, so one geometry fits a
360-px phone and a desktop alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 320.0


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
class Chart:
    width: float
    height: float
    bars: tuple[Bar, ...]
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float

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
    row_height: float = 40.0,
) -> Chart:
    """A bar per row: the label on its own line above a bar as long as the share.

    Labels above the bars (not beside them) leave the whole width to the bar on a phone.
    """
    left, right, value_room = 4.0, width - 4.0, 44.0
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
                y=top + 18.0,
                width=round(length, 2),
                height=16.0,
                label_x=left,
                label_y=top + 13.0,
                value_x=round(left + length + 4.0, 2),
                value_y=top + 31.0,
            )
        )
    height = max(row_height, row_height * len(rows))
    return Chart(width, height, tuple(bars), left, right - value_room, 0.0, height)


def vertical_bars(
    points: Sequence[tuple[str, float | None]], width: float = WIDTH, height: float = 150.0
) -> Chart:
    """A column per point (months of a trend), labels underneath, shares from 0 to 100 %."""
    left, right, top, bottom = 30.0, width - 4.0, 8.0, height - 22.0
    count = max(1, len(points))
    slot = (right - left) / count
    bar_width = max(2.0, slot * 0.7)
    bars = []
    for index, (label, value) in enumerate(points):
        bar_height = (bottom - top) * _clamp(value)
        x = left + slot * index + (slot - bar_width) / 2
        bars.append(
            Bar(
                label=label,
                value=value,
                x=round(x, 2),
                y=round(bottom - bar_height, 2),
                width=round(bar_width, 2),
                height=round(bar_height, 2),
                label_x=round(x + bar_width / 2, 2),
                label_y=height - 6.0,
                value_x=round(x + bar_width / 2, 2),
                value_y=round(bottom - bar_height - 3.0, 2),
            )
        )
    return Chart(width, height, tuple(bars), left, right, top, bottom)
