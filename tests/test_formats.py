"""Dates, months and percents in one Vietnamese form (issue 16, item 9), through coso.i18n."""

from __future__ import annotations

from datetime import date, datetime

import flask_babel
import pytest
from flask import Flask, render_template_string

from coso import i18n

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.5, f"50{NBSP}%"), (0, f"0{NBSP}%"), (1, f"100{NBSP}%"), (0.125, f"12{NBSP}%"), (None, "—")],
)
def test_percent_keeps_its_sign_on_the_line(app: Flask, value: float | None, expected: str) -> None:
    with app.test_request_context("/"), flask_babel.force_locale("vi"):
        assert i18n.fmt_percent(value) == expected


def test_dates_are_day_month_year(app: Flask) -> None:
    with app.test_request_context("/"), flask_babel.force_locale("vi"):
        assert i18n.fmt_date(date(2026, 12, 5)) == "05/12/2026"
        assert i18n.fmt_date(datetime(2026, 1, 9, 7, 3)).startswith("09/01/2026 ")
        assert i18n.fmt_date(None) == "—"


@pytest.mark.parametrize("value", ["2026-12", date(2026, 12, 17)])
def test_month_in_vietnamese(app: Flask, value: str | date) -> None:
    with app.test_request_context("/"), flask_babel.force_locale("vi"):
        assert i18n.fmt_month(value) == f"tháng{NBSP}12/2026"
        assert i18n.fmt_month(value).replace(NBSP, " ") == "tháng 12/2026"


def test_month_in_english(app: Flask) -> None:
    with app.test_request_context("/"), flask_babel.force_locale("en"):
        assert i18n.fmt_month("2026-03") == "March 2026"


@pytest.mark.parametrize("value", ["", None, "2026-13", "later", "2026-1"])
def test_a_month_that_is_not_one_is_shown_not_raised(app: Flask, value: str | None) -> None:
    with app.test_request_context("/"), flask_babel.force_locale("vi"):
        assert i18n.fmt_month(value) in ("—", value)


def test_the_filters_reach_templates(app: Flask) -> None:
    with app.test_request_context("/"), flask_babel.force_locale("vi"):
        text = render_template_string(
            "{{ d|date }} · {{ p|month }} · {{ s|percent }}", d=date(2026, 2, 3), p="2026-02", s=0.5
        )
    assert text == f"03/02/2026 · tháng{NBSP}02/2026 · 50{NBSP}%"
