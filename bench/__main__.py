"""``python -m bench [NAME ...]``: run the benchmarks (all, or those named), print a summary."""

from __future__ import annotations

import importlib
import os
import platform
import sys
import time
from datetime import datetime

from bench.common import Report, cpu_baseline, summary_table

BENCHMARKS = (
    "ingest",
    "dashboard",
    "exports",
    "page_weight",
    "drain",
    "weak_link",
    "offline_search",
    "lighthouse",
    "field_pack",
)


def main(argv: list[str]) -> int:
    names = argv or list(BENCHMARKS)
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
        return 2
    os.environ.setdefault("PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS", "1")
    started = time.perf_counter()
    cpu = cpu_baseline()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"coso benchmarks — {datetime.now():%Y-%m-%d %H:%M} on {platform.node()} "
        f"({os.cpu_count()} cores, {platform.python_implementation()} "
        f"{platform.python_version()}, load {load:.2f})\n"
        f"CPU baseline: 2,000 scorings in {cpu:.0f} ms (median of 5; lower is a faster machine)",
        flush=True,
    )
    report = Report()
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        module.run(report)
    elapsed = time.perf_counter() - started
    print(f"\n== summary ({elapsed / 60:.1f} min, CPU baseline {cpu:.0f} ms) ==")
    print(summary_table(report.figures))
    missed = [f for f in report.figures if f.met is False]
    not_run = [f for f in report.figures if f.skipped]
    print(
        f"\n{len([f for f in report.figures if f.met])} targets met, {len(missed)} missed, "
        f"{len(not_run)} not run."
    )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
