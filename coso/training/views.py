"""The training view: /training (the page), its exports, and /training/evidence."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Blueprint, abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from coso import clock, scope
from coso import spreadsheets as exports
from coso.checklists.queries import current_template
from coso.dashboard import rules as periods
from coso.difficulties import queries as difficulty_queries
from coso.difficulties.words import category_label
from coso.i18n import gettext as _
from coso.models import Unit, User
from coso.training import queries, rules
from coso.web import page_arg, render_page, unit_arg, unit_choices

bp = Blueprint("training", __name__)

Errors = dict[str, list[str]]
#: Items the plan lists (the export has them all).
SHOWN = 15


def may_read(user: User) -> bool:
    """The province (and administrators) for their area, a commune secretary for the commune."""
    return scope.can(user, "evaluate_view") or scope.can_plan(user)


def _require() -> None:
    if not may_read(current_user):
        abort(403, description=_("Your role does not allow this."))


def default_period(today: date) -> periods.Period:
    """The twelve full months before this one: what an annual training plan looks back on."""
    last = periods.previous_month(today).end
    first = periods.months_ending(last, 12)[0].start
    return periods.Period(first, last)


def _period(errors: Errors) -> periods.Period:
    default = default_period(clock.today())
    try:
        return periods.parse_period(None, request.args.get("from"), request.args.get("to"), default)
    except periods.PeriodError as exc:
        messages = {
            "invalid": _("Enter a date as dd/mm/yyyy."),
            "order": _("The end date must not be before the start date."),
            "too_long": _("A period can be at most two years long."),
        }
        errors[exc.field] = [messages[exc.problem]]
        return default


@dataclass
class Row:
    """One item of the plan, with its words and the child units it reaches."""

    need: rules.Need
    text: str
    critical: bool
    reached: list[Unit]


def _context() -> tuple[dict[str, Any], Errors]:
    errors: Errors = {}
    unit = unit_arg(errors)
    period = _period(errors)
    found = queries.findings(unit, period)
    needs = rules.rank(found.tallies, found.evaluations)
    template = current_template(unit)
    locale = str(get_locale())
    by_id = {child.id: child for child in found.children}
    rows = []
    for need in needs:
        spec = template.item(need.code) if template else None
        reached = [
            by_id[child]
            for child, tally in need.by_child.items()
            if child in by_id
            and (share := tally.share(found.evaluations.get(child, 0))) is not None
            and share >= rules.NEED_SHARE
        ]
        reached.sort(key=lambda u: (u.name, u.id))
        rows.append(
            Row(
                need,
                spec.text(locale) if spec else need.code,
                bool(spec and spec.critical),
                reached,
            )
        )
    texts = {row.need.code: row.text for row in rows}
    children = [
        (child, found.evaluations.get(child.id, 0),
         rules.top_for(child.id, needs, found.evaluations.get(child.id, 0)))
        for child in found.children
    ]  # fmt: skip
    raised, raised_by_child = queries.difficulty_counts(unit, period)
    context = {
        "unit": unit,
        "period": period,
        "errors": errors,
        "rows": rows,
        "categories": rules.rank_categories(raised, raised_by_child),
        "raised_top": {
            child: rules.top_categories(counts) for child, counts in raised_by_child.items()
        },
        "category_labels": category_labels(unit),
        "children_by_id": by_id,
        "shown": SHOWN,
        "children": children,
        "texts": texts,
        "evaluations": sum(found.evaluations.values()),
        "units": unit_choices(unit),
        "need_share": rules.NEED_SHARE,
        "args": {"unit": unit.id, "from": period.start.isoformat(), "to": period.end.isoformat()},
    }
    return context, errors


@bp.get("/training")
@login_required
def index() -> ResponseReturnValue:
    """What the next training should cover, from a period's findings."""
    _require()
    context, errors = _context()
    return render_page(
        "training/index.html", "training/_needs.html", 422 if errors else 200, **context
    )


def _columns(period: periods.Period) -> list[exports.Column]:
    return [
        exports.Column(_l("Rank"), lambda r: r[0], "int"),
        exports.Column(_l("Item"), lambda r: r[1].need.code),
        exports.Column(_l("What the checklist asks"), lambda r: r[1].text, "long"),
        exports.Column(_l("Critical"), lambda r: _("Yes") if r[1].critical else ""),
        exports.Column(_l("Failed"), lambda r: r[1].need.fail, "int"),
        exports.Column(_l("Partly met"), lambda r: r[1].need.partial, "int"),
        exports.Column(_l("Share of evaluations"), lambda r: r[1].need.share, "percent"),
        exports.Column(_l("Units where it reached 20 %"), lambda r: r[1].need.reach, "int"),
        exports.Column(
            _l("Those units"), lambda r: "; ".join(u.name for u in r[1].reached), "long"
        ),
        exports.Column(_l("From"), lambda r: period.start, "date"),
        exports.Column(_l("To"), lambda r: period.end, "date"),
    ]


@bp.get("/training.<any(csv, xlsx):fmt>")
@login_required
def export(fmt: str) -> ResponseReturnValue:
    """The whole ranked list, for the province's annual training plan."""
    _require()
    context, errors = _context()
    if errors:
        return render_template("training/index.html", **context), 422
    period, unit = context["period"], context["unit"]
    when = _(
        "Period: %(start)s – %(end)s",
        start=f"{period.start:%d/%m/%Y}",
        end=f"{period.end:%d/%m/%Y}",
    )
    heading = exports.Heading(_("What the next training should cover"), unit.name, [when])
    name = exports.file_name(
        "training", unit.code, period.start.isoformat(), period.end.isoformat()
    )
    rows = list(enumerate(context["rows"], start=1))
    return exports.response(fmt, _columns(period), rows, name, "Tập huấn", heading)


def category_labels(unit: Unit) -> dict[str, str]:
    """Every difficulty category of the unit's province, in words."""
    province = difficulty_queries.province_of(unit)
    return {
        code: category_label(code, label)
        for code, label in difficulty_queries.every_label(province)
    }


def _category_columns(period: periods.Period, labels: dict[str, str]) -> list[exports.Column]:
    return [
        exports.Column(_l("Rank"), lambda r: r[0], "int"),
        exports.Column(_l("Category"), lambda r: labels.get(r[1].code, r[1].code)),
        exports.Column(_l("Difficulties raised"), lambda r: r[1].raised, "int"),
        exports.Column(_l("Units that raised it"), lambda r: len(r[1].by_child), "int"),
        exports.Column(_l("From"), lambda r: period.start, "date"),
        exports.Column(_l("To"), lambda r: period.end, "date"),
    ]


@bp.get("/training/difficulties.<any(csv, xlsx):fmt>")
@login_required
def export_difficulties(fmt: str) -> ResponseReturnValue:
    """The difficulty categories raised in the period, most raised first."""
    _require()
    context, errors = _context()
    if errors:
        return render_template("training/index.html", **context), 422
    period, unit = context["period"], context["unit"]
    heading = exports.Heading(_("Difficulties raised, by category"), unit.name)
    name = exports.file_name(
        "training-difficulties", unit.code, period.start.isoformat(), period.end.isoformat()
    )
    rows = list(enumerate(context["categories"], start=1))
    columns = _category_columns(period, context["category_labels"])
    return exports.response(fmt, columns, rows, name, "Khó khăn", heading)


@bp.get("/training/difficulties")
@login_required
def difficulty_evidence() -> ResponseReturnValue:
    """The difficulties of one category raised in the period in one unit's area."""
    _require()
    errors: Errors = {}
    unit = unit_arg(errors)
    period = _period(errors)
    code = request.args.get("category", "").strip()
    labels = category_labels(unit)
    if code not in labels:
        abort(404, description=_("This category does not exist."))
    result = queries.difficulty_evidence(unit, code, period, page_arg())
    return render_template(
        "training/difficulties.html",
        unit=unit,
        period=period,
        label=labels[code],
        result=result,
        errors=errors,
        args={"unit": unit.id, "category": code, "from": period.start.isoformat(),
              "to": period.end.isoformat()},
    ), 422 if errors else 200  # fmt: skip


@bp.get("/training/evidence")
@login_required
def evidence() -> ResponseReturnValue:
    """The evaluations behind one item of the plan, in one unit's area."""
    _require()
    errors: Errors = {}
    unit = unit_arg(errors)
    period = _period(errors)
    code = request.args.get("item", "").strip()
    template = current_template(unit)
    spec = template.item(code) if template and len(code) <= 10 else None
    if spec is None:
        abort(404, description=_("This checklist item does not exist."))
    result = queries.evidence(unit, code, period, page_arg())
    return render_template(
        "training/evidence.html",
        unit=unit,
        period=period,
        item=spec,
        text=spec.text(str(get_locale())),
        result=result,
        errors=errors,
        args={"unit": unit.id, "item": code, "from": period.start.isoformat(),
              "to": period.end.isoformat()},
    ), 422 if errors else 200  # fmt: skip
