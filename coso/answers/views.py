"""The export page (unit, period, format; then the two files' links) and the files.

``/exports`` shows the form and, once it is valid, what the files hold and their links;
``/exports/<unit>/<evaluations|answers>.<csv|xlsx>`` streams a file (see
:func:`coso.spreadsheets.streamed_response`). The province (and administrators) export
their subtree, a commune secretary the commune's (:func:`coso.scope.can_export`).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, abort, request
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from coso import clock, scope
from coso import spreadsheets as exports
from coso.answers import queries, rules, words
from coso.dashboard.rules import Period, PeriodError
from coso.i18n import gettext as _
from coso.models import Unit
from coso.web import render_page, unit_arg, unit_choices, unit_in_scope

bp = Blueprint("answers", __name__)

Errors = dict[str, list[str]]


def _require_exporter() -> None:
    if not scope.can_export(current_user):
        abort(403, description=_("Your role does not allow this."))


def _period(errors: Errors) -> Period:
    today = clock.today()
    try:
        return rules.export_period(request.args.get("from"), request.args.get("to"), today)
    except PeriodError as exc:
        errors[exc.field] = [
            {
                "invalid": _("Enter a date as dd/mm/yyyy."),
                "order": _("The end date must not be before the start date."),
                "too_long": _("An export covers at most a year: choose a shorter period."),
            }[exc.problem]
        ]
        return rules.default_period(today)


def _period_text(period: Period) -> str:
    return _(
        "Period: %(start)s – %(end)s",
        start=f"{period.start:%d/%m/%Y}",
        end=f"{period.end:%d/%m/%Y}",
    )


@bp.get("/exports")
@login_required
def index() -> ResponseReturnValue:
    """The form; once asked (``?unit=…``) and valid, the counts and the two files' links."""
    _require_exporter()
    errors: Errors = {}
    unit = unit_arg(errors)
    period = _period(errors)
    fmt = request.args.get("format", "xlsx")
    if fmt not in words.FORMATS:
        errors["format"] = [_("Choose a format from the list.")]
        fmt = "xlsx"
    asked = "unit" in request.args and not errors
    extension, sep = words.FORMATS[fmt]
    args: dict[str, Any] = {
        "unit_id": unit.id,
        "fmt": extension,
        "from": period.start.isoformat(),
        "to": period.end.isoformat(),
    }
    if sep:
        args["sep"] = sep
    context = {
        "unit": unit,
        "units": unit_choices(unit),
        "period": period,
        "fmt": fmt,
        "formats": words.FORMATS,
        "errors": errors,
        "asked": asked,
        "count": queries.count(unit, period) if asked else None,
        "file_args": args,
    }
    return render_page(
        "answers/index.html", "answers/_form.html", 422 if errors else 200, **context
    )


@bp.get("/exports/<int:unit_id>/<any(evaluations, answers):kind>.<any(csv, xlsx):fmt>")
@login_required
def download(unit_id: int, kind: str, fmt: str) -> ResponseReturnValue:
    """A unit's evaluations (one row each) or answers (one row per item) of a period."""
    _require_exporter()
    unit: Unit = unit_in_scope(unit_id)
    errors: Errors = {}
    period = _period(errors)
    if errors:
        abort(422, description=" ".join(m for msgs in errors.values() for m in msgs))
    label = f"{period.start.isoformat()}_{period.end.isoformat()}"
    name = exports.file_name(kind, unit.code, label)
    if kind == "evaluations":
        what, columns, sheet = _("Evaluations"), words.evaluation_columns(), "Đánh giá"
        rows: Any = queries.evaluation_rows(unit, period)
    else:
        what, columns, sheet = _("Answers"), words.answer_columns(), "Câu trả lời"
        rows = queries.answer_rows(unit, period)
    heading = exports.Heading(what, unit.name, [_period_text(period)])
    return exports.streamed_response(fmt, columns, rows, name, sheet, heading)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
