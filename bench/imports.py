"""``python bench/imports.py [TREE ...]``: seconds and memory to read (or refuse) huge uploads.

Issue 17, item 5: a 333 KB users XLSX of 500,000 rows took 42 s, a units file 85 s and
+100 MB, because the whole sheet was read before the row limit was looked at. This
reads such files with the import's own ``read_rows`` of each source tree given (default:
this one; give the tree of ``main`` before the change to compare) and prints, per file,
the seconds and the process's peak memory (``VmHWM``, Linux) above what it held
before the read, and the peak itself.

Each read runs in a fresh interpreter, so one case's memory never hides another's.
The files are built once, here, with ``tests/sheet_files.py``. Not part of ``make bench``:
the tests (``tests/test_hostile_imports.py``) hold the behaviour, this only measures it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

UNITS = (["code", "name", "kind", "parent_code"], ["CD-1", "Chi đoàn", "branch", "XA-A"])
USERS = (["username", "display_name", "roles", "unit_code"], ["an_van", "An", "cadre", "XA-A"])

#: What one case runs in its own interpreter: read the file, report seconds and memory.
PROBE = """
import io, json, sys, time
from app import create_app


def peak_mb():
    # VmHWM is this process's own peak (ru_maxrss would carry the parent's over the fork).
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


module, path = sys.argv[1], sys.argv[2]
app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
import importlib
read_rows = importlib.import_module(module).read_rows
import openpyxl  # loaded before the baseline, as in a worker that served one upload already
data = open(path, "rb").read()
with app.test_request_context():
    before = peak_mb()
    start = time.perf_counter()
    try:
        rows = read_rows(path.rsplit("/", 1)[-1], io.BytesIO(data))
        outcome = f"read {len(rows)} rows"
    except Exception as exc:  # the old code's error class lived elsewhere
        outcome = f"refused: {exc}"
    seconds = time.perf_counter() - start
    after = peak_mb()
print(json.dumps({"s": seconds, "mb": after - before, "peak": after, "outcome": outcome}))
"""


def files(folder: Path) -> list[tuple[str, str, Path]]:
    """(label, import module, file) for every case, written into ``folder``."""
    from tests.sheet_files import csv_of, xlsx_of

    cases = [
        ("units XLSX, 500,000 rows", "coso.units.imports", "units.xlsx", xlsx_of(*UNITS, 500_000)),
        (
            "units XLSX, 500,000 rows, no dimension",
            "coso.units.imports",
            "units-nodim.xlsx",
            xlsx_of(*UNITS, 500_000, dimension=None),
        ),
        (
            "units XLSX, 30,000 rows, no dimension",
            "coso.units.imports",
            "units-30k.xlsx",
            xlsx_of(*UNITS, 30_000, dimension=None),
        ),
        (
            "units XLSX, 30,000 rows, dimension lies (A1:D3)",
            "coso.units.imports",
            "units-lie.xlsx",
            xlsx_of(*UNITS, 30_000, dimension="A1:D3"),
        ),
        ("users XLSX, 500,000 rows", "coso.users.imports", "users.xlsx", xlsx_of(*USERS, 500_000)),
        ("units CSV, 500,000 rows", "coso.units.imports", "units.csv", csv_of(*UNITS, 500_000)),
        ("users CSV, 500,000 rows", "coso.users.imports", "users.csv", csv_of(*USERS, 500_000)),
    ]
    out = []
    for label, module, name, data in cases:
        path = folder / name
        path.write_bytes(data)
        out.append((f"{label} ({len(data) // 1024} KB)", module, path))
    return out


def measure(tree: Path, module: str, path: Path) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    result = subprocess.run(
        [sys.executable, "-c", PROBE, module, str(path)],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if result.returncode:
        return {
            "s": float("nan"),
            "mb": float("nan"),
            "peak": float("nan"),
            "outcome": result.stderr.strip()[-200:],
        }
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(trees: list[str]) -> int:
    roots = [Path(t).resolve() for t in trees] or [ROOT]
    with tempfile.TemporaryDirectory(prefix="coso-bench-imports-") as tmp:
        cases = files(Path(tmp))
        for tree in roots:
            print(f"\n== {tree}")
            for label, module, path in cases:
                got = measure(tree, module, path)
                print(
                    f"{label:<55} {got['s']:7.2f} s {got['mb']:+7.1f} MB"
                    f" (peak {got['peak']:5.0f} MB)  {got['outcome']}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
