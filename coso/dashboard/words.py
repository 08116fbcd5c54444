"""Labels and sentences the province's pages and exports share, in the user's language."""

from __future__ import annotations

from datetime import date
from typing import Any

from coso.evaluations import words
from coso.i18n import N_
from coso.i18n import gettext as _
from coso.judging import flags
from coso.models import ChecklistTemplate

_STATES = {
    flags.OK: N_("OK"),
    flags.FLAGGED: N_("Flagged"),
    flags.REPEAT: N_("Repeat offender"),
    flags.OVERDUE: N_("Not visited"),
    flags.NEVER: N_("Never evaluated"),
}


def state_label(state: str) -> str:
    """A state in words (the words of the badge in ``_state.html``)."""
    return _(_STATES[state]) if state in _STATES else state


def form_label(form: str) -> str:
    """A form of visit to the grassroots in words."""
    labels = {
        "meeting": _("Branch meeting"),
        "inspection": _("Inspection and supervision"),
        "coorganise": _("Co-organising an activity"),
        "field_study": _("Field study"),
        "research": _("Topic research"),
    }
    return labels.get(form, form)


def kind_label(kind: str) -> str:
    """A kind of unit in words."""
    labels = {
        "central": _("Central Committee"),
        "province": _("Province union"),
        "bloc": _("Agency bloc"),
        "commune": _("Commune union"),
        "ward": _("Ward union"),
        "school": _("School union"),
        "enterprise": _("Enterprise union"),
        "agency": _("Agency union"),
        "interbranch": _("Inter-branch union"),
        "branch": _("Branch"),
    }
    return labels.get(kind, kind)


def rule_label(rule: str) -> str:
    """A flag rule in words, for the reason filter."""
    labels = {
        "score": _("Low score"),
        "critical": _("A critical item failed"),
        "attendance": _("Low attendance"),
        "content": _("Guidance not followed"),
    }
    return labels.get(rule, rule)


def reasons_in_words(
    state: str,
    reasons: list[dict[str, Any]],
    last_date: date | None,
    today: date,
    template: ChecklistTemplate | None,
    locale: str,
    *,
    short: bool = False,
) -> list[str]:
    """Why a branch shows its state: the overdue window first, then the stored reasons."""
    out: list[str] = []
    if state == flags.OVERDUE and last_date is not None:
        out.append(
            _("No evaluation for %(days)s days.", days=(today - last_date).days)
            if not short
            else _("Not visited for %(days)s days", days=(today - last_date).days)
        )
    elif state == flags.NEVER:
        out.append(_("No evaluation yet."))
    if state == flags.OK:
        return out
    for reason in reasons:
        if reason.get("rule", "").startswith("serious") and short:
            continue
        out.append(
            words.short_reason(reason) if short else words.describe(reason, template, locale)
        )
    if state == flags.OVERDUE and reasons and not short:
        out[1:] = [_("Last evaluation: %(reason)s", reason=text) for text in out[1:]]
    return out


def flagged_filters(filters: Any, reason_label: str) -> list[str]:
    """The flagged list's filters in words, for an export's title line."""
    names = {"attention": _("Needing attention"), "all": _("All branches")}
    out = [_("State: %(state)s", state=names.get(filters.state) or state_label(filters.state))]
    if filters.reason:
        out.append(_("Reason: %(reason)s", reason=reason_label))
    if filters.serious:
        out.append(_("Serious only"))
    if filters.since_from or filters.since_to:
        out.append(
            _(
                "Flagged since: %(start)s – %(end)s",
                start=filters.since_from.strftime("%d/%m/%Y") if filters.since_from else "…",
                end=filters.since_to.strftime("%d/%m/%Y") if filters.since_to else "…",
            )
        )
    return out
