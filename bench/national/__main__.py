"""``python -m bench.national`` (``make bench-national``): the national scale on PostgreSQL.

Generates (or finds cached) ``coso_bench_national`` and its ×4 copy (``generate``), times
the pages at the server on each (``measure``), prints every figure with its target and
ratio as ``make bench`` does, and exits 1 when a target is missed. See bench/README.md.

Environment: ``BENCH_NATIONAL_PROVINCES`` / ``_BRANCHES`` / ``_EVALUATIONS`` (sizes,
default 34 / 250,000 / 3,000,000), ``BENCH_NATIONAL_FORCE=1`` (regenerate),
``BENCH_NATIONAL_X4=0`` (skip the ×4 database), ``BENCH_NATIONAL_EXPORT_X4=1`` (export on
the ×4 database too), ``BENCH_NATIONAL_ROUNDS`` / ``_SAMPLES`` / ``_WARMUP``.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from typing import Any

from bench.common import Figure, Report, cpu_baseline, postgres_available, section, summary_table
from bench.national import generate, measure

TARGET_GROWTH = 1.20
TARGET_PACK_KB = 150.0
TARGET_RSS_MB = 100.0
TARGET_TRACED_MB = 50.0
BENCH = "national"


def pages(info: dict[str, Any], central: bool) -> list[measure.Page]:
    """The measured pages (``central``: the /national route exists)."""
    out = [
        measure.Page("province: flagged list", "province", "/dashboard", 50.0),
        measure.Page(
            "province: one commune's list", "province", f"/dashboard?unit={info['commune']}", 50.0
        ),
        measure.Page("province: where to act", "province", "/dashboard/where", 150.0),
    ]
    if central:
        out += [
            measure.Page("central: roll-up per province", "central", "/national", 300.0),
            measure.Page(
                "central: a province's list", "central", f"/dashboard?unit={info['province']}", 50.0
            ),
        ]
    out += [
        measure.Page("cadre: field pack, a commune", "cadre", "/api/v1/field-pack", 30.0),
        measure.Page(
            f"cadre: field pack, a province ({info['small_branches']:,} branches)",
            "cadre-province",
            "/api/v1/field-pack",
            200.0,
        ),
        measure.Page("secretary: feedback, a branch", "secretary", "/feedback", 30.0),
        measure.Page("secretary: feedback, a commune", "commune", "/feedback", 30.0),
        measure.Page("healthz", "province", "/healthz", None),
    ]
    return out


def export_path(info: dict[str, Any]) -> str:
    """The measured province's answers of the year before the data's day, as CSV."""
    last = date.fromisoformat(info["as_of"]) - timedelta(days=1)
    first = last - timedelta(days=364)
    return f"/exports/{info['province']}/answers.csv?from={first.isoformat()}&to={last.isoformat()}"


def run_scale(
    info: dict[str, Any], name: str, label: str, report: Report, export: bool
) -> list[measure.Page]:
    from bench.dashboard import logged_in

    url = generate.sqlalchemy_url(name)
    app = measure.make_app(url, info["as_of"])
    central = measure.route_exists(app, "/national")
    measured = pages(info, central)
    wanted = os.environ.get("BENCH_NATIONAL_PAGES", "")
    if wanted:  # a quick look at some pages: names containing any of the comma-separated words
        words = [w.strip() for w in wanted.split(",") if w.strip()]
        measured = [p for p in measured if p.target is None or any(w in p.name for w in words)]
    if not central:
        report.add(Figure(BENCH, f"{label}: /national", [], "ms", skipped="no central role yet"))
    clients: dict[str, Any] = {}
    for page in measured:
        if page.username not in clients:
            clients[page.username] = logged_in(app, page.username)
    measure.freeze()
    with_sizes = f"{label}: {info['counts']['evaluation']:,} evaluations"
    section(f"{with_sizes}: {measure.ROUNDS} rounds of {measure.SAMPLES} requests per page")
    measure.time_pages(clients, measured)
    base = statistics.median(p50 for p50, _ in measured[-1].rounds)
    for page in measured:
        if page.target is None:
            continue
        figure = report.add(
            Figure(
                BENCH,
                f"{label}: {page.name} p95",
                [p95 for _, p95 in page.rounds],
                "ms",
                target=page.target,
                baseline=base,
                baseline_name="/healthz p50",
                note=f"p50 {statistics.median(p50 for p50, _ in page.rounds):.1f} ms",
            )
        )
        print(f"      p50 per round: {', '.join(f'{p:.1f}' for p, _ in page.rounds)}")
        if figure.met is False:
            print(measure.explain_page(app, clients[page.username], page, label), flush=True)
    if label == "×1" and "cadre-province" in clients:
        for username, what in (("cadre", "a commune"), ("cadre-province", "a province")):
            if username not in clients:
                continue
            sizes = measure.body_sizes(clients[username], "/api/v1/field-pack")
            for encoding in ("sent br", "gzip 6"):
                report.add(
                    Figure(
                        BENCH,
                        f"{label}: field pack of {what}, {encoding}",
                        [sizes[encoding] / 1024],
                        "KB",
                        target=TARGET_PACK_KB if username == "cadre-province" else None,
                        baseline=sizes["json"] / 1024,
                        baseline_name="as JSON",
                    )
                )
            print("      sizes: " + ", ".join(f"{k} {v / 1024:.1f} KB" for k, v in sizes.items()))
    with app.app_context():
        from coso.extensions import db

        db.session.remove()
        db.engine.dispose()
    if export and os.environ.get("BENCH_NATIONAL_EXPORT", "1") != "0":
        run_export(info, url, label, report)
    return measured


def run_export(info: dict[str, Any], url: str, label: str, report: Report) -> None:
    from bench.exports import measure as export_measure

    path = export_path(info)
    print(f"  export {path} (a subprocess each run)", flush=True)
    timed = export_measure(url, path)
    traced = export_measure(url, path, trace=True)
    rows = timed["lines"] - 1
    note = f"{timed['bytes'] / 2**20:.1f} MB, {rows:,} rows"
    print(f"    {note}", flush=True)
    report.add(
        Figure(
            BENCH,
            f"{label}: answers CSV of a province-year, time",
            [timed["seconds"]],
            "s",
            note=note,
        )
    )
    report.add(
        Figure(
            BENCH,
            f"{label}: answers CSV, peak RSS growth",
            [timed["rss_mb"]],
            "MB",
            target=TARGET_RSS_MB,
            note=f"process peak {timed['peak_mb']:.0f} MB",
        )
    )
    report.add(
        Figure(
            BENCH,
            f"{label}: answers CSV, tracemalloc peak",
            [traced["traced_mb"]],
            "MB",
            target=TARGET_TRACED_MB,
        )
    )


def growth(first: list[measure.Page], grown: list[measure.Page], report: Report) -> None:
    """Each page's p50 at ×4 over its p50 at ×1, each relative to the same round's /healthz."""
    h1, h4 = first[-1].rounds, grown[-1].rounds  # /healthz is always measured, last
    for before, after in zip(first, grown, strict=True):
        if before.target is None:
            continue
        ratio_1 = statistics.median(p / h for (p, _), (h, _) in zip(before.rounds, h1, strict=True))
        # Beside it, the p50s as measured: /healthz is a millisecond or two, so a load spike in
        # its rounds moves the relative figure more than the page's own time does.
        plain_1 = statistics.median(p for p, _ in before.rounds)
        plain_4 = statistics.median(p for p, _ in after.rounds)
        report.add(
            Figure(
                BENCH,
                f"{before.name}: p50 growth ×1 → ×4",
                [p / h / ratio_1 for (p, _), (h, _) in zip(after.rounds, h4, strict=True)],
                "×",
                target=TARGET_GROWTH,
                decimals=2,
                note=(
                    "each p50 over the same round's /healthz p50; as measured "
                    f"{plain_1:.1f} → {plain_4:.1f} ms = {plain_4 / plain_1:.2f}×"
                ),
            )
        )


def main() -> int:
    sizes = generate.Sizes.from_env()
    force = os.environ.get("BENCH_NATIONAL_FORCE", "") == "1"
    with_x4 = os.environ.get("BENCH_NATIONAL_X4", "1") != "0"
    export_x4 = os.environ.get("BENCH_NATIONAL_EXPORT_X4", "") == "1"
    started = time.perf_counter()
    cpu = cpu_baseline()
    load = os.getloadavg()[0]
    print(
        f"coso national benchmark — {datetime.now():%Y-%m-%d %H:%M} on {platform.node()} "
        f"({os.cpu_count()} cores, load {load:.2f}); CPU baseline {cpu:.0f} ms\n"
        f"  {generate.estimate(sizes)}",
        flush=True,
    )
    why = postgres_available()
    if why:
        print(f"  not run — {why}")
        return 1
    report = Report()
    databases = generate.ensure(sizes, force=force, x4=with_x4)
    base = next(databases)
    report.add(
        Figure(BENCH, "generation of ×1 (COPY + INSERT … SELECT)", [base["seconds"]], "s",
               note=str(base["counts"]), decimals=0)
    )  # fmt: skip
    print(
        f"  measured: province {base['province']} ({base['province_branches']:,} branches), "
        f"commune {base['commune']} ({base['commune_branches']} branches), "
        f"3,000-branch province {base['small_province']}",
        flush=True,
    )
    if "--generate-only" in sys.argv:
        if with_x4:
            next(databases)
        return 0
    first = run_scale(base, generate.DB_NAME, "×1", report, export=True)
    if with_x4:
        grown_info = next(databases)
        report.add(
            Figure(BENCH, "generation of ×4 (TEMPLATE copy + INSERT … SELECT)",
                   [grown_info["seconds"]], "s", note=str(grown_info["counts"]), decimals=0)
        )  # fmt: skip
        grown = run_scale(grown_info, generate.X4_NAME, "×4", report, export=export_x4)
        growth(first, grown, report)
    elapsed = time.perf_counter() - started
    print(f"\n== summary ({elapsed / 60:.1f} min, CPU baseline {cpu:.0f} ms) ==")
    print(summary_table(report.figures))
    missed = [f for f in report.figures if f.met is False]
    print(
        f"\n{len([f for f in report.figures if f.met])} targets met, {len(missed)} missed, "
        f"{len([f for f in report.figures if f.skipped])} not run."
    )
    if measure.EXPLAIN_FILE.exists():
        print(f"EXPLAIN of the misses: {measure.EXPLAIN_FILE}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
