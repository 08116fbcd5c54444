"""Plan against done (per period, per cadre, per commune) and who should go where next:
the planners' pages over the plans, on the plans' blueprint."""

from __future__ import annotations

from typing import Any

from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from coso import clock
from coso import spreadsheets as exports
from coso.models import Unit
from coso.plans import queries, rules
from coso.plans.views import PAGE_SIZE, Errors, _period, _period_args, _require_planner, bp
from coso.web import choice_arg, page_arg, page_of, render_page

# ------------------------------------------------------------- plan against done


def _report_context() -> tuple[dict[str, Any], Errors]:
    _require_planner()
    today = clock.today()
    errors: Errors = {}
    period = _period(errors, today)
    unit = current_user.unit
    found = queries.area_period(unit, period.start, period.end, today)
    report = rules.report(found.facts, found.visits, period.start, period.end, today)
    people = queries.names(report.by_cadre)
    cadre_rows = sorted(
        ((people[u], t) for u, t in report.by_cadre.items() if u in people),
        key=lambda r: (-r[1].missed, r[0].display_name, r[0].id),
    )
    areas = queries.units(report.by_area)
    area_rows = sorted(
        ((areas.get(a), t) for a, t in report.by_area.items()),
        key=lambda r: (r[0] is None, r[0].name if r[0] else ""),
    )
    context = {
        "unit": unit,
        "period": period,
        "period_args": _period_args(period),
        "total": report.total,
        "cadre_rows": cadre_rows,
        "area_rows": area_rows,
        "errors": errors,
        "today": today,
    }
    return context, errors


@bp.get("/report")
@login_required
def report() -> ResponseReturnValue:
    """Plan against done for a period: the area's figures, per cadre and per commune."""
    context, errors = _report_context()
    return render_page("plans/report.html", "plans/_report.html", 422 if errors else 200, **context)


def _tally_columns(first: Any, first_value: Any) -> list[exports.Column]:
    return [
        exports.Column(first, first_value),
        exports.Column(_l("Planned"), lambda r: r[1].planned, "int"),
        exports.Column(_l("Done"), lambda r: r[1].done, "int"),
        exports.Column(_l("Missed"), lambda r: r[1].missed, "int"),
        exports.Column(_l("Upcoming"), lambda r: r[1].upcoming, "int"),
        exports.Column(_l("Re-planned"), lambda r: r[1].replanned, "int"),
        exports.Column(_l("Unplanned visits"), lambda r: r[1].unplanned, "int"),
        exports.Column(_l("Proposals waiting"), lambda r: r[1].proposed, "int"),
        exports.Column(_l("Done of those due"), lambda r: r[1].done_share, "percent"),
    ]


@bp.get("/report.<any(csv, xlsx):fmt>")
@login_required
def export_report(fmt: str) -> ResponseReturnValue:
    """The report's per-cadre table (``?by=commune``: per commune) as CSV or XLSX."""
    context, errors = _report_context()
    if errors:
        return render_page("plans/report.html", "plans/_report.html", 422, **context)
    by = choice_arg("by", ("cadre", "commune"), "cadre", {})
    period, unit = context["period"], context["unit"]
    if by == "commune":
        columns = _tally_columns(
            _l("Commune"), lambda r: r[0].name if r[0] else _("Above the communes")
        )
        rows = context["area_rows"]
        what = _("Plan against done by commune")
    else:
        columns = _tally_columns(_l("Cadre"), lambda r: r[0].display_name)
        rows = context["cadre_rows"]
        what = _("Plan against done by cadre")
    name = exports.file_name("plans", by, unit.code, period.month or f"{period.start}-{period.end}")
    filters = [
        _(
            "Period: %(start)s – %(end)s",
            start=period.start.strftime("%d/%m/%Y"),
            end=period.end.strftime("%d/%m/%Y"),
        )
    ]
    return exports.response(
        fmt, columns, rows, name, "Kế hoạch và thực hiện", exports.Heading(what, unit.name, filters)
    )


# ------------------------------------------------------------ who goes where next


def _next_rows() -> tuple[list[rules.Need], dict[int, Unit]]:
    _require_planner()
    rows = queries.next_branches(current_user.unit, clock.today())
    return rows, {}


@bp.get("/next")
@login_required
def next_page() -> ResponseReturnValue:
    """The flagged or overdue branches no plan reaches, neediest first, each with "plan"."""
    rows, _units = _next_rows()
    result = page_of(rows, page_arg(), PAGE_SIZE)
    branches = queries.units(r.branch_id for r in result.rows)
    parents = queries.units(b.parent_id for b in branches.values())
    return render_page(
        "plans/next.html",
        "plans/_next.html",
        200,
        result=result,
        rows=result.rows,
        branches=branches,
        parents=parents,
        unit=current_user.unit,
        today=clock.today(),
    )


@bp.get("/next.<any(csv, xlsx):fmt>")
@login_required
def export_next(fmt: str) -> ResponseReturnValue:
    rows, _units = _next_rows()
    branches = queries.units(r.branch_id for r in rows)
    from coso.dashboard.words import state_label as branch_state

    columns = [
        exports.Column(_l("Branch"), lambda r: r.name),
        exports.Column(
            _l("Code"), lambda r: branches[r.branch_id].code if r.branch_id in branches else ""
        ),
        exports.Column(_l("State"), lambda r: branch_state(r.state)),
        exports.Column(_l("Serious"), lambda r: r.serious),
        exports.Column(_l("Since"), lambda r: r.since, "date"),
    ]
    unit, today = current_user.unit, clock.today()
    return exports.response(
        fmt,
        columns,
        rows,
        exports.file_name("next", unit.code, today.isoformat()),
        "Cần đến tiếp",
        exports.Heading(_("Who should go where next"), unit.name, []),
    )
