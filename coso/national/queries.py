"""The national roll-up's reads: every province's figures in a few grouped queries.

Each query is one of the province pages' own reads (the dashboard's state counts,
where to act's rates and failing items, the 1+2 ledger), joined once to the province a
row lies under and grouped by it: a province is a path range (``subtree_of``), so the
join is one indexed range per province, never a query per province. Four grouped
queries (states; rates and trend; failing items; those who go out) and one read of the
visits of the year answer the whole country.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from coso.checklists.queries import current_templates
from coso.dashboard.rules import Period, months_ending
from coso.evaluations.queries import not_superseded
from coso.extensions import db
from coso.judging.queries import Thresholds
from coso.models import (
    BranchStatus,
    Evaluation,
    EvaluationAnswer,
    Unit,
    User,
    Visit,
    VisitDayTally,
)
from coso.models.evaluations import FAILING_ANSWER
from coso.national.rules import TREND_MONTHS, Item, Ledger, MonthRate, ProvinceRow, top_items
from coso.tallies import queries as tallies
from coso.visits.queries import year_spans
from coso.visits.rules import GOING_ROLES, GOING_SECRETARY, count_visit_days, goes_out, is_behind

#: The province a row lies under (an alias of ``Unit``), joined by :func:`_under_province`.
Province = aliased(Unit, name="province")


def provinces(top: Unit) -> list[Unit]:
    """The active units right under the Central Committee's ``top`` (its provinces), by name."""
    return list(
        db.session.scalars(
            sa.select(Unit)
            .where(Unit.parent_id == top.id, Unit.active.is_(True), Unit.kind != "branch")
            .order_by(Unit.name, Unit.id)
        )
    )


def _under_province(top: Unit) -> sa.ColumnElement[bool]:
    """``Unit`` lies in the subtree of ``Province``, a unit right under ``top``.

    The same path range as :func:`coso.models.units.subtree_of`, written against the
    joined row: ``/1/5/`` ≤ path < ``/1/50``.
    """
    upper = sa.func.substr(Province.path, 1, sa.func.length(Province.path) - 1, type_=sa.String)
    return sa.and_(
        Province.parent_id == top.id,
        Province.active.is_(True),
        Province.kind != "branch",
        Unit.path >= Province.path,
        Unit.path < upper.concat("0"),
    )


def _active_branches() -> sa.ColumnElement[bool]:
    return sa.and_(Unit.kind == "branch", Unit.active.is_(True))


def _province_of_units(top: Unit, provinces: set[int]) -> dict[int, int]:
    """Each unit above the branches under ``top`` mapped to the province it lies in (read
    from its path; the partial index ``ix_unit_path_above_branches`` holds just them)."""
    out = {}
    for unit_id, path in db.session.execute(
        sa.select(Unit.id, Unit.path).where(top.subtree_clause(), sa.text("unit.kind <> 'branch'"))
    ):
        chain = path.strip("/").split("/")
        if len(chain) > top.depth + 1 and int(chain[top.depth + 1]) in provinces:
            out[unit_id] = int(chain[top.depth + 1])
    return out


def state_counts(
    top: Unit, today: date, resolved: Thresholds, province_of: dict[int, int]
) -> dict[int, dict[str, int]]:
    """Active branches per province and effective state (the dashboard's counts).

    Counted per parent in one pass over the branches and their flag rows (no join to the
    provinces: 250,000 path ranges would cost more than the count), then summed per
    province through ``province_of`` (each unit above the branches and its province).
    """
    state = resolved.state_expr(today)
    rows = db.session.execute(
        sa.select(Unit.parent_id, state, sa.func.count())
        .select_from(Unit)
        .outerjoin(BranchStatus, BranchStatus.branch_id == Unit.id)
        .where(_active_branches(), top.subtree_clause())
        .group_by(Unit.parent_id, state)
    ).all()
    out: dict[int, dict[str, int]] = defaultdict(dict)
    for parent_id, name, count in rows:
        province_id = province_of.get(parent_id)
        if province_id is not None:
            out[province_id][name] = out[province_id].get(name, 0) + count
    return out


def _between(start: date, end: date) -> sa.ColumnElement[bool]:
    return sa.and_(Evaluation.meeting_date >= start, Evaluation.meeting_date <= end)


def _label(month: Period) -> str:
    return f"{month.start.month:02d}/{month.start.year % 100:02d}"


def _in_provinces(top: Unit) -> tallies.Scope:
    return lambda select: select.join(Province, _under_province(top))


def _period_from_evaluations(top: Unit, period: Period) -> dict[int, tuple[int, int, int]]:
    """A period that is not one month: its evaluations counted one by one (the distinct
    branches of several months are not a sum of months)."""
    ok = Evaluation.compliant.is_(True)
    rows = db.session.execute(
        sa.select(
            Province.id,
            sa.func.count(),
            sa.func.sum(sa.case((ok, 1), else_=0)),
            sa.func.count(sa.distinct(Evaluation.branch_id)),
        )
        .select_from(Evaluation)
        .join(Unit, Unit.id == Evaluation.branch_id)
        .join(Province, _under_province(top))
        .where(_active_branches(), _between(period.start, period.end), not_superseded())
        .group_by(Province.id)
    ).all()
    return {p: (int(n or 0), int(c or 0), int(b or 0)) for p, n, c, b in rows}


def rates(top: Unit, period: Period) -> dict[int, tuple[int, int, int, list[MonthRate]]]:
    """Per province: the period's evaluations, compliant ones, branches evaluated, and the
    compliance of each month of the trend (:data:`TREND_MONTHS` ending with the period's).

    Where to act's rates (only evaluations still standing, of active branches), read from
    the months' tallies (``evaluation_tally``, a row per commune and month): the trend
    always, the period when it is one calendar month. Any other period's figures are
    counted from its evaluations.
    """
    months = months_ending(period.end, TREND_MONTHS)
    one_month = tallies.one_month(period.start, period.end)
    per_month: dict[int, dict[date, tuple[int, int, int]]] = defaultdict(dict)
    rows = tallies.month_sums(months[0].start, period.end, [Province.id], _in_provinces(top))
    for province_id, month, count, compliant, branches in rows:
        per_month[province_id][month] = (int(count or 0), int(compliant or 0), int(branches or 0))
    in_period = (
        {p: by_month.get(period.start, (0, 0, 0)) for p, by_month in per_month.items()}
        if one_month
        else _period_from_evaluations(top, period)
    )
    out = {}
    for province_id in set(per_month) | set(in_period):
        by_month = per_month.get(province_id, {})
        trend = [MonthRate(_label(m), *by_month.get(m.start, (0, 0, 0))[:2]) for m in months]
        count, compliant, evaluated = in_period.get(province_id, (0, 0, 0))
        out[province_id] = (count, compliant, evaluated, trend)
    return out


def failing(top: Unit, period: Period) -> dict[int, dict[str, Item]]:
    """Per province, each checklist item's fails and partial passes over the period.

    From ``answer_tally`` when the period is whole months; any other period's answers are
    counted one by one.
    """
    out: dict[int, dict[str, Item]] = defaultdict(dict)
    if tallies.whole_months(period.start, period.end):
        sums = tallies.item_sums(period.start, period.end, [Province.id], _in_provinces(top))
        for province_id, code, fail, partial in sums:
            out[province_id][code] = Item(code, fail=int(fail or 0), partial=int(partial or 0))
        return out
    rows = db.session.execute(
        sa.select(Province.id, EvaluationAnswer.item_code, EvaluationAnswer.value, sa.func.count())
        .select_from(EvaluationAnswer)
        .join(Evaluation, Evaluation.id == EvaluationAnswer.evaluation_id)
        .join(Unit, Unit.id == Evaluation.branch_id)
        .join(Province, _under_province(top))
        .where(
            _active_branches(),
            _between(period.start, period.end),
            not_superseded(),
            sa.text(f"evaluation_answer.{FAILING_ANSWER}"),
        )
        .group_by(Province.id, EvaluationAnswer.item_code, EvaluationAnswer.value)
    ).all()
    for province_id, code, value, count in rows:
        item = out[province_id].setdefault(code, Item(code))
        if value == "fail":
            item.fail += count
        else:
            item.partial += count
    return out


def ledgers(
    top: Unit, year: int, today: date, resolved: Thresholds, provinces: set[int]
) -> dict[int, Ledger]:
    """The 1+2 ledger per province (of ``provinces``): who goes out (``visits.rules.goes_out``),
    their days in ``year`` (distinct dates, ``count_visit_days``) and who is behind the pace
    or at target.

    Those who go out are read in one query (a branch's own secretary never goes: filtered in
    SQL, the country's 250,000 of them are never read); their province is read from their
    unit's path. One-day visits (most are) are counted from ``visit_day_tally`` (a row per
    person and date); only the people with a visit of several days have their visits read
    and counted in Python, exactly as the ledger page counts them.
    """
    may_go = sa.or_(
        *(User.roles.like(f"%{role}%") for role in GOING_ROLES),
        sa.and_(User.roles.like(f"%{GOING_SECRETARY}%"), Unit.kind != "branch"),
    )
    base = (
        sa.select(User.id, User.roles, Unit.kind, Unit.path)
        .join(Unit, Unit.id == User.unit_id)
        .where(User.active.is_(True), may_go, top.subtree_clause())
    )
    # Two index reads instead of a pass over every user: the few thousand who hold another
    # role than a secretary's (``ix_user_unit_not_only_secretary``), and the secretaries of
    # the units above the branches (``ix_unit_path_above_branches``). The conditions are SQL
    # text, as the partial indexes say them: a bound parameter would hide them from the
    # planner's plan for any value.
    people = db.session.execute(
        sa.union_all(
            base.where(sa.text("\"user\".roles <> 'secretary'")),
            base.where(sa.text("\"user\".roles = 'secretary'"), tallies.ABOVE_BRANCHES),
        )
    ).all()
    goers: dict[int, tuple[str, int]] = {}
    for user_id, roles, kind, path in people:
        chain = path.strip("/").split("/")
        province_id = int(chain[top.depth + 1]) if len(chain) > top.depth + 1 else None
        if province_id in provinces and goes_out(roles.split(), kind):
            goers[user_id] = (path, province_id)
    first, last = date(year, 1, 1), date(year, 12, 31)
    days: dict[int, int] = {
        user_id: count
        for user_id, count in db.session.execute(
            sa.select(VisitDayTally.user_id, sa.func.count())
            .where(VisitDayTally.visits > 0, VisitDayTally.day >= first, VisitDayTally.day <= last)
            .group_by(VisitDayTally.user_id)
        )
        if user_id in goers
    }
    long_ones = sorted(
        set(
            db.session.scalars(
                sa.select(Visit.user_id)
                .where(Visit.start_date != Visit.end_date)
                .where(Visit.start_date <= last, Visit.end_date >= first)
                .distinct()
            )
        )
        & set(goers)
    )
    for user_id, spans in year_spans(long_ones, year).items():
        ranges = ((s.form, s.start_date, s.end_date) for s in spans)
        days[user_id] = count_visit_days(ranges, year).total
    out: dict[int, Ledger] = defaultdict(Ledger)
    for user_id, (path, province_id) in goers.items():
        target = resolved.at(path).visit_target
        count = days.get(user_id, 0)
        ledger = out[province_id]
        ledger.goers += 1
        ledger.days += count
        ledger.behind += int(is_behind(count, target, year, today))
        ledger.reached += int(count >= target)
    return out


def rollup(
    top: Unit, period: Period, year: int, today: date, resolved: Thresholds, locale: str
) -> list[ProvinceRow]:
    """Every province of ``top`` with its counts, rates, trend, failing items and ledger."""
    units = provinces(top)
    counts = state_counts(top, today, resolved, _province_of_units(top, {u.id for u in units}))
    period_rates = rates(top, period)
    items = failing(top, period)
    people = ledgers(top, year, today, resolved, {unit.id for unit in units})
    empty_trend = [MonthRate(_label(m)) for m in months_ending(period.end, TREND_MONTHS)]
    # The checklist that names each province's failing items: its own or the centre's.
    templates = current_templates(u for u in units if items.get(u.id))
    out = []
    for unit in units:
        row = ProvinceRow(unit)
        row.counts.update(counts.get(unit.id, {}))
        count, compliant, evaluated, trend = period_rates.get(unit.id, (0, 0, 0, empty_trend))
        row.evaluations, row.compliant, row.evaluated = count, compliant, evaluated
        row.trend = [MonthRate(m.label, m.evaluations, m.compliant) for m in trend]
        row.items = top_items(items.get(unit.id, {}))
        if row.items:
            template = templates[unit.id]
            for item in row.items:
                spec = template.item(item.code) if template is not None else None
                item.text = spec.text(locale) if spec else item.code
                item.critical = bool(spec and spec.critical)
        row.ledger = people.get(unit.id, Ledger())
        out.append(row)
    return out
