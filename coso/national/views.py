"""``/national``: the Central Committee's view of every province (issue 22, item 1).

One row per province: its branches by state (the flagged list's counts), where to act's
rate, trend and most failed items over a month, and its 1+2 ledger; each row opens the
province's own pages (``/dashboard?unit=<province>`` and the rest) as its users see them.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from coso import clock, scope
from coso import spreadsheets as exports
from coso.dashboard.rules import Period
from coso.dashboard.views import parse_period
from coso.dashboard.words import state_label
from coso.i18n import gettext as _
from coso.judging.queries import thresholds
from coso.national import queries, rules
from coso.national.rules import ProvinceRow
from coso.national.words import items_in_words, trend_in_words
from coso.visits.views import requested_year
from coso.web import render_page

bp = Blueprint("national", __name__)

Errors = dict[str, list[str]]


def _context() -> tuple[dict[str, Any], Errors]:
    if not scope.sees_nation(current_user):
        abort(403, description=_("Only the Central Committee sees every province."))
    errors: Errors = {}
    today = clock.today()
    period = parse_period(request.args, errors, today)
    year = requested_year(errors, today)
    top = current_user.unit
    resolved = thresholds(top)  # once: every province's branches by their own settings
    rows = queries.rollup(top, period, year, today, resolved, str(get_locale()))
    context = {
        "unit": top,
        "period": period,
        "year": year,
        "errors": errors,
        "rows": rules.worst_first(rows),
        "total": rules.total(top, rows),
        "today": today,
        "attention_states": rules.ATTENTION_STATES,
    }
    return context, errors


@bp.get("/national")
@login_required
def index() -> ResponseReturnValue:
    """Every province: flagged branches, where to act, the 1+2 ledger; each opens its pages."""
    context, errors = _context()
    return render_page(
        "national/index.html", "national/_rollup.html", 422 if errors else 200, **context
    )


def _columns(period: Period, year: int) -> list[exports.Column]:
    def count(state: str) -> Any:
        return lambda r: r.counts.get(state, 0)

    return [
        exports.Column(_l("Province"), lambda r: r.unit.name),
        exports.Column(_l("Code"), lambda r: r.unit.code),
        exports.Column(_l("Branches"), lambda r: r.branches, "int"),
        exports.Column(_l("Needing attention"), lambda r: r.attention, "int"),
        *(
            exports.Column(state_label(state), count(state), "int")
            for state in (*rules.ATTENTION_STATES, "ok")
        ),
        exports.Column(_l("Evaluations"), lambda r: r.evaluations, "int"),
        exports.Column(_l("Compliant"), lambda r: r.compliant, "int"),
        exports.Column(_l("Compliance rate"), lambda r: r.rate, "percent"),
        exports.Column(_l("Branches evaluated"), lambda r: r.evaluated, "int"),
        exports.Column(_l("Coverage"), lambda r: r.coverage, "percent"),
        exports.Column(_l("Trend"), trend_in_words),
        exports.Column(_l("Change from the month before"), lambda r: r.change, "percent"),
        exports.Column(_l("Items failed most"), items_in_words, "long"),
        exports.Column(_l("Going to the grassroots"), lambda r: r.ledger.goers, "int"),
        exports.Column(_l("Days at the grassroots"), lambda r: r.ledger.days, "int"),
        exports.Column(_l("Behind the pace"), lambda r: r.ledger.behind, "int"),
        exports.Column(_l("Target reached"), lambda r: r.ledger.reached, "int"),
        exports.Column(_l("From"), lambda r: period.start, "date"),
        exports.Column(_l("To"), lambda r: period.end, "date"),
        exports.Column(_l("Year"), lambda r: year, "int"),
    ]


@bp.get("/national.<any(csv, xlsx):fmt>")
@login_required
def export(fmt: str) -> ResponseReturnValue:
    """What the page shows, one row per province and the nation's total, as CSV or XLSX."""
    context, errors = _context()
    if errors:
        return render_template("national/index.html", **context), 422
    period, year, top = context["period"], context["year"], context["unit"]
    rows: list[ProvinceRow] = [*context["rows"], context["total"]]
    label = period.month or f"{period.start.isoformat()}_{period.end.isoformat()}"
    when = _(
        "Period: %(start)s – %(end)s",
        start=f"{period.start:%d/%m/%Y}",
        end=f"{period.end:%d/%m/%Y}",
    )
    heading = exports.Heading(_("Provinces at a glance"), top.name, [when])
    name = exports.file_name("national", top.code, label)
    return exports.response(fmt, _columns(period, year), rows, name, "Tỉnh", heading)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals.update(sees_nation=scope.sees_nation)
