"""The columns of the two files, their headers (Vietnamese in the file) and their labels."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l

from coso import spreadsheets as exports
from coso.answers.queries import AnswerRow, EvaluationRow
from coso.evaluations.words import short_reason, value_label
from coso.i18n import N_
from coso.i18n import gettext as _

MEETING_TYPES = {
    "regular": N_("Regular"),
    "theme": N_("Monthly theme"),
    "topic": N_("Special topic"),
    "extraordinary": N_("Extraordinary"),
}
MODES = {"in_person": N_("In person"), "online": N_("Online")}
#: The format choices of the form: the file's extension and the CSV separator.
FORMATS = {"xlsx": ("xlsx", ""), "csv-semicolon": ("csv", "semicolon"), "csv": ("csv", "")}


def _label(labels: dict[str, str], value: str) -> str:
    return _(labels[value]) if value in labels else value


def _local_day(moment: datetime) -> date:
    """The day a UTC moment falls on in the app's time zone (Vietnam)."""
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "UTC")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).date()


def evaluation_columns() -> list[exports.Column]:
    """One row per evaluation."""
    return [
        exports.Column(_l("Evaluation no."), lambda r: r.id, "int"),
        exports.Column(_l("Branch code"), lambda r: r.branch.code),
        exports.Column(_l("Branch"), lambda r: r.branch.name),
        exports.Column(_l("Under"), lambda r: r.branch.path),
        exports.Column(_l("Evaluated by"), lambda r: r.cadre),
        exports.Column(_l("Meeting date"), lambda r: r.meeting_date, "date"),
        exports.Column(_l("Received on"), lambda r: _local_day(r.received_at), "date"),
        exports.Column(_l("Meeting type"), lambda r: _label(MEETING_TYPES, r.meeting_type)),
        exports.Column(_l("Meeting mode"), lambda r: _label(MODES, r.mode)),
        exports.Column(_l("Members"), lambda r: r.members_total, "int"),
        exports.Column(_l("Members present"), lambda r: r.members_present, "int"),
        exports.Column(_l("Attendance"), lambda r: r.attendance, "percent"),
        exports.Column(_l("Score"), lambda r: r.score, "number"),
        exports.Column(_l("Procedure score"), lambda r: r.procedure_score, "number"),
        exports.Column(_l("Content score"), lambda r: r.content_score, "number"),
        exports.Column(_l("Compliant"), lambda r: r.compliant),
        exports.Column(_l("Serious"), lambda r: r.serious),
        exports.Column(_l("Reasons"), _reasons, "long"),
        exports.Column(_l("Corrects evaluation no."), lambda r: r.supersedes_id, "int"),
        exports.Column(_l("Photos"), lambda r: r.photos, "int"),
    ]


def _reasons(row: EvaluationRow) -> str:
    return "; ".join(short_reason(reason) for reason in row.reasons)


def answer_columns() -> list[exports.Column]:
    """One row per answered item (the photos are counted per evaluation, in the other file)."""

    def value(row: AnswerRow) -> str:
        return value_label(row.value)

    return [
        exports.Column(_l("Evaluation no."), lambda r: r.evaluation_id, "int"),
        exports.Column(_l("Branch code"), lambda r: r.branch.code),
        exports.Column(_l("Branch"), lambda r: r.branch.name),
        exports.Column(_l("Item code"), lambda r: r.item_code),
        exports.Column(_l("Item"), lambda r: r.item_text, "long"),
        exports.Column(_l("Answer"), value),
        exports.Column(_l("Note"), lambda r: r.note, "long"),
    ]
