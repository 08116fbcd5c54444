"""The audit log in words: event names and detail fields in the reader's language.

The log stores stable codes (``unit.update``, ``before``/``after`` dicts) so filters
and exports stay comparable over the years; the page and its CSV show them as a
person reads them. An action or field without a name here is shown as its code,
so a new event is never hidden, only less pretty.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext, lazy_pgettext


def _l(text: str) -> Any:
    """A lazy label in the ``audit`` context, so it never clashes with a same-looking msgid."""
    return lazy_pgettext("audit", text)


#: The log's kinds (the filter's choices) in words.
KIND_LABELS: dict[str, Any] = {
    "login": lazy_gettext("Sign-in"),
    "evaluation": lazy_gettext("Evaluations"),
    "feedback": lazy_gettext("Feedback"),
    "action": lazy_gettext("Corrective actions"),
    "unit": lazy_gettext("Units"),
    "user": lazy_gettext("Users"),
    "template": lazy_gettext("Checklist"),
    "guidance": lazy_gettext("Guidance"),
    "settings": lazy_gettext("Settings"),
    "visit": lazy_gettext("Visits"),
    "plan": lazy_gettext("Visit plans"),
}

EVENT_NAMES: dict[str, Any] = {
    "login": _l("Signed in"),
    "login.failed": _l("Sign-in failed"),
    "login.end": _l("Session ended"),
    "login.end_all": _l("All sessions ended"),
    "token.create": _l("Access token created"),
    "token.revoke": _l("Access token revoked"),
    "logout": _l("Signed out"),
    "demo.seed": _l("Demo data loaded"),
    "evaluation.create": _l("Evaluation sent"),
    "evaluation.correct": _l("Evaluation corrected"),
    "feedback.acknowledge": _l("Feedback acknowledged"),
    "feedback.reply": _l("Feedback answered"),
    "action.create": _l("Action assigned"),
    "action.propose": _l("Action proposed"),
    "action.accept": _l("Proposed action accepted"),
    "action.decline": _l("Proposed action declined"),
    "action.close": _l("Action closed"),
    "action.seen_done": _l("Action seen done at a meeting"),
    "visit.create": _l("Visit planned"),
    "visit.report": _l("Visit reported"),
    "visit.review": _l("Visit report reviewed"),
    "visit.amend": _l("Visit report amended after review"),
    "review.rubric": _l("Review rubric changed"),
    "plan.create": _l("Visit plan made"),
    "plan.propose": _l("Visit proposed"),
    "plan.approve": _l("Visit proposal approved"),
    "plan.decline": _l("Visit proposal declined"),
    "plan.replan": _l("Visit re-planned"),
    "plan.link": _l("Visit linked to a plan"),
    "notifications.preferences": _l("Notification choices changed"),
    "notifications.unsubscribe": _l("Unsubscribed from emails"),
    "guidance.create": _l("Guidance written"),
    "guidance.copy": _l("Guidance copied"),
    "guidance.update": _l("Guidance changed"),
    "guidance.delete": _l("Guidance deleted"),
    "template.create": _l("Checklist draft started"),
    "template.update": _l("Checklist draft saved"),
    "template.publish": _l("Checklist version published"),
    "template.retire": _l("Checklist version retired"),
    "template.delete": _l("Checklist draft discarded"),
    "settings.update": _l("Settings changed"),
    "settings.apply": _l("Settings applied to past evaluations"),
    "unit.create": _l("Unit created"),
    "unit.update": _l("Unit changed"),
    "unit.move": _l("Unit moved"),
    "unit.activate": _l("Unit reopened"),
    "unit.deactivate": _l("Unit closed"),
    "units.import": _l("Units imported"),
    "user.create": _l("Account created"),
    "user.update": _l("Account changed"),
    "user.password": _l("Password reset"),
    "user.activate": _l("Account reopened"),
    "user.deactivate": _l("Account closed"),
    "users.import": _l("Accounts imported"),
    "secretary.change": _l("New secretary recorded"),
    "secretary.update": _l("Secretary's record corrected"),
    "secretary.end": _l("Secretary's term ended"),
    "practice.create": _l("Good practice recorded"),
    "practice.spread": _l("Good practice spread"),
    "practice.withdraw": _l("Good practice no longer spread"),
    "difficulty.raise": _l("Difficulty raised"),
    "difficulty.answer": _l("Difficulty answered"),
    "difficulty.assign": _l("Difficulty assigned"),
    "difficulty.pass_up": _l("Difficulty passed up"),
    "difficulty.close": _l("Difficulty closed"),
    "difficulty.categories": _l("Difficulty categories changed"),
}

FIELD_NAMES: dict[str, Any] = {
    "name": _l("Name"),
    "code": _l("Code"),
    "kind": _l("Kind"),
    "parent": _l("Unit above"),
    "active": _l("Active"),
    "roles": _l("Roles"),
    "display_name": _l("Full name"),
    "username": _l("Username"),
    "unit_code": _l("Home unit code"),
    "status": _l("Status"),
    "version": _l("Version"),
    "based_on": _l("Copied from version id"),
    "title": _l("Title"),
    "topics": _l("Topics"),
    "period": _l("Month"),
    "material": _l("Material"),
    "link": _l("Link"),
    "via": _l("Through"),
    "file": _l("File"),
    "created": _l("Created"),
    "updated": _l("Updated"),
    "reason": _l("Reason"),
    "source": _l("Source"),
    "due_date": _l("Due date"),
    "evaluation_id": _l("Evaluation"),
    "session": _l("Session"),
    "weight": _l("Weight"),
    "text_vi": _l("Text (Vietnamese)"),
    "text_en": _l("Text (English)"),
    "critical": _l("Critical"),
    "section": _l("Section"),
    "position": _l("Order"),
    "start": _l("From"),
    "end": _l("To"),
    "error": _l("Error"),
    "form": _l("Form of visit"),
    "day_before": _l("Arrive a day before"),
    "cadres": _l("Cadres"),
    "cadre": _l("Cadre"),
    "visit": _l("Visit"),
    "new_plan": _l("New plan"),
}


def event_name(action: str) -> str:
    """The event's name in the current language (its code when it has none)."""
    name = EVENT_NAMES.get(action)
    return str(name) if name is not None else action


def field_name(key: str) -> str:
    """A detail field's name in the current language (the key itself, e.g. an item code)."""
    name = FIELD_NAMES.get(key)
    return str(name) if name is not None else key


def readable(value: Any) -> str:
    """A stored detail value as a person reads it: yes/no, lists joined, nested fields named."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, Mapping):
        return "; ".join(f"{field_name(str(k))}: {readable(v)}" for k, v in value.items())
    if isinstance(value, list | tuple | set):
        return ", ".join(readable(v) for v in value) or "—"
    return str(value)


def details_text(rows: list[tuple[str, Any, Any]]) -> str:
    """(field, before, after) rows as one line: "Name: old → new; Via: import"."""
    parts = []
    for key, before, after, *_rest in rows:
        if before is None:
            parts.append(f"{field_name(key)}: {readable(after)}")
        else:
            parts.append(f"{field_name(key)}: {readable(before)} → {readable(after)}")
    return " | ".join(parts)


def filters_in_words(values: Mapping[str, Any]) -> list[str]:
    """The log's filters as the form names them, for an export's title line."""
    labels = {
        "user": _("Username"),
        "unit": _("Unit code (and below)"),
        "kind": _("Kind"),
        "date_from": _("From"),
        "date_to": _("To"),
    }
    out = []
    for key, label in labels.items():
        value = values.get(key)
        if value:
            shown = KIND_LABELS.get(value, value) if key == "kind" else value
            out.append(f"{label}: {shown}")
    return out
