"""The monthly guidance form: the month, title, material or link, and its topics."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from coso.checklists.rules import CODE_RE
from coso.checklists.schema import CODE_MESSAGE
from coso.fields import MAX_YEAR, MIN_YEAR, matching, msgs, parse_month, text
from coso.guidance.rules import PERIOD_RE

MAX_TOPICS = 30
#: The form reads at most this many topic rows.
MAX_FORM_ROWS = 100


class TopicSchema(Schema):
    """One topic of a month's guidance (evaluations name the topics they covered by code)."""

    class Meta:
        unknown = EXCLUDE

    code = matching(CODE_RE, CODE_MESSAGE)
    title = text(300, required=True)


def _month_in_years(value: str) -> None:
    """A well-written period must also fall in the years a date may (``0000-01`` may not)."""
    if not isinstance(value, str) or not re.fullmatch(PERIOD_RE, value):
        return  # the Regexp validator reports it
    try:
        parse_month(value)
    except ValueError:
        raise ValidationError(
            [_l("Enter a date from the year %(a)s to %(b)s.", a=MIN_YEAR, b=MAX_YEAR)]
        ) from None


class GuidanceSchema(Schema):
    """A month's guidance: period, title, topics, and optionally the material or a link to it."""

    class Meta:
        unknown = EXCLUDE

    period = fields.String(
        required=True,
        error_messages=msgs(),
        validate=[
            validate.Regexp(PERIOD_RE, error=_l("Choose a month (YYYY-MM).")),
            _month_in_years,
        ],
    )
    title = text(300, required=True)
    material = text(20_000)
    link = fields.String(
        load_default=None,
        allow_none=True,
        error_messages=msgs(),
        validate=[
            validate.Length(max=500, error=_l("Enter at most %(n)s characters.", n=500)),
            validate.URL(
                schemes={"http", "https"},
                require_tld=True,
                error=_l("Enter a web address starting with https://"),
            ),
        ],
    )
    topics = fields.List(
        fields.Nested(TopicSchema),
        required=True,
        error_messages=msgs(),
        validate=validate.Length(
            min=1, max=MAX_TOPICS, error=_l("List 1 to %(n)s topics.", n=MAX_TOPICS)
        ),
    )

    @validates_schema(skip_on_field_errors=True)
    def check_topics(self, data: dict[str, Any], **kwargs: Any) -> None:
        codes = [topic["code"] for topic in data["topics"]]
        repeated = sorted({code for code in codes if codes.count(code) > 1})
        if repeated:
            raise ValidationError(
                _l("Topic codes repeat: %(codes)s.", codes=", ".join(repeated)), "topics_total"
            )


def topics_from_form(form: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Topic rows in form order; blank rows left out and missing codes filled (T1, T2 …)."""
    indexes = sorted(
        {
            int(key.split("-")[1])
            for key in form
            if key.startswith("topics-") and key.count("-") == 2 and key.split("-")[1].isdecimal()
        }
    )
    rows = []
    for index in indexes[:MAX_FORM_ROWS]:
        code = (form.get(f"topics-{index}-code") or "").strip()
        title = " ".join((form.get(f"topics-{index}-title") or "").split())
        if form.get(f"topics-{index}-remove") or not (code or title):
            continue
        rows.append({"code": code or None, "title": title or None})
    used = {row["code"] for row in rows if row["code"]}
    number = 1
    for row in rows:
        if row["code"] is None:
            while f"T{number}" in used:
                number += 1
            row["code"] = f"T{number}"
            used.add(row["code"])
    return rows
