"""Reasons and outcomes in words, in the user's language."""

from __future__ import annotations

from typing import Any

from coso.i18n import N_, fmt_number, fmt_percent
from coso.i18n import gettext as _
from coso.models import ChecklistTemplate


def value_label(value: str) -> str:
    labels = {
        "pass": _("Pass"),
        "partial": _("Partial"),
        "fail": _("Fail"),
        "na": _("Not applicable"),
    }
    return labels.get(value, value)


def _items(codes: list[str], template: ChecklistTemplate | None, locale: str) -> str:
    parts = []
    for code in codes:
        item = template.item(code) if template else None
        parts.append(f"{code} ({item.text(locale)})" if item else code)
    return "; ".join(parts)


def describe(reason: dict[str, Any], template: ChecklistTemplate | None, locale: str) -> str:
    """One stored reason as a sentence a secretary understands."""
    rule = reason.get("rule")
    value, threshold = reason.get("value"), reason.get("threshold")
    items = list(reason.get("items") or [])
    if rule == "score":
        return _(
            "Score %(score)s is under the required %(threshold)s.",
            score=fmt_number(value),
            threshold=fmt_number(threshold, 0),
        )
    if rule == "critical":
        return _("Critical items failed: %(items)s.", items=_items(items, template, locale))
    if rule == "attendance":
        return _(
            "Attendance %(ratio)s is under the floor of %(floor)s.",
            ratio=fmt_percent(value),
            floor=fmt_percent(threshold),
        )
    if rule == "content":
        return _(
            "Only %(share)s of the month's guided topics were covered (at least %(floor)s needed).",
            share=fmt_percent(value),
            floor=fmt_percent(threshold),
        )
    if rule == "serious_score":
        return _("Serious: the score is under %(threshold)s.", threshold=fmt_number(threshold, 0))
    if rule == "serious_critical":
        return _("Serious: %(n)s critical items failed.", n=fmt_number(value or len(items), 0))
    return str(rule)


_SHORT = {
    "score": N_("Low score"),
    "critical": N_("Critical item failed"),
    "attendance": N_("Low attendance"),
    "content": N_("Guidance not followed"),
    "serious_score": N_("Serious"),
    "serious_critical": N_("Serious"),
}


def short_reason(reason: dict[str, Any]) -> str:
    """A few words for lists and filters."""
    rule = reason.get("rule", "")
    text = _(_SHORT[rule]) if rule in _SHORT else str(reason.get("rule"))
    if reason.get("rule") == "critical" and reason.get("items"):
        text += " (" + ", ".join(reason["items"]) + ")"
    return text
