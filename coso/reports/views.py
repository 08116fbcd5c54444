"""The report page (unit, year, half or whole year) and the Word document.

``/reports`` shows the form and the document's link; ``/reports/<unit>.docx?year=&part=``
makes the document on request, in the reader's language. Who may: as the exports
(:func:`coso.scope.can_export`): the province and administrators for their area, a commune
secretary for the commune's.
"""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask import Blueprint, Flask, Response, abort, current_app, request
from flask.cli import with_appcontext
from flask.typing import ResponseReturnValue
from flask_babel import force_locale, get_locale
from flask_login import current_user, login_required

from coso import clock, scope
from coso import spreadsheets as exports
from coso.extensions import db
from coso.i18n import gettext as _
from coso.models import Unit
from coso.reports import document, queries, rules
from coso.web import render_page, unit_arg, unit_choices, unit_in_scope

bp = Blueprint("reports", __name__)

Errors = dict[str, list[str]]
DOCX_MIMETYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _require_reporter() -> None:
    if not scope.can_export(current_user):
        abort(403, description=_("Your role does not allow this."))


def _when(errors: Errors) -> rules.ReportPeriod:
    today = clock.today()
    try:
        return rules.parse(request.args.get("year"), request.args.get("part"), today)
    except rules.ReportPeriodError as exc:
        errors[exc.field] = [
            _("Choose a year from %(first)s to %(last)s.", first=rules.FIRST_YEAR, last=today.year)
            if exc.field == "year"
            else _("Choose the first half, the second half or the whole year.")
        ]
        return rules.last_closed(today)


@bp.get("/reports")
@login_required
def index() -> ResponseReturnValue:
    """The form, and the link to the document of the unit and period chosen."""
    _require_reporter()
    errors: Errors = {}
    unit = unit_arg(errors)
    when = _when(errors)
    today = clock.today()
    context = {
        "unit": unit,
        "units": unit_choices(unit),
        "when": when,
        "years": list(range(today.year, max(rules.FIRST_YEAR, today.year - 10) - 1, -1)),
        "errors": errors,
    }
    return render_page(
        "reports/index.html", "reports/_form.html", 422 if errors else 200, **context
    )


@bp.get("/reports/<int:unit_id>.docx")
@login_required
def download(unit_id: int) -> ResponseReturnValue:
    """The half-year or year report of a unit as a Word document."""
    _require_reporter()
    unit = unit_in_scope(unit_id)
    errors: Errors = {}
    when = _when(errors)
    if errors:
        abort(422, description=" ".join(m for msgs in errors.values() for m in msgs))
    today = clock.today()
    report = queries.gather(unit, when, today, str(get_locale()))
    body = document.build(report, exports.made_at(), current_user.display_name)
    response = Response(body, mimetype=DOCX_MIMETYPE)
    name = exports.file_name("report", unit.code, when.year, when.part)
    response.headers["Content-Disposition"] = exports.attachment(f"{name}.docx")
    response.headers["Cache-Control"] = "private, no-store"
    return response


@click.command("report")
@click.option("--unit", "code", required=True, help="The unit's code (e.g. the province's).")
@click.option("--year", type=int, required=True, help="The year reported.")
@click.option("--part", type=click.Choice(rules.PARTS), default=rules.YEAR, show_default=True)
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, writable=True), required=True)
@with_appcontext
def report_command(code: str, year: int, part: str, lang: str, out: str) -> None:
    """Write a unit's half-year or year report (.docx) to a file, as the page makes it."""
    unit = db.session.scalar(sa.select(Unit).where(Unit.code == code))
    if unit is None:
        raise click.BadParameter(f"no unit has the code {code!r}", param_hint="--unit")
    today = clock.today()
    try:
        when = rules.parse(str(year), part, today)
    except rules.ReportPeriodError as exc:
        raise click.BadParameter(
            f"{year} is not a year from {rules.FIRST_YEAR} to {today.year}", param_hint="--year"
        ) from exc
    with current_app.test_request_context(), force_locale(lang):
        report = queries.gather(unit, when, today, lang)
        body = document.build(report, exports.made_at(), "coso")
    with open(out, "wb") as file:
        file.write(body)
    click.echo(f"{out}: {unit.name}, {when.period.start:%d/%m/%Y} – {when.period.end:%d/%m/%Y}")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.cli.add_command(report_command)
