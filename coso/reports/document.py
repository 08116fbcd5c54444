"""The report as a Word document (python-docx), in the reader's language (Vietnamese by default).

Headings and sentences for a document the province files; every table is the figures of a
page (see :mod:`coso.reports.queries`), one row per unit or cadre, the total last. The
compliance chart is drawn as a table of bars (no chart library in the app): one row per
child unit, the rate and a bar of ``█`` whose length is the rate.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

from coso.dashboard.words import kind_label
from coso.i18n import fmt_number, fmt_percent
from coso.i18n import gettext as _
from coso.reports.queries import Report
from coso.reports.rules import H1, H2

#: A full bar (100 %) in the chart's table, in characters.
BAR = 25


def period_name(report: Report) -> str:
    year = report.when.year
    if report.when.part == H1:
        return _("First half of %(year)s", year=year)
    if report.when.part == H2:
        return _("Second half of %(year)s", year=year)
    return _("Year %(year)s", year=year)


def _percent(value: float | None) -> str:
    return fmt_percent(value) if value is not None else "–"


def bar(value: float | None) -> str:
    """A rate as a bar of ``█`` (``BAR`` long at 100 %)."""
    return "█" * round((value or 0) * BAR)


def _table(doc: Any, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> Any:
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = ""
        run = cell.paragraphs[0].add_run(str(text))
        run.bold = True
    for values in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, values, strict=True):
            cell.text = "" if value is None else str(value)
    return table


def _unit_name(unit: Any, fallback: str) -> str:
    return unit.name if unit is not None else fallback


def build(report: Report, made: datetime, author: str) -> bytes:
    """The ``.docx`` file of ``report``."""
    doc = Document()
    everything = _("All of %(unit)s", unit=report.unit.name)
    style = doc.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(12)
    period = report.period
    title = doc.add_heading(_("Report on branch meetings"), level=0)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_paragraph(
        _(
            "%(unit)s — %(period)s (%(start)s – %(end)s)",
            unit=report.unit.name,
            period=period_name(report),
            start=f"{period.start:%d/%m/%Y}",
            end=f"{period.end:%d/%m/%Y}",
        )
    )
    doc.add_paragraph(
        _("Made on %(when)s by %(who)s, with coso.", when=f"{made:%d/%m/%Y %H:%M}", who=author)
    )
    if report.as_of < period.end:
        doc.add_paragraph(
            _("The period is not over: figures as of %(day)s.", day=f"{report.as_of:%d/%m/%Y}")
        )

    # 1. Evaluations and compliance by child unit.
    total = report.total
    doc.add_heading(_("1. Evaluations and compliance by unit"), level=1)
    doc.add_paragraph(
        _(
            "Compliance rate: %(rate)s of %(n)s evaluations; %(evaluated)s of %(branches)s "
            "branches evaluated.",
            rate=_percent(total.rate),
            n=total.evaluations,
            evaluated=total.evaluated,
            branches=total.branches,
        )
    )
    rows = [
        (
            _unit_name(r.unit, ""),
            r.branches,
            r.evaluated,
            _percent(r.coverage),
            r.evaluations,
            r.compliant,
            _percent(r.rate),
        )
        for r in report.rates
    ]
    rows.append(
        (
            everything,
            total.branches,
            total.evaluated,
            _percent(total.coverage),
            total.evaluations,
            total.compliant,
            _percent(total.rate),
        )
    )
    _table(
        doc,
        [
            _("Unit"),
            _("Branches"),
            _("Branches evaluated"),
            _("Coverage"),
            _("Evaluations"),
            _("Compliant"),
            _("Compliance rate"),
        ],
        rows,
    )
    doc.add_paragraph(_("Compliance rate by unit, weakest first:"))
    chart = _table(
        doc,
        [_("Unit"), _("Compliance rate"), ""],
        [(_unit_name(r.unit, ""), _percent(r.rate), bar(r.rate)) for r in report.rates],
    )
    for row in chart.rows[1:]:
        for run in row.cells[2].paragraphs[0].runs:
            run.font.size = Pt(8)

    # 2. The items that fail most.
    doc.add_heading(_("2. Items failed most often"), level=1)
    if report.items:
        _table(
            doc,
            [_("Code"), _("Item"), _("Failed"), _("Partly met"), _("Share of evaluations")],
            [(i.code, i.text, i.fail, i.partial, _percent(i.share)) for i in report.items],
        )
    else:
        doc.add_paragraph(_("No item failed in this period."))

    # 3. Days at the grassroots against the target.
    doc.add_heading(_("3. Days at the grassroots against the target"), level=1)
    doc.add_paragraph(
        _(
            "Each cadre's days at the grassroots in the period, against the yearly target's "
            "share of the period."
        )
    )
    if report.cadres:
        _table(
            doc,
            [_("Cadre"), _("Unit"), _("Days"), _("Target"), _("Share of the target")],
            [
                (c.name, c.unit, c.days, fmt_number(c.target), _percent(c.share))
                for c in report.cadres
            ],
        )
    else:
        doc.add_paragraph(_("No cadre goes to the grassroots from this unit."))

    # 4. Plans against done.
    doc.add_heading(_("4. Visit plans against done"), level=1)
    plan_header = [
        _("Commune"),
        _("Planned"),
        _("Done"),
        _("Missed"),
        _("Upcoming"),
        _("Re-planned"),
        _("Unplanned visits"),
    ]

    def tally(name: str, t: Any) -> tuple[Any, ...]:
        return (name, t.planned, t.done, t.missed, t.upcoming, t.replanned, t.unplanned)

    plan_rows = [tally(_unit_name(u, _("Above the communes")), t) for u, t in report.plans_by_area]
    plan_rows.append(tally(everything, report.plans))
    _table(doc, plan_header, plan_rows)

    # 5. Corrective actions.
    doc.add_heading(_("5. Corrective actions"), level=1)
    a = report.actions_total
    action_rows = [
        (_unit_name(c.unit, ""), c.opened, c.closed, c.open_at_end) for c in report.actions
    ]
    action_rows.append((everything, a.opened, a.closed, a.open_at_end))
    _table(
        doc,
        [_("Unit"), _("Opened"), _("Closed (done)"), _("Open at the end of the period")],
        action_rows,
    )

    # 6. Good practices.
    doc.add_heading(_("6. Good practices recommended for spreading"), level=1)
    doc.add_paragraph(
        _("%(n)s good practices recommended in the period.", n=report.practices_count)
    )
    if report.practices:
        _table(
            doc,
            [_("Branch"), _("Parent unit"), _("Meeting date"), _("Good practice")],
            [(p.branch, p.parent, f"{p.meeting_date:%d/%m/%Y}", p.text) for p in report.practices],
        )

    # 7. Secretaries.
    doc.add_heading(_("7. Branch secretaries"), level=1)
    doc.add_paragraph(
        _(
            "Party members among the secretaries, and secretaries who changed in the 12 months "
            "to %(day)s.",
            day=f"{report.as_of:%d/%m/%Y}",
        )
    )
    s = report.secretaries_total
    sec_rows = [
        (
            f"{c.unit.name} ({kind_label(c.unit.kind)})",
            c.branches,
            c.party_secretaries,
            _percent(c.party_share),
            c.secretary_changes,
        )
        for c in report.secretaries
    ]
    sec_rows.append(
        (everything, s.branches, s.party_secretaries, _percent(s.party_share), s.secretary_changes)
    )
    _table(
        doc,
        [
            _("Unit"),
            _("Branches"),
            _("Party-member secretaries"),
            _("Party-member share"),
            _("Secretary changes"),
        ],
        sec_rows,
    )

    # 8. Difficulties and proposals.
    doc.add_heading(_("8. Difficulties and proposals"), level=1)
    if report.difficulties:
        total = [sum(getattr(c, f) for _n, c in report.difficulties)
                 for f in ("raised", "answered", "closed", "open_at_end")]  # fmt: skip
        _table(
            doc,
            [_("Category"), _("Raised"), _("Answered"), _("Closed"),
             _("Open at the end of the period")],
            [*((name, c.raised, c.answered, c.closed, c.open_at_end)
               for name, c in report.difficulties), (everything, *total)],
        )  # fmt: skip
    else:
        doc.add_paragraph(_("No difficulty was raised or open in this period."))
    t = report.difficulty_times
    if t is not None and (t.answered or t.resolved):
        doc.add_paragraph(
            _(
                "Days to the first answer: median %(median)s, 90th percentile %(p90)s (%(n)s"
                " answered in the period).",
                median=fmt_number(t.answer_median),
                p90=fmt_number(t.answer_p90),
                n=t.answered,
            )
        )
        doc.add_paragraph(
            _(
                "Days to resolve: median %(median)s, 90th percentile %(p90)s (%(n)s closed in"
                " the period).",
                median=fmt_number(t.resolve_median),
                p90=fmt_number(t.resolve_p90),
                n=t.resolved,
            )
        )
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
