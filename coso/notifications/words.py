"""Notifications in words: each kind's name and what a notice says, in the current locale."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import url_for
from flask_babel import gettext as _

from coso.i18n import fmt_date
from coso.models import Notification
from coso.notifications import rules


def kind_label(kind: str) -> str:
    labels = {
        rules.NEW_EVALUATION: _("A new evaluation of my branch"),
        rules.REPLY: _("A reply to my evaluation"),
        rules.ACTION_DUE: _("A corrective action due within 3 days"),
        rules.ACTION_OVERDUE: _("A corrective action overdue"),
        rules.UNACKNOWLEDGED: _("Feedback not acknowledged for too long"),
        rules.VISIT_ASSIGNED: _("A visit assigned to me"),
        rules.VISIT_TOMORROW: _("Tomorrow's planned visit"),
    }
    return labels.get(kind, kind)


def mode_label(mode: str) -> str:
    labels = {
        rules.IMMEDIATE: _("At once"),
        rules.DIGEST: _("Daily digest"),
        rules.OFF: _("Off"),
    }
    return labels.get(mode, mode)


def _day(value: Any) -> str:
    try:
        return fmt_date(date.fromisoformat(str(value)))
    except ValueError:
        return ""


def message(notification: Notification) -> str:
    """The notice's sentence, from its kind and parameters."""
    p = notification.params or {}
    kind = notification.kind
    if kind == rules.NEW_EVALUATION:
        if p.get("compliant") is False:
            return _(
                "%(cadre)s evaluated %(branch)s: not compliant.",
                cadre=p.get("cadre", ""),
                branch=p.get("branch", ""),
            )
        return _(
            "%(cadre)s evaluated %(branch)s.", cadre=p.get("cadre", ""), branch=p.get("branch", "")
        )
    if kind == rules.REPLY:
        return _("%(branch)s replied to your evaluation.", branch=p.get("branch", ""))
    if kind == rules.ACTION_DUE:
        return _(
            "A corrective action of %(branch)s is due on %(day)s.",
            branch=p.get("branch", ""),
            day=_day(p.get("due")),
        )
    if kind == rules.ACTION_OVERDUE:
        return _(
            "A corrective action of %(branch)s is overdue since %(day)s.",
            branch=p.get("branch", ""),
            day=_day(p.get("due")),
        )
    if kind == rules.UNACKNOWLEDGED:
        return _(
            "An evaluation of %(branch)s has waited %(days)s days for acknowledgement.",
            branch=p.get("branch", ""),
            days=p.get("days", ""),
        )
    if kind == rules.VISIT_ASSIGNED:
        return _(
            "You are planned to visit %(unit)s from %(start)s.",
            unit=p.get("unit", ""),
            start=_day(p.get("start")),
        )
    if kind == rules.VISIT_TOMORROW:
        return _("Tomorrow you visit %(unit)s.", unit=p.get("unit", ""))
    return kind_label(kind)


def link(notification: Notification, *, external: bool = False) -> str | None:
    """The URL of the thing the notice is about (None when it has none or is gone)."""
    target = (notification.params or {}).get("link") or {}
    endpoint, args = target.get("endpoint"), target.get("args") or {}
    if not isinstance(endpoint, str) or not isinstance(args, dict):
        return None
    try:
        return url_for(endpoint, _external=external, **args)
    except Exception:  # an endpoint renamed since the notice was written
        return None
